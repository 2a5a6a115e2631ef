/**
 * Helpers for the TLS tests: real third-party clients (swaks, openssl
 * s_client, curl, Python's imaplib/poplib) run as child processes with
 * async spawn, so the in-process lab keeps serving while they talk to it.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import nodemailer from 'nodemailer';
import { eventually, type TestLab } from '../helpers/test-lab';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together. */
  all: string;
}

/** Runs a program; `input` is written to its standard input (after `inputDelayMs`), which is then closed. */
export function run(cmd: string, args: string[], input = '', timeoutMs = 30_000, inputDelayMs = 0): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let all = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => ((stdout += d), (all += d)));
    child.stderr.setEncoding('latin1').on('data', (d: string) => ((stderr += d), (all += d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => ((stderr += String(e)), (all += String(e))));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, all });
    });
    child.stdin.on('error', () => undefined);
    if (inputDelayMs) setTimeout(() => child.stdin.end(input), inputDelayMs);
    else child.stdin.end(input);
  });
}

export function installed(binary: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try {
      return readdirSync(d).includes(binary);
    } catch {
      return false;
    }
  });
}

export const PYTHON = installed('python3') ? 'python3' : 'python';
export const PASSWORD = 'rahasia123';
export const G = 'garudayaksa.com';
export const D = 'dadali.com';

type PortName = 'smtp' | 'submission' | 'pop3' | 'imap' | 'smtps' | 'imaps' | 'pop3s';

export const portOf = (lab: TestLab, domain: string, kind: PortName): number => {
  const p = lab.config.domains.find((x) => x.name === domain)!.ports[kind];
  if (p === undefined) throw new Error(`no ${kind} port for ${domain}`);
  return p;
};

export const caFile = (lab: TestLab) => `${lab.dataDir}/ca/ca.crt`;

/**
 * openssl s_client to 127.0.0.1, verifying against the lab CA and the mail
 * host name. Without `input` it stops after the handshake; with it, the
 * lines are sent over TLS (LF becomes CRLF) once the greeting is in (an
 * SMTP server refuses early talkers) and it waits for the server to close
 * (so end `input` with QUIT or LOGOUT).
 */
export function sClient(lab: TestLab, domain: string, kind: PortName, starttls?: 'smtp' | 'pop3' | 'imap', input = ''): Promise<Run> {
  return run('openssl', [
    's_client',
    ...(input ? ['-ign_eof', '-nocommands', '-crlf'] : []),
    ...(starttls ? ['-starttls', starttls] : []),
    '-connect',
    `127.0.0.1:${portOf(lab, domain, kind)}`,
    '-servername',
    `mail.${domain}`,
    '-verify_hostname',
    `mail.${domain}`,
    '-CAfile',
    caFile(lab),
    '-verify_return_error',
  ], input, 30_000, input ? 500 : 0);
}

/** Sends a message through submission (plain text, nodemailer); returns the queue id. */
export async function submit(lab: TestLab, from: string, to: string[], subject: string): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: portOf(lab, from.split('@')[1], 'submission'),
    secure: false,
    ignoreTLS: true,
    auth: { user: from, pass: PASSWORD },
  });
  const info = await transport.sendMail({ from, to, subject, text: 'Halo dari lab TLS.' });
  transport.close();
  return /queued as (\S+)/.exec(info.response)![1];
}

/** Every message in a user's INBOX, as text. */
export async function inbox(lab: TestLab, domain: string, user: string): Promise<string[]> {
  const store = lab.domains[domain].store;
  const snap = await store.snapshot(user, 'INBOX').catch(() => ({ messages: [] as { uid: number }[] }));
  return Promise.all(snap.messages.map(async (m) => (await store.read(user, 'INBOX', m.uid))!.toString('latin1')));
}

export const withSubject = (messages: string[], s: string) => messages.filter((m) => m.includes(`\r\nSubject: ${s}\r\n`));

/** Waits until a message with this subject is in the user's INBOX; returns it. */
export async function waitForMessage(lab: TestLab, domain: string, user: string, subject: string): Promise<string> {
  return eventually(`"${subject}" in ${user}@${domain}`, async () => withSubject(await inbox(lab, domain, user), subject)[0]);
}

/** Python with imaplib, poplib and ssl; the script gets argv[1..]. Prints what it saw; exit 0 when all went well. */
export function python(script: string, args: (string | number)[]): Promise<Run> {
  return run(PYTHON, ['-c', script, ...args.map(String)]);
}
