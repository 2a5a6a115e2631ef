/**
 * Drives the client's command line in-process (`run`, the same function
 * main.ts calls) against a test lab, capturing what it prints.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestLab } from '../helpers/test-lab';
import { run } from '../../../services/client/src/cli';
import type { Env } from '../../../services/client/src/endpoint';

export const PASSWORD = 'rahasia123';

export interface Ran {
  code: number;
  out: string;
  err: string;
  /** stdout as bytes (for --raw). */
  bytes: Buffer;
}

export async function client(argv: string[], env: Env, stdin = ''): Promise<Ran> {
  const out: Buffer[] = [];
  let err = '';
  const code = await run(argv, {
    env,
    out: (d) => out.push(Buffer.from(d)),
    err: (t) => (err += t),
    readStdin: async () => Buffer.from(stdin),
  });
  const bytes = Buffer.concat(out);
  return { code, out: bytes.toString('utf8'), err, bytes };
}

let localDir: string | undefined;

/** The client's local directory for this test file (its outbox and copies; never the real ~/.mail-lab-client), removed at exit. */
export function testLocalDir(): string {
  if (!localDir) {
    const dir = mkdtempSync(join(tmpdir(), 'mail-lab-client-local-'));
    localDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return localDir;
}

/** The environment of a host-side user of one domain: 127.0.0.1 and that domain's ports. */
export function hostEnv(lab: TestLab, domain: string, extra: Env = {}): Env {
  const d = lab.config.domains.find((x) => x.name === domain)!;
  return {
    MAIL_LAB_SERVER: '127.0.0.1',
    MAIL_LAB_SUBMISSION_PORT: String(d.ports.submission),
    MAIL_LAB_POP3_PORT: String(d.ports.pop3),
    MAIL_LAB_IMAP_PORT: String(d.ports.imap),
    MAIL_LAB_PASSWORD: PASSWORD,
    MAIL_LAB_TIMEOUT: '10',
    MAIL_LAB_CLIENT_DIR: testLocalDir(),
    ...extra,
  };
}

/** `list` output → { subject: id }. */
export function idsBySubject(listOutput: string): Record<string, number> {
  const ids: Record<string, number> = {};
  // Fixed columns: id 5, date 16, from 32, subject 32, size 8, two spaces between.
  for (const line of listOutput.split('\n')) {
    if (/^\s*\d+  /.test(line)) ids[line.slice(59, 91).trim()] = Number(line.slice(0, 5));
  }
  return ids;
}
