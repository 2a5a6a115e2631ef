/** What the container test files share: the CLI, docker, the typed admin clients, waiting, submitting mail. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { loadLabConfig } from '../../services/core/src/config';
import { labTarget, type LabTarget } from '../../scripts/lab-target';

const run = promisify(execFile);
export const root = join(__dirname, '../..');

/** `npx mail-lab …` as a child process: exit code and everything it printed. */
export const cli = (args: string[], timeout = 600_000, env: NodeJS.ProcessEnv = process.env) =>
  run(process.execPath, [join(root, 'bin/mail-lab.js'), ...args], { cwd: root, timeout, maxBuffer: 20 * 1024 * 1024, env }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: (e.stdout ?? '') + (e.stderr ?? '') }),
  );

export const docker = (args: string[]) => run('docker', args, { timeout: 120_000 }).then((r) => r.stdout + r.stderr);
export const rootExec = (container: string, cmd: string[]) => docker(['exec', '-u', 'root', container, ...cmd]);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let target: LabTarget | undefined;
/** The Docker lab as the CLI sees it: typed admin clients with the lab's token (read once per test file). */
export function lab(): LabTarget {
  target ??= labTarget(loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config, 'docker');
  return target;
}
/** The typed admin client of a domain (published on its admin host port). */
export const mail = (domain: string) => lab().mail(domain);

export async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(250);
  }
}

/** Sends through garudayaksa.com's submission port (host 10587) as `from`; returns the queue id. */
export async function submit(from: string, to: string, subject: string, text = 'Halo dari tes kontainer.\n', port = 10587): Promise<string> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, auth: { user: from, pass: 'rahasia123' } });
  try {
    const info = await t.sendMail({ from, to, subject, text });
    return /queued as (\S+)/.exec(info.response)![1];
  } finally {
    t.close();
  }
}
