/**
 * Shared by the tests of reset, seed and reload (issue 13, running a class):
 * real clients on a test lab: Python's imaplib and poplib, dig, nodemailer.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { LAB_YAML, type TestLab } from '../helpers/test-lab';

export const run = promisify(execFile);

export const labYaml = () => readFileSync(LAB_YAML, 'utf8');
export const ports = (lab: TestLab, domain: string) => lab.config.domains.find((d) => d.name === domain)!.ports;

/** An account line of lab.yaml with the password rahasia123 (the same hash as siswa1's). */
export function accountLine(user: string, name: string): string {
  const hash = /\{ user: siswa1, name: "Siswa 1", passwordHash: "([^"]+)" \}/.exec(labYaml())![1];
  return `      - { user: ${user}, name: "${name}", passwordHash: "${hash}" }\n`;
}

/** lab.yaml with `line` added after garudayaksa.com's siswa5 (or dadali.com's with `domain`). */
export function withAccount(text: string, line: string, domain: 'garudayaksa.com' | 'dadali.com' = 'garudayaksa.com'): string {
  const at = text.indexOf('{ user: siswa5,', domain === 'dadali.com' ? text.indexOf('name: dadali.com') : 0);
  const end = text.indexOf('\n', at) + 1;
  return text.slice(0, end) + line + text.slice(end);
}

/** An IMAP session by Python's imaplib: `script` runs after LOGIN with `m`; prints go to the result. */
export async function imap(lab: TestLab, domain: string, user: string, script: string, password = 'rahasia123'): Promise<string> {
  const code = `import imaplib,sys\nm=imaplib.IMAP4("127.0.0.1",int(sys.argv[1]))\ntry:\n  m.login(sys.argv[2],sys.argv[3])\nexcept imaplib.IMAP4.error as e:\n  print("LOGIN-FAILED", e); sys.exit(0)\n${script}\nm.logout()`;
  const r = await run('python3', ['-c', code, String(ports(lab, domain).imap), user, password], { timeout: 20_000 });
  return r.stdout.trim();
}

/** `STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY)` as numbers. */
export async function inboxStatus(lab: TestLab, domain: string, user: string): Promise<{ messages: number; uidnext: number; uidvalidity: number }> {
  const out = await imap(lab, domain, user, 'print(m.status("INBOX","(MESSAGES UIDNEXT UIDVALIDITY)")[1][0].decode())');
  const n = (k: string) => Number(new RegExp(`${k} (\\d+)`).exec(out)?.[1]);
  return { messages: n('MESSAGES'), uidnext: n('UIDNEXT'), uidvalidity: n('UIDVALIDITY') };
}

/** POP3 STAT by Python's poplib: [messages, octets], or the error line. */
export async function pop3Stat(lab: TestLab, domain: string, user: string): Promise<[number, number] | string> {
  const code = 'import poplib,sys\np=poplib.POP3("127.0.0.1",int(sys.argv[1]),timeout=10)\np.user(sys.argv[2]);p.pass_("rahasia123");print(*p.stat());p.quit()';
  try {
    const r = await run('python3', ['-c', code, String(ports(lab, domain).pop3), user], { timeout: 20_000 });
    const [a, b] = r.stdout.trim().split(' ').map(Number);
    return [a, b];
  } catch (e) {
    return (e as { stderr: string }).stderr.trim().split('\n').pop()!;
  }
}

/** `dig MX <domain>` at the lab DNS, `+short`, sorted. */
export async function digMx(lab: TestLab, domain: string): Promise<string[]> {
  const r = await run('dig', ['@127.0.0.1', '-p', String(lab.config.dns.hostPort), '+short', '+time=2', '+tries=1', 'MX', domain]);
  return r.stdout.trim().split('\n').filter(Boolean).sort();
}

/** Sends on port 25 of `domain` (no login), as another server or a student at telnet does; returns the reply. */
export async function sendSmtp(lab: TestLab, domain: string, from: string, to: string[], subject: string): Promise<string> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: ports(lab, domain).smtp, secure: false, ignoreTLS: true, connectionTimeout: 5000 });
  try {
    return (await t.sendMail({ from, to, subject, text: 'Halo!\n' })).response;
  } finally {
    t.close();
  }
}

/** The subjects in a user's INBOX, from the store. */
export async function subjects(lab: TestLab, domain: string, user: string, folder = 'INBOX'): Promise<string[]> {
  const store = lab.domains[domain].store;
  const snap = await store.snapshot(user, folder);
  const out: string[] = [];
  for (const m of snap.messages) out.push(/\r\nSubject: ([^\r\n]*)/.exec((await store.read(user, folder, m.uid))!.toString('latin1'))?.[1] ?? '');
  return out;
}
