/**
 * Who a student is in the records, and the part of a lab's records that is
 * theirs.
 *
 * - A lab per student (`class up`): the lab number is the student. Every
 *   session, message, read and DNS question of that lab counts (the
 *   worksheets use the lab's fixed accounts: siswa1, mbrain, jpri …).
 * - One lab shared by the class: the student is an account, `siswa07`
 *   (the same user in every domain that has it) or `siswa07@dadali.com`.
 *   Theirs are: sessions logged in as the account or with MAIL FROM the
 *   account; messages it sent; messages it read; and, from the client
 *   addresses of those sessions, the sessions without a login (a stranger
 *   on port 25, an early talker) and the DNS questions, but only from an
 *   address no other account used (several students behind one address
 *   cannot be told apart, so none of them gets those records).
 */
import type { ActivityMessage, ActivityRead, DnsQuery } from '../admin/api';
import { studentAccounts, type LabConfig } from '../config';
import type { LabRecords, Session } from './records';

export type Student =
  | { kind: 'lab'; lab: number; label: string }
  | { kind: 'account'; lab: number; label: string; addresses: string[] };

/** The records of one student. */
export interface StudentView {
  student: Student;
  records: LabRecords;
  sessions: Session[];
  /** Messages the student sent (no notices). */
  messages: ActivityMessage[];
  reads: ActivityRead[];
  dns: DnsQuery[];
  /** Client addresses that are the student's alone (account scope); every address (lab scope). */
  ownPeers: Set<string> | 'all';
}

/** Which accounts used each client address (logins and lab senders), for the whole lab. */
export function addressOwners(r: LabRecords): Map<string, Set<string>> {
  const owners = new Map<string, Set<string>>();
  const labDomains = new Set(r.config.domains.map((d) => d.name));
  for (const s of r.sessions) {
    if (s.labServer) continue;
    const who = [...(s.login ? [s.login] : []), ...s.mailFrom.filter((a) => labDomains.has(a.split('@')[1] ?? ''))];
    if (!who.length) continue;
    const set = owners.get(s.peer) ?? new Set<string>();
    for (const w of who) set.add(w);
    owners.set(s.peer, set);
  }
  return owners;
}

export function studentView(r: LabRecords, student: Student, owners?: Map<string, Set<string>>): StudentView {
  if (student.kind === 'lab') {
    return { student, records: r, sessions: r.sessions, messages: r.messages.filter((m) => m.from !== ''), reads: r.reads, dns: r.dns, ownPeers: 'all' };
  }
  const mine = new Set(student.addresses);
  const own = new Set<string>();
  for (const [peer, who] of owners ?? addressOwners(r)) if ([...who].every((w) => mine.has(w))) own.add(peer);
  const sessions = r.sessions.filter((s) => (s.login && mine.has(s.login)) || s.mailFrom.some((a) => mine.has(a)) || (!s.labServer && !s.login && own.has(s.peer)));
  return {
    student,
    records: r,
    sessions,
    messages: r.messages.filter((m) => mine.has(m.from.toLowerCase())),
    reads: r.reads.filter((x) => mine.has(`${x.user.toLowerCase()}@${x.domain}`)),
    dns: r.dns.filter((q) => own.has(q.client)),
    ownPeers: own,
  };
}

/** Every account of the lab definition (named and generated), `user@domain`. */
export function labAccounts(config: LabConfig): string[] {
  return config.domains.flatMap((d) => [...d.accounts.map((a) => a.user), ...studentAccounts(d).map((s) => s.user)].map((u) => `${u}@${d.name}`));
}

export class UnknownAccountError extends Error {
  override readonly name = 'UnknownAccountError';
}

/**
 * `siswa07` (that user in every domain that has it) or `siswa07@dadali.com`, checked against the
 * lab definition; an unknown one names what exists.
 */
export function accountStudent(config: LabConfig, lab: number, account: string): Student {
  const all = labAccounts(config);
  const wanted = account.trim().toLowerCase();
  const addresses = wanted.includes('@') ? all.filter((a) => a === wanted) : all.filter((a) => a.split('@')[0] === wanted);
  if (!addresses.length) {
    const users = [...new Set(all.map((a) => a.split('@')[0]))];
    const shown = users.length > 12 ? `${users.slice(0, 12).join(', ')} … (${users.length} in all)` : users.join(', ');
    throw new UnknownAccountError(`no account "${account}" in lab ${lab}: its accounts are ${shown} (in ${config.domains.map((d) => d.name).join(' and ')}); give a user (siswa1) or an address (siswa1@dadali.com)`);
  }
  return { kind: 'account', lab, label: wanted, addresses };
}

/** The students of a shared lab: the generated accounts (`students:`), else every named account but postmaster. */
export function sharedLabStudents(config: LabConfig, lab: number): Student[] {
  const generated = [...new Set(config.domains.flatMap((d) => studentAccounts(d).map((s) => s.user)))];
  const users = generated.length ? generated : [...new Set(config.domains.flatMap((d) => d.accounts.map((a) => a.user)).filter((u) => u !== 'postmaster'))];
  return users.map((u) => accountStudent(config, lab, u));
}
