/**
 * Scenario steps that use the lab's own mail program, `mail-lab-client`
 * (services/client), the way a student does:
 *
 * - `client: { args, expect?, show? }` runs `mail-lab-client <args…>`. In the
 *   Docker lab it runs inside the client container (which resolves
 *   mail.<domain> with the lab DNS and uses the standard ports); in the
 *   no-Docker lab it is a Node process on this machine, given
 *   `--server 127.0.0.1 --port <host port>` of the domain it talks to (the
 *   sender's for `send`, the user's for the mailbox commands; for `setup`,
 *   `--dns` and `--autoconfig-url` of the lab's host side), the way the
 *   worksheets tell students to type it.
 * - `make-file: { name, bytes }` makes a file of random bytes (not text: a
 *   stand-in for a photo) for the client to attach.
 * - `compare-files: { files }` shows the sha256 of each file and checks that
 *   they are all the same bytes.
 *
 * All three work in the scenario's own working directory: in Docker
 * /tmp/mail-lab-scenario-<run> inside the client container, without Docker a
 * new temporary directory (removed when the scenario ends). Relative file
 * names in the arguments (`--attach foto.bin`, `--dir mime`) are relative to it.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabConfig } from '../../services/core/src/config';
import { repoRoot } from '../lab-docker';
import type { LabTarget } from '../lab-target';
import { messages } from './messages';
import type { Lang } from './lang';
import { StepFailure } from './step-types';
import type { Step } from './schema';

type Pick<K extends string> = Extract<Step, Record<K, unknown>>;
export type ClientStep = Pick<'client'> | Pick<'make-file'> | Pick<'compare-files'>;

/** The client container of docker-compose.yml and its home domain (MAIL_LAB_HOME_DOMAIN there). */
const HOME_DOMAIN = 'garudayaksa.com';
/** A hard limit on one client run; the client itself gives up after 20 s (--timeout). */
const CLIENT_LIMIT_MS = 60_000;

export const isClientStep = (step: Step): step is ClientStep => 'client' in step || 'make-file' in step || 'compare-files' in step;

/** The compiled client: `node dist/services/client/src/main.js` (what the image's wrapper runs). */
export const clientMain = () => join(repoRoot(), 'dist', 'services', 'client', 'src', 'main.js');

/** An argument as one would type it in a shell. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, '\\$1')}"`;
}

const localDirs = new Map<string, string>();
let cleanupRegistered = false;

/** The scenario's working directory (made on first use). */
async function workDir(target: LabTarget, run: string): Promise<string> {
  if (target.exec) {
    const dir = `/tmp/mail-lab-scenario-${run}`;
    const r = await target.exec(target.container('client'), ['mkdir', '-p', dir]);
    if (r.code !== 0) throw new StepFailure(`mkdir -p ${dir} in ${target.container('client')}: ${r.output.trim()}`);
    return dir;
  }
  let dir = localDirs.get(run);
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), `mail-lab-scenario-${run}-`));
    localDirs.set(run, dir);
    if (!cleanupRegistered) {
      cleanupRegistered = true;
      process.once('exit', () => {
        for (const d of localDirs.values()) rmSync(d, { recursive: true, force: true });
      });
    }
  }
  return dir;
}

/** Removes the no-Docker working directory of a run (the runner calls it when the scenario ends). */
export function dropWorkDir(run: string): void {
  const dir = localDirs.get(run);
  if (!dir) return;
  localDirs.delete(run);
  rmSync(dir, { recursive: true, force: true });
}

/** The value of `--name value` or `--name=value` in an argument list. */
function option(args: string[], name: string): string | undefined {
  for (const [i, a] of args.entries()) {
    if (a === name) return args[i + 1];
    if (a.startsWith(name + '=')) return a.slice(name.length + 1);
  }
  return undefined;
}

/**
 * What to add in the no-Docker lab so the client reaches the right server:
 * `--server 127.0.0.1 --port <host port>`, unless the arguments name a server or port.
 */
export function localEndpointArgs(config: LabConfig, args: string[]): string[] {
  // --offline reads the copy on this computer: no server.
  if (args.some((a) => /^--(server|port)(=|$)/.test(a) || a === '--offline')) return [];
  const command = args[0];
  // setup asks the lab DNS and the configuration file's host door (the admin port of the address's domain), as the client container would ask its DNS and autoconfig.<domain>.
  if (command === 'setup') {
    const address = args.slice(1).find((a) => !a.startsWith('-')) ?? '';
    const domain = config.domains.find((d) => d.name === address.slice(address.lastIndexOf('@') + 1).toLowerCase());
    if (args.some((a) => /^--(dns|autoconfig-url)(=|$)/.test(a)) || !domain) return [];
    return ['--dns', `127.0.0.1:${config.dns.hostPort}`, '--autoconfig-url', `http://127.0.0.1:${domain.ports.admin}/mail/config-v1.1.xml`];
  }
  // send and `outbox flush` hand mail to the sender's submission port; the rest read a mailbox.
  const sends = command === 'send' || command === 'outbox';
  const who = sends ? option(args, '--from') : option(args, '--user');
  if (!who) return [];
  const domainName = who.includes('@') ? who.slice(who.lastIndexOf('@') + 1).toLowerCase() : HOME_DOMAIN;
  const domain = config.domains.find((d) => d.name === domainName);
  if (!domain) return [];
  const service = sends ? 'submission' : ['folders', 'search', 'move', 'sync'].includes(command) ? 'imap' : option(args, '--protocol') === 'imap' ? 'imap' : 'pop3';
  return ['--server', '127.0.0.1', '--port', String(domain.ports[service])];
}

