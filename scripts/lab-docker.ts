/**
 * lab-docker: the host side of the compose lab, for the `mail-lab` CLI.
 *
 * Finds a Compose (v2 plugin `docker compose`, else v1 `docker-compose`),
 * builds the one lab image (online from node:20-bookworm-slim, or offline
 * from mail-lab/base:bookworm made by scripts/build-base-image.sh), and
 * brings a lab up and down: lab N is compose project `mail-lab` (0) or
 * `mail-lab-NN`, with the compose file rendered for it (compose/render.ts,
 * written by lab-files.ts); compose always runs from the repository root.
 *
 * Everything runs the real `docker` / compose commands with
 * child_process.spawn; a failing command raises {@link DockerCommandError}
 * carrying the tail of its stderr. Progress lines go to the caller's `log`.
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** The one image every lab service runs. */
export const APP_IMAGE = 'mail-lab/app:latest';
/** Base image used when an image registry is reachable (or already pulled). */
export const ONLINE_BASE_IMAGE = 'node:20-bookworm-slim';
/** Base image built locally by scripts/build-base-image.sh (no registry needed). */
export const OFFLINE_BASE_IMAGE = 'mail-lab/base:bookworm';

/** A line-oriented progress sink, e.g. `(line) => console.log(line)`. */
export type LogFn = (line: string) => void;

/** How to run Compose on this machine. */
export interface ComposeCommand {
  /** argv prefix: `['docker', 'compose']` or `['docker-compose']`. */
  command: string[];
  /** Major version: 2 for the plugin (or a v2 standalone binary), 1 for docker-compose 1.x. */
  version: 1 | 2;
}

/** A lab as compose sees it: its project and its (rendered) compose file. */
export interface ComposeLab {
  project: string;
  /** Absolute path of the compose file. */
  file: string;
}

/** One container of the lab, as `composePs` reports it. */
export interface LabContainer {
  /** Compose service name, e.g. `mail-garudayaksa`. */
  service: string;
  /** Container name, e.g. `mail-lab-garudayaksa`. */
  name: string;
  /** Docker state: `running`, `exited`, `restarting`, `created`, `paused`, `dead`. */
  state: string;
  /** Healthcheck status (`starting`, `healthy`, `unhealthy`), absent without a healthcheck. */
  health?: string;
  /** Short container id. */
  id: string;
  image: string;
  /** Address on the lab's backbone network, when attached. */
  ipAddress?: string;
  /** Published ports. */
  ports: Array<{ containerPort: number; protocol: string; hostIp: string; hostPort: number }>;
}

/** Raised when a docker / compose command fails; `stderrTail` holds its last stderr lines. */
export class DockerCommandError extends Error {
  override readonly name = 'DockerCommandError';
  constructor(
    /** The argv that failed. */
    readonly argv: string[],
    /** Exit code, or null when killed by a signal / timeout. */
    readonly exitCode: number | null,
    /** Last lines of stderr (or stdout when stderr was empty). */
    readonly stderrTail: string,
    detail?: string,
  ) {
    super(
      `${argv.join(' ')} failed (${detail ?? `exit ${exitCode ?? 'signal'}`})` +
        (stderrTail ? `:\n${stderrTail}` : ''),
    );
  }
}

// ---------------------------------------------------------------------------
// process helper

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Stream every stdout/stderr line here. */
  log?: LogFn;
  /** Kill the command after this long. @default no limit */
  timeoutMs?: number;
  /** Reject on a non-zero exit. @default true */
  check?: boolean;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const TAIL_LINES = 30;

function tail(text: string, lines = TAIL_LINES): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Splits a stream into lines and hands each complete line to `onLine`. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      rest += chunk;
      const parts = rest.split(/\r?\n|\r/);
      rest = parts.pop() ?? '';
      for (const p of parts) if (p.trim() !== '') onLine(p);
    },
    end() {
      if (rest.trim() !== '') onLine(rest);
      rest = '';
    },
  };
}

