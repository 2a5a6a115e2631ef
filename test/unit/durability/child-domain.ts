/**
 * Real mail-domain processes for the crash tests: the sources of
 * services/core and services/mail-domain are compiled to a temporary
 * directory (the same CommonJS `npm run build` emits, so the test does not
 * depend on a fresh dist/) and `services/mail-domain/src/main.js` is
 * started with node exactly as `mail-lab up --local` starts it: a lab
 * definition on free loopback ports, its own data directory, no TLS. A
 * process is stopped with SIGKILL by its PID, nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { parseDocument } from 'yaml';
import { freePort, LAB_YAML } from '../helpers/test-lab';

const ROOT = join(__dirname, '../../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : f.endsWith('.ts') ? [p] : [];
  });
}

/** Compiles the mail-domain service (and core) into a new directory; returns it. */
export function buildMailDomain(): string {
  const out = mkdtempSync(join(tmpdir(), 'mail-lab-durability-build-'));
  for (const src of [...tsFiles(join(ROOT, 'services/core/src')), ...tsFiles(join(ROOT, 'services/mail-domain/src'))]) {
    const js = ts.transpileModule(readFileSync(src, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, strict: true },
      fileName: src,
    });
    const dest = join(out, relative(ROOT, src)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js.outputText);
  }
  return out;
}

export type DomainPorts = { smtp: number; submission: number; pop3: number; imap: number; admin: number };

export async function freeDomainPorts(): Promise<DomainPorts> {
  return { smtp: await freePort(), submission: await freePort(), pop3: await freePort(), imap: await freePort(), admin: await freePort() };
}

/**
 * lab.yaml with the given domains on the given ports (the implicit-TLS
 * ports removed: these processes run without TLS), the lab DNS on
 * `dnsPort`, and optionally other timings (`profiles.classroom`).
 */
export function writeLabYaml(file: string, ports: Record<string, DomainPorts>, dnsPort: number, classroom?: string): void {
  const doc = parseDocument(readFileSync(LAB_YAML, 'utf8'));
  doc.setIn(['dns', 'hostPort'], dnsPort);
  doc.setIn(['profile'], 'classroom');
  if (classroom) doc.setIn(['profiles', 'classroom'], parseDocument(classroom).contents);
  const count = (doc.get('domains') as { items: unknown[] }).items.length;
  for (let i = 0; i < count; i++) {
    const p = ports[String(doc.getIn(['domains', i, 'name']))];
    if (!p) continue;
    doc.setIn(['domains', i, 'ports'], parseDocument(JSON.stringify(p)).contents);
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, doc.toString());
}

export interface ChildDomain {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote so far (JSON log lines). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  kill(): Promise<void>;
}

/** Processes started and not yet exited: a failed test kills them in afterAll (by PID). */
const running = new Set<ChildProcess>();
export async function killAllChildren(): Promise<void> {
  await Promise.all(
    [...running].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}

/** Starts one domain; resolves once it logs that it is ready. */
export async function startChildDomain(o: { build: string; labYaml: string; domain: string; dataDir: string; env?: Record<string, string> }): Promise<ChildDomain> {
  const child = spawn(process.execPath, [join(o.build, 'services/mail-domain/src/main.js')], {
    env: {
      PATH: process.env.PATH,
      NODE_PATH: join(ROOT, 'node_modules'),
      MAIL_LAB_CONFIG: o.labYaml,
      MAIL_LAB_MODE: 'local',
      MAIL_LAB_DOMAIN: o.domain,
      MAIL_LAB_DATA: o.dataDir,
      MAIL_LAB_CA: 'off',
      MAIL_LAB_LOG_FORMAT: 'json',
      MAIL_LAB_LOG_LEVEL: 'info',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (text += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`${o.domain} did not start within 20 s:\n${text}`));
    }, 20_000);
    const check = () => {
      if (text.includes(`"${o.domain} ready"`)) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${o.domain} exited (${code ?? signal}) before it was ready:\n${text}`));
    });
  });
  return { child, pid: child.pid!, output: () => text, exited, kill };
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
export const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true });