/** Runs the compiled client as a Node process in `cwd`; stdout and stderr in the order they came. */
function spawnClient(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  const main = clientMain();
  if (!existsSync(main)) throw new StepFailure(`${main} is missing: run \`npm run build\` first`);
  const env: NodeJS.ProcessEnv = {};
  // The user's own MAIL_LAB_* settings must not point the client elsewhere.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MAIL_LAB_')) env[k] = v;
  env.MAIL_LAB_HOME_DOMAIN = HOME_DOMAIN;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLIENT_LIMIT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** Output lines; `read --raw` prints the message as sent on the wire, with CRLF line ends. */
const lines = (output: string) => (output.trimEnd() === '' ? [] : output.trimEnd().split(/\r?\n/));

export async function runClientStep(target: LabTarget, step: ClientStep, run: string, fill: (t: string) => string, lang: Lang = 'en'): Promise<string[]> {
  const said = messages(lang).client;
  const dir = await workDir(target, run);

  if ('make-file' in step) {
    const { name, bytes } = step['make-file'];
    const file = fill(name);
    let head: string;
    let sha: string;
    if (target.exec) {
      const script = 'head -c "$1" /dev/urandom > "$2" && od -An -tx1 -N16 "$2" && sha256sum "$2"';
      const r = await target.exec(target.container('client'), ['sh', '-c', `cd ${dir} && ${script}`, 'sh', String(bytes), file]);
      if (r.code !== 0) throw new StepFailure(said.cannotMake(file, r.output.trim()));
      const out = lines(r.output);
      head = out[0]?.trim() ?? '';
      sha = out[out.length - 1]?.split(/\s+/)[0] ?? '';
    } else {
      let data = randomBytes(bytes);
      // Random bytes are almost never text; make sure of it.
      if (data.every((b) => b >= 0x20 && b < 0x7f)) data = Buffer.concat([Buffer.from([0x00, 0xff]), data.subarray(2)]);
      writeFileSync(join(dir, file), data);
      head = [...data.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      sha = createHash('sha256').update(data).digest('hex');
    }
    return [said.made(file, bytes, dir, target.exec ? target.container('client') : undefined), said.firstBytes(head), `sha256 ${sha}  ${file}`];
  }

  if ('compare-files' in step) {
    const files = step['compare-files'].files.map(fill);
    let sums: { file: string; sha: string | null }[];
    if (target.exec) {
      const r = await target.exec(target.container('client'), ['sh', '-c', `cd ${dir} && for f in "$@"; do if [ -f "$f" ]; then sha256sum "$f"; else echo "- $f"; fi; done`, 'sh', ...files]);
      if (r.code !== 0) throw new StepFailure(r.output.trim());
      sums = lines(r.output).map((l) => {
        const [sha, ...rest] = l.trim().split(/\s+/);
        return { file: rest.join(' '), sha: sha === '-' ? null : sha };
      });
    } else {
      sums = files.map((file) => {
        const path = join(dir, file);
        return { file, sha: existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : null };
      });
    }
    const detail = sums.map((s) => (s.sha ? `sha256 ${s.sha}  ${s.file}` : said.missingFile(s.file)));
    const missing = sums.filter((s) => !s.sha).map((s) => s.file);
    if (missing.length) throw new StepFailure(said.filesMissing(missing.join(', ')), detail);
    const differ = sums.filter((s) => s.sha !== sums[0].sha).map((s) => s.file);
    if (differ.length) throw new StepFailure(said.filesDiffer(sums[0].file, differ.join(', ')), detail);
    detail.push(said.filesSame(sums.length));
    return detail;
  }

  const c = step.client;
  const args = c.args.map(fill);
  const extra = target.exec ? [] : localEndpointArgs(target.config, args);
  const shown = ['$ mail-lab-client ' + [...args, ...extra].map(shellQuote).join(' ')];
  let r: { code: number; output: string };
  if (target.exec) {
    // `cd` first, so relative file names mean the scenario's working directory.
    r = await target.exec(target.container('client'), ['sh', '-c', `cd ${dir} && exec mail-lab-client "$@"`, 'mail-lab-client', ...args]);
  } else {
    r = await spawnClient([...args, ...extra], dir);
  }
  r.output = r.output.replace(/\r\n/g, '\n');
  const out = lines(r.output);
  const match = c.show?.match ? new RegExp(fill(c.show.match)) : null;
  const picked = match ? out.filter((l) => match.test(l)) : out;
  const max = c.show?.max ?? 25;
  const body = picked.length > max ? [...picked.slice(0, max), said.moreLines(picked.length - max)] : picked;
  if (match && picked.length < out.length) body.push(said.linesShown(picked.length, out.length));
  const detail = [...shown, ...body.map((l) => `  ${l}`)];
  if (r.code !== 0) {
    const why = out.find((l) => /^error: /.test(l))?.replace(/^error: /, '') ?? out[out.length - 1] ?? '';
    throw new StepFailure(said.exited(r.code, why), match ? [...shown, ...out.slice(-10).map((l) => `  ${l}`)] : detail);
  }
  for (const e of c.expect === undefined ? [] : Array.isArray(c.expect) ? c.expect : [c.expect]) {
    if (!new RegExp(fill(e), 'm').test(r.output)) throw new StepFailure(said.noMatch(fill(e)), detail);
  }
  return detail;
}