function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const outLines = lineSplitter((l) => opts.log?.(l));
    const errLines = lineSplitter((l) => opts.log?.(l));
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (opts.log) outLines.push(c);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      // Keep memory bounded on chatty builds: only the tail is ever reported.
      if (stderr.length > 256 * 1024) stderr = stderr.slice(-64 * 1024);
      if (opts.log) errLines.push(c);
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3000).unref();
          }, opts.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      const why = err.code === 'ENOENT' ? `${cmd}: command not found` : err.message;
      reject(new DockerCommandError(argv, null, '', why));
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      outLines.end();
      errLines.end();
      const result = { code, stdout, stderr, timedOut };
      if ((opts.check ?? true) && (code !== 0 || timedOut)) {
        const detail = timedOut ? `timed out after ${opts.timeoutMs} ms` : undefined;
        reject(new DockerCommandError(argv, code, tail(stderr || stdout), detail));
      } else {
        resolve(result);
      }
    });
  });
}

// ---------------------------------------------------------------------------
// repository layout

let cachedRoot: string | undefined;

/**
 * The repository root: the nearest directory above this module whose
 * package.json is named `mail-lab` (this file runs from scripts/ under
 * ts-jest and from dist/scripts/ once compiled).
 */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'mail-lab') {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // unreadable package.json: keep climbing
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the mail-lab repository root above ${__dirname}`);
    dir = up;
  }
}

/** Absolute path of the committed docker-compose.yml (lab 0 of lab-scenarios/lab.yaml). */
export function composeFile(): string {
  return path.join(repoRoot(), 'docker-compose.yml');
}

// ---------------------------------------------------------------------------
// detection

let cachedCompose: Promise<ComposeCommand> | undefined;

/**
 * Finds Compose: prefers the v2 plugin (`docker compose`), falls back to
 * `docker-compose` (v1, or a standalone v2 binary). The answer is cached.
 * MAIL_LAB_COMPOSE=v1 (or `docker-compose`) / v2 (or `docker compose`) forces
 * one of them, so CI can run the lab under both.
 */
export function detectCompose(): Promise<ComposeCommand> {
  cachedCompose ??= (async (): Promise<ComposeCommand> => {
    const tried: string[] = [];
    const forced = (process.env.MAIL_LAB_COMPOSE ?? '').trim();
    let candidates = [['docker', 'compose'], ['docker-compose']];
    if (forced === 'v1' || forced === 'docker-compose') candidates = [['docker-compose']];
    else if (forced === 'v2' || forced === 'docker compose') candidates = [['docker', 'compose']];
    else if (forced !== '') throw new Error(`MAIL_LAB_COMPOSE=${forced}: expected v1 or v2`);
    for (const command of candidates) {
      try {
        const r = await run([...command, 'version', '--short'], { timeoutMs: 15_000 });
        const v = r.stdout.trim().replace(/^v/, '');
        const major = Number.parseInt(v, 10);
        return { command, version: major === 1 ? 1 : 2 };
      } catch (e) {
        tried.push(`\`${command.join(' ')}\`: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }
    throw new Error(
      'Docker Compose not found: neither `docker compose` (v2 plugin) nor `docker-compose` (v1) works.\n' +
        `  ${tried.join('\n  ')}\n` +
        'Install it with: sudo bash scripts/docker-engine.sh',
    );
  })().catch((e: unknown) => {
    cachedCompose = undefined; // let a later call retry (e.g. after installation)
    throw e;
  });
  return cachedCompose;
}

/** The engine, when `docker info` answers (daemon running, socket accessible): whether it is in a swarm. */
export async function dockerEngine(): Promise<{ swarmActive: boolean } | null> {
  try {
    const r = await run(['docker', 'info', '--format', '{{.ServerVersion}} {{.Swarm.LocalNodeState}}'], { timeoutMs: 15_000 });
    return { swarmActive: / active$/.test(r.stdout.trim()) };
  } catch {
    return null;
  }
}

/** What `up` reads of an image: its id and labels. */
interface ImageFacts {
  id: string;
  labels: Record<string, string>;
}

/**
 * Id and labels of each of `refs` present in the engine, with one `docker
 * image inspect` (one CLI start instead of one per question: `up` asks about
 * three images each time). A ref that is missing is not in the map.
 */
async function inspectImages(refs: string[]): Promise<Map<string, ImageFacts>> {
  const r = await run(['docker', 'image', 'inspect', ...refs], { check: false });
  let list: Array<{ Id: string; RepoTags?: string[] | null; Config?: { Labels?: Record<string, string> | null } | null }> = [];
  try {
    list = JSON.parse(r.stdout.trim() || '[]') as typeof list;
  } catch {
    list = [];
  }
  const found = new Map<string, ImageFacts>();
  for (const ref of refs) {
    // By tag; a ref asked alone may also be an id or digest, which no tag lists.
    const img = list.find((i) => i.RepoTags?.includes(ref)) ?? (refs.length === 1 ? list[0] : undefined);
    if (img) found.set(ref, { id: img.Id, labels: img.Config?.Labels ?? {} });
  }
  return found;
}

/** The version scripts/build-base-image.sh builds (its BASE_VERSION line: one source of truth). */
export function offlineBaseVersion(): string {
  const script = fs.readFileSync(path.join(repoRoot(), 'scripts', 'build-base-image.sh'), 'utf8');
  return /^BASE_VERSION=(\S+)$/m.exec(script)?.[1] ?? '1';
}

/**
 * The offline base as this checkout needs it: present and with the current
 * `mail-lab.base-version` label (an older one lacks tools, e.g. TLS for swaks).
 */
async function offlineBaseState(log: LogFn, known?: Map<string, ImageFacts>): Promise<'current' | 'missing' | 'old'> {
  const facts = (known ?? (await inspectImages([OFFLINE_BASE_IMAGE]))).get(OFFLINE_BASE_IMAGE);
  if (!facts) return 'missing';
  const have = facts.labels['mail-lab.base-version'] || '1';
  if (have === offlineBaseVersion()) return 'current';
  log(`base image: ${OFFLINE_BASE_IMAGE} is version ${have}, this checkout needs version ${offlineBaseVersion()}: rebuilding it`);
  return 'old';
}

// ---------------------------------------------------------------------------
// compose wrappers

async function compose(
  lab: ComposeLab,
  args: string[],
  opts: { log?: LogFn; env?: NodeJS.ProcessEnv; check?: boolean } = {},
): Promise<RunResult> {
  const c = await detectCompose();
  // --project-directory: paths in every rendered file are relative to the repository root.
  const argv = [...c.command, '--ansi', 'never', '-p', lab.project, '-f', lab.file, '--project-directory', repoRoot(), ...args];
  return run(argv, {
    cwd: repoRoot(),
    env: { ...process.env, BUILDKIT_PROGRESS: 'plain', ...opts.env },
    log: opts.log,
    check: opts.check,
  });
}

/** Options of {@link buildImages}. */
export interface BuildOptions {
  /**
   * `true`: build from the local offline base (built first when missing).
   * `false`: build from node:20-bookworm-slim (pulled from the registry).
   * `'auto'`: node:20-bookworm-slim if present locally; else the offline base
   * if present locally; else node:20-bookworm-slim if a short pull works; else
   * build the offline base with scripts/build-base-image.sh.
   * The environment variable MAIL_LAB_BASE_IMAGE, when set, overrides all this.
   * @default 'auto'
   */
  offline?: boolean | 'auto';
  /** Progress lines. */
  log: LogFn;
  /** How long the registry probe (`docker pull`) may take in 'auto' mode. @default 25000 */
  pullTimeoutMs?: number;
}

/** Builds mail-lab/base:bookworm with scripts/build-base-image.sh (root needed). */
export async function buildOfflineBase(log: LogFn, force = false): Promise<void> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(
      `${OFFLINE_BASE_IMAGE} is missing and building it needs root (debootstrap):\n` +
        '  sudo bash scripts/build-base-image.sh',
    );
  }
  const script = path.join(repoRoot(), 'scripts', 'build-base-image.sh');
  await run(['bash', script, ...(force ? ['--force'] : [])], { cwd: repoRoot(), log });
}

/** Chooses the base image for the app image; see {@link BuildOptions.offline}. */
async function chooseBase(opts: BuildOptions, known: Map<string, ImageFacts>): Promise<string> {
  const { log } = opts;
  // A base built here has a new id: forget what was read of it.
  const rebuild = async () => {
    await buildOfflineBase(log);
    known.delete(OFFLINE_BASE_IMAGE);
  };
  const fromEnv = process.env.MAIL_LAB_BASE_IMAGE;
  if (fromEnv) {
    log(`base image: ${fromEnv} (from MAIL_LAB_BASE_IMAGE)`);
    if (fromEnv === OFFLINE_BASE_IMAGE && (await offlineBaseState(log, known)) !== 'current') await rebuild();
    return fromEnv;
  }
  const mode = opts.offline ?? 'auto';
  if (mode === false) {
    log(`base image: ${ONLINE_BASE_IMAGE} (online)`);
    return ONLINE_BASE_IMAGE;
  }
  if (mode === 'auto') {
    if (known.has(ONLINE_BASE_IMAGE)) {
      log(`base image: ${ONLINE_BASE_IMAGE} (present locally)`);
      return ONLINE_BASE_IMAGE;
    }
    const state = await offlineBaseState(log, known);
    if (state !== 'missing') {
      if (state === 'old') await rebuild();
      else log(`base image: ${OFFLINE_BASE_IMAGE} (offline base, present locally)`);
      return OFFLINE_BASE_IMAGE;
    }
    const timeoutMs = opts.pullTimeoutMs ?? 25_000;
    log(`base image: trying to pull ${ONLINE_BASE_IMAGE} (up to ${Math.round(timeoutMs / 1000)} s)`);
    const pulled = await run(['docker', 'pull', ONLINE_BASE_IMAGE], { timeoutMs, check: false });
    if (pulled.code === 0 && !pulled.timedOut) {
      log(`base image: ${ONLINE_BASE_IMAGE} (pulled)`);
      return ONLINE_BASE_IMAGE;
    }
    const why = pulled.timedOut ? 'timed out' : tail(pulled.stderr, 1) || `exit ${pulled.code}`;
    log(`base image: no registry (${why}); building ${OFFLINE_BASE_IMAGE} locally`);
  }
  if ((await offlineBaseState(log)) !== 'current') await rebuild();
  log(`base image: ${OFFLINE_BASE_IMAGE} (offline)`);
  return OFFLINE_BASE_IMAGE;
}

/**
 * Builds mail-lab/app:latest through `compose build` (the host must have run
 * `npm ci && npm run build`: the image copies node_modules and dist in).
 */
export async function buildImages(opts: BuildOptions & { lab: ComposeLab }): Promise<void> {
  const { log } = opts;
  const root = repoRoot();
  for (const needed of ['dist', 'node_modules']) {
    if (!fs.existsSync(path.join(root, needed))) {
      throw new Error(`${needed}/ is missing: run \`npm ci && npm run build\` before building the images`);
    }
  }
  // The images `up` asks about, read once (a base built or pulled by chooseBase is read again).
  const known = await inspectImages([ONLINE_BASE_IMAGE, OFFLINE_BASE_IMAGE, APP_IMAGE, ...(process.env.MAIL_LAB_BASE_IMAGE ? [process.env.MAIL_LAB_BASE_IMAGE] : [])]);
  const base = await chooseBase(opts, known);
  const baseId = known.get(base)?.id ?? (await inspectImages([base])).get(base)?.id ?? '';
  // Nothing the image is made of changed: no builder at all (a class restarts labs often).
  const hash = sourceHash(base, baseId);
  if (known.get(APP_IMAGE)?.labels['mail-lab.source-hash'] === hash) {
    log(`${APP_IMAGE} is up to date (source hash ${hash.slice(0, 12)}): not rebuilt`);
    return;
  }
  const c = await detectCompose();
  log(`building ${APP_IMAGE} with ${c.command.join(' ')} (compose v${c.version})`);
  const started = Date.now();
  await compose(opts.lab, ['build', 'dns'], { log, env: { MAIL_LAB_BASE_IMAGE: base, MAIL_LAB_SOURCE_HASH: hash } });
  log(`built ${APP_IMAGE} from ${base} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Files of a folder, recursively, sorted (for the source hash). */
function filesUnder(dir: string, skip: (rel: string) => boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (skip(r)) continue;
    if (e.isDirectory()) out.push(...filesUnder(dir, skip, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/**
 * A hash of what the image is made of: the base image, the Dockerfile and
 * .dockerignore, package.json and the lock file (node_modules follows it),
 * dist/ as the image copies it, lab-scenarios/. The image carries it as the
 * label `mail-lab.source-hash`; an image with the same hash is not rebuilt.
 */
export function sourceHash(base: string, baseId: string): string {
  const root = repoRoot();
  const h = createHash('sha256');
  h.update(`base ${base} ${baseId}\n`);
  const add = (rel: string) => {
    h.update(`${rel}\0`);
    h.update(fs.readFileSync(path.join(root, rel)));
  };
  for (const f of ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json']) if (fs.existsSync(path.join(root, f))) add(f);
  for (const f of filesUnder(path.join(root, 'dist'), (r) => r === 'test' || r === 'bench' || r.endsWith('.tsbuildinfo'))) add(`dist/${f}`);
  for (const f of filesUnder(path.join(root, 'lab-scenarios'), () => false)) add(`lab-scenarios/${f}`);
  return h.digest('hex');
}

/** `compose up -d`: creates the network and volumes, starts every service. */
export async function composeUp(lab: ComposeLab, log: LogFn): Promise<void> {
  await compose(lab, ['up', '-d', '--remove-orphans'], { log });
}

/** `compose down`: stops and removes the lab; `volumes: true` also deletes the mailboxes. */
export async function composeDown(lab: ComposeLab, opts: { volumes?: boolean }, log: LogFn): Promise<void> {
  await compose(lab, ['down', '--remove-orphans', ...(opts.volumes ? ['-v'] : [])], { log });
}

interface InspectedContainer {
  Id: string;
  Name: string;
  Config: { Image: string; Labels: Record<string, string> | null };
  State: { Status: string; Health?: { Status: string } };
  NetworkSettings: {
    Networks: Record<string, { IPAddress: string }> | null;
    Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null;
  };
}

/**
 * The lab's containers and their state (running or not), sorted by service.
 * Read with `docker ps` + `docker inspect` on the compose project label, so
 * the answer is the same whichever Compose version started the lab.
 */
export async function composePs(project: string): Promise<LabContainer[]> {
  const ids = (
    await run(['docker', 'ps', '-a', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`])
  ).stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse((await run(['docker', 'inspect', ...ids])).stdout) as InspectedContainer[];
  return inspected
    .filter((c) => c.Config.Labels?.['com.docker.compose.oneoff'] !== 'True')
    .map((c): LabContainer => {
      const networks = c.NetworkSettings.Networks ?? {};
      const backbone = networks[`${project}_backbone`] ?? Object.values(networks)[0];
      const ports: LabContainer['ports'] = [];
      for (const [key, bindings] of Object.entries(c.NetworkSettings.Ports ?? {})) {
        const [port, protocol] = key.split('/');
        for (const b of bindings ?? []) {
          ports.push({ containerPort: Number(port), protocol, hostIp: b.HostIp, hostPort: Number(b.HostPort) });
        }
      }
      return {
        service: c.Config.Labels?.['com.docker.compose.service'] ?? '',
        name: c.Name.replace(/^\//, ''),
        state: c.State.Status,
        health: c.State.Health?.Status,
        id: c.Id.slice(0, 12),
        image: c.Config.Image,
        ipAddress: backbone?.IPAddress || undefined,
        ports: ports.sort((a, b) => a.hostPort - b.hostPort || a.protocol.localeCompare(b.protocol)),
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
}
