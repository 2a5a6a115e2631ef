/**
 * A mail domain takes a changed lab definition while it runs
 * (`npx mail-lab reload`, `POST /lab/reload`): what may change and what
 * needs a restart is core/src/reload/plan.ts; this file checks a new
 * definition against the one the server runs and applies this domain's part:
 *
 * - accounts and aliases: the account directory and the mailbox store take
 *   the new list between two commands (a new account can log in at once; an
 *   SMTP session, a POP3 or IMAP command under way finishes first);
 * - generated student accounts (`students:`): passwords made for new ones;
 * - a removed account that still has mail (in its folders or in the queue) is
 *   refused unless `force`; then its files stay where they are and come back
 *   if the account does;
 * - the queue profiles (`profiles`, `profile`);
 * - backup MX (`relayDomains`) and the rest of the lab (MX, records): read
 *   from the running lab (running-lab.ts) by whoever needs them.
 *
 * The text is kept for a restart by `keep` (main.ts: reloaded-lab.json beside
 * the admin token, core/src/reload/saved.ts).
 */
import type { AccountWithMail, ReloadAnswer } from '../../core/src/admin/api';
import { ApiError } from '../../core/src/admin/errors';
import type { EventHub } from '../../core/src/admin/events';
import { requireDomain, type LabConfig } from '../../core/src/config';
import type { Logger } from '../../core/src/logger';
import { keepForRestart, readProposed, reloadAnswers } from '../../core/src/reload/answer';
import { planReload } from '../../core/src/reload/plan';
import type { AccountDirectory } from './accounts';
import type { OutboundQueue } from './queue/queue';
import type { RunningLab } from './running-lab';
import type { MboxMailStore } from './store/mbox-store';
import type { StudentPasswords } from './students';

/** How this server reads a new definition's text (as at start) and keeps it for a restart (main.ts). */
export interface Reloader {
  place(text: string, file: string): LabConfig;
  /** Returns where it was kept. */
  keep?(text: string, file: string): Promise<string>;
}

export interface ReloadParts {
  lab: RunningLab;
  accounts: AccountDirectory;
  students: StudentPasswords;
  store: MboxMailStore;
  queue: OutboundQueue;
  events: EventHub;
  logger: Logger;
  /** Without it (a server started from a config object, not a definition file) reload is unsupported. */
  reloader?: Reloader;
}

export interface ReloadRequest {
  text: string;
  file: string;
  dryRun: boolean;
  force: boolean;
}

/** The mail a removed account still has: messages in its folders, messages waiting in the queue for it. */
async function mailOf(p: ReloadParts, user: string): Promise<AccountWithMail | null> {
  let messages = 0;
  const paths: string[] = [];
  for (const folder of await p.store.listFolders(user)) {
    const n = (await p.store.snapshot(user, folder)).messages.length;
    messages += n;
    if (n) paths.push(p.store.mboxPath(user, folder));
  }
  const address = `${user}@${p.lab.domain}`;
  let queued = 0;
  for (const e of p.queue.messages()) if (e.recipients.some((r) => r.address === address && r.status === 'pending')) queued++;
  return messages || queued ? { user, messages, queued, paths } : null;
}

export async function reloadDomain(p: ReloadParts, req: ReloadRequest): Promise<ReloadAnswer> {
  const service = p.lab.domain;
  const answer = reloadAnswers(service);
  if (!p.reloader) throw new ApiError(400, 'unsupported', `${service} was started without a lab definition file, so it cannot take a new one; restart it instead`);
  const proposed = readProposed(p.reloader.place, req);
  if ('problems' in proposed) return answer({ problems: proposed.problems });
  const { next } = proposed;
  const plan = planReload(p.lab.defined, next);
  if (!next.domains.some((d) => d.name === service)) return answer({ changes: plan.changes, needsRestart: plan.needsRestart });
  const mine = plan.accounts.find((a) => a.domain === service);
  const withMail: AccountWithMail[] = [];
  for (const user of mine?.removed ?? []) {
    const m = p.store.hasUser(user) ? await mailOf(p, user) : null;
    if (m) withMail.push(m);
  }
  if (req.dryRun || plan.needsRestart.length || (withMail.length && !req.force)) return answer({ changes: plan.changes, needsRestart: plan.needsRestart, withMail });
  if (plan.changes.length) await apply(p, next);
  const kept = plan.changes.length ? await keepForRestart(p.reloader.keep, req, p.logger) : undefined;
  if (plan.changes.length) {
    p.logger.info(`lab definition reloaded from ${req.file}`, { changes: plan.changes.length, kept: withMail.map((m) => m.user).join(',') || undefined });
    p.events.publish('lab.reloaded', { file: req.file, changes: plan.changes });
  }
  return answer({ applied: true, changes: plan.changes, withMail, kept });
}

/** Applies this domain's part of `next` (checked: nothing in it needs a restart). */
async function apply(p: ReloadParts, next: LabConfig): Promise<void> {
  const before = p.lab.defined;
  const running = p.lab.take(next);
  const self = requireDomain(running, p.lab.domain);
  p.students.setDomain(self);
  await p.students.init();
  p.accounts.replace({ ...self, accounts: [...self.accounts, ...p.students.accounts()] });
  await p.store.setUsers(p.accounts.users());
  // Queue timings: new profiles, and the one in force if the definition's `profile` changed or the
  // timings of the one in force did (a profile switched at run time stays while it still exists).
  const inForce = p.queue.profile().name;
  p.queue.setProfiles(next.profiles);
  const changedProfile = before.profile !== next.profile;
  const stillThere = Object.hasOwn(next.profiles, inForce);
  const retimed = stillThere && JSON.stringify(before.profiles[inForce]) !== JSON.stringify(next.profiles[inForce]);
  if (changedProfile || !stillThere) await p.queue.setProfile(next.profile);
  else if (retimed) await p.queue.setProfile(inForce);
}
