/** Shared by the fault tests: send through a domain, read a mailbox, talk to the fault controls as the CLI does. */
import nodemailer from 'nodemailer';
import type { StartedDnsAdmin } from '../../../services/dns/src/admin';
import { labTarget, type LabTarget } from '../../../scripts/lab-target';
import { startTestLab, type TestLab, type TestLabOptions } from '../helpers/test-lab';

export const port = (lab: TestLab, d: string, kind: 'smtp' | 'submission' | 'admin') => lab.config.domains.find((x) => x.name === d)!.ports[kind];

/** Submits on 587 as the sender; returns the queue id. */
export async function submit(lab: TestLab, from: string, to: string[], subject: string): Promise<string> {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port: port(lab, from.split('@')[1], 'submission'), secure: false, ignoreTLS: true, auth: { user: from, pass: 'rahasia123' } });
  try {
    const info = await t.sendMail({ from, to, subject, text: 'Halo!' });
    return /queued as (\S+)/.exec(info.response)![1];
  } finally {
    t.close();
  }
}

export async function inbox(lab: TestLab, domain: string, user: string): Promise<string[]> {
  const store = lab.domains[domain].store;
  const snap = await store.snapshot(user, 'INBOX');
  return Promise.all(snap.messages.map(async (m) => (await store.read(user, 'INBOX', m.uid))!.toString()));
}

export const withSubject = (messages: string[], s: string) => messages.filter((m) => m.includes(`\r\nSubject: ${s}\r\n`));

export interface FaultLab {
  lab: TestLab;
  /** The lab DNS's admin API, as main.ts starts it. */
  dnsAdmin: StartedDnsAdmin;
  /** What the CLI uses (no-Docker mode), pointed at this lab's ports. */
  target: LabTarget;
  close(): Promise<void>;
}

/** A test lab plus the DNS admin API, with a CLI target for it. */
export async function startFaultLab(options: TestLabOptions = {}): Promise<FaultLab> {
  const lab = await startTestLab(options);
  return {
    lab,
    dnsAdmin: lab.dnsAdmin,
    target: lab.target(),
    close: () => lab.close(),
  };
}
