/**
 * `npx mail-lab reset [--mailboxes] [--queues] [--faults]`: a running lab
 * back to the class-start state without a restart, through its admin APIs
 * (the same in a Docker and a no-Docker lab, and only in this lab), in this
 * order so nothing comes back behind it:
 *
 * 1. faults: every fault cleared and every link healed (`fault clear all`,
 *    scripts/faults/list.ts);
 * 2. queues: every queued message dropped, nobody told (`POST /reset/queue`),
 *    the lab definition's queue profile put back;
 * 3. mailboxes: every account emptied (`POST /reset/mailboxes`): INBOX and
 *    Sent/Drafts/Trash emptied, other folders deleted, subscriptions back to
 *    the default. UIDs keep growing (RFC 3501 2.3.1.1: no UID is ever used
 *    twice, so a mail program's cache stays valid and it only sees the
 *    messages expunged; no new UIDVALIDITY is needed).
 *
 * Kept: the lab CA and the certificates (a mail program that trusts the lab CA
 * keeps trusting it), the admin token, the accounts and the generated
 * students' passwords, the trace journal.
 */
import { MAIL_API } from '../../services/core/src/admin/api';
import type { LabTarget } from '../lab-target';
import { clearAllFaults, faultLines, listFaults } from '../faults/list';

export interface ResetParts {
  mailboxes: boolean;
  queues: boolean;
  faults: boolean;
}

/** No option: all three. */
export const resetParts = (o: Partial<ResetParts>): ResetParts => (o.mailboxes || o.queues || o.faults ? { mailboxes: !!o.mailboxes, queues: !!o.queues, faults: !!o.faults } : { mailboxes: true, queues: true, faults: true });

export interface ResetResult {
  lines: string[];
  /** Messages dropped from the queues and removed from the mailboxes. */
  dropped: number;
  removed: number;
  faults: number;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Resets the parts asked for; each line says what was done. */
export async function resetLab(t: LabTarget, parts: ResetParts): Promise<ResetResult> {
  const lines: string[] = [];
  let dropped = 0;
  let removed = 0;
  let faults = 0;
  if (parts.faults) {
    const before = await listFaults(t);
    if (before.unknown.length) throw new Error(`cannot ask every part of the lab, so its faults cannot all be cleared: ${before.unknown.join('; ')}`);
    await clearAllFaults(t);
    faults = before.faults.length;
    lines.push(faults ? `faults: cleared ${faults} (${faultLines(before).map((l) => l.replace(/^fault /, '').replace(/: .*$/, '')).join('; ')})` : 'faults: none was on');
  }
  if (parts.queues) {
    for (const d of t.config.domains) {
      const r = await t.mail(d.name).call(MAIL_API.resetQueue);
      dropped += r.dropped.length;
      const ids = r.dropped.length ? ` (${r.dropped.slice(0, 5).join(', ')}${r.dropped.length > 5 ? ', …' : ''})` : '';
      lines.push(`queue ${d.name}: ${r.dropped.length ? `dropped ${plural(r.dropped.length, 'message')}${ids}, nobody was told` : 'was empty'}${r.profile ? `; queue profile ${r.profile.previous} -> ${r.profile.name}` : ''}`);
    }
  }
  if (parts.mailboxes) {
    for (const d of t.config.domains) {
      const r = await t.mail(d.name).call(MAIL_API.resetMailboxes, {});
      removed += r.messages;
      lines.push(`mailboxes ${d.name}: ${plural(r.users.length, 'account')} emptied, ${plural(r.messages, 'message')} removed${r.folders ? `, ${plural(r.folders, 'folder')} of students deleted` : ''}`);
    }
  }
  lines.push('kept: the lab CA and certificates (mail programs that trust it keep trusting it), the admin token, the accounts and passwords');
  return { lines, dropped, removed, faults };
}
