/** What the container test files share: the CLI, docker, the admin API, waiting, submitting mail. */
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';

const run = promisify(execFile);
export const root = join(__dirname, '../..');

/** `npx mail-lab …` as a child process: exit code and everything it printed. */
export const cli = (args: string[], timeout = 600_000) =>
  run(process.execPath, [join(root, 'bin/mail-lab.js'), ...args], { cwd: root, timeout, maxBuffer: 20 * 1024 * 1024 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: (e.stdout ?? '') + (e.stderr ?? '') }),
  );

export const docker = (args: string[]) => run('docker', args, { timeout: 120_000 }).then((r) => r.stdout + r.stderr);
export const rootExec = (container: string, cmd: string[]) => docker(['exec', '-u', 'root', container, ...cmd]);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JSON from a domain's admin API on its published host port. */
export function admin<T>(port: number, path: string, method = 'GET'): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as T));
    });
    req.on('error', reject);
    req.end();
  });
}

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
