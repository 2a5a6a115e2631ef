/**
 * Running a class on a mail domain's admin API: back to the class-start state
 * (`npx mail-lab reset`), mail put in for the worksheets (`npx mail-lab seed`)
 * and a changed lab definition taken without a restart (`npx mail-lab reload`,
 * ../reload.ts). The CLI (scripts/reset, scripts/seed, scripts/reload) calls
 * the same routes in a Docker and a no-Docker lab; they touch this server only.
 *
 *   POST /reset/mailboxes {users?}   every account (or those) emptied: store.emptyUser
 *   POST /reset/queue                every queued message dropped; the definition's queue profile back
 *   POST /deliver {from, to, message} a message queued for this domain's accounts, as a local
 *                                    submission (Postfix's sendmail command): its own Received line,
 *                                    then the queue's local delivery (Return-Path, Delivered-To, mbox)
 *   POST /lab/reload {text, file, dryRun, force}
 */
import { MAIL_API } from '../../../core/src/admin/api';
import { ApiError } from '../../../core/src/admin/errors';
import type { AdminRouter } from '../../../core/src/admin/router';
import type { AccountDirectory } from '../accounts';
import { headerSection, missingHeaders, refuseReason, rfc5322Date } from '../smtp/message';
import { parseMailbox } from '../smtp/commands';
import { reloadDomain, type ReloadParts } from '../reload';

export interface ClassRouteOptions extends ReloadParts {
  hostname: string;
  maxMessageSize: number;
  now?: () => Date;
}

/** The recipients of a local submission: this domain's accounts, aliases expanded to them. */
function localRecipients(accounts: AccountDirectory, domain: string, to: string[]): string[] {
  const out: string[] = [];
  for (const address of to) {
    const box = parseMailbox(address);
    if (!box || box.domain !== domain) throw new ApiError(400, 'bad-argument', `to: <${address}> is not an address of ${domain} (a local submission delivers only here)`, 'to');
    const user = accounts.localUser(box.local);
    const members = user ? [`${user}@${domain}`] : accounts.expandAlias(box.local);
    if (!members) throw new ApiError(404, 'unknown-user', `no account or alias ${box.local} at ${domain}`);
    for (const m of members) if (m.endsWith('@' + domain) && !out.includes(m)) out.push(m);
  }
  return out;
}

/** The Received line a local submission gets: no client, no network (RFC 5321 4.4 allows the FROM clause to be left out). */
const localReceived = (hostname: string, id: string, date: Date) => `Received: by ${hostname} (mail-lab, local submission through the admin API)\r\n\tid ${id}; ${rfc5322Date(date)}\r\n`;

export function classRoutes(router: AdminRouter, o: ClassRouteOptions): void {
  const { store, queue } = o;
  const domain = o.lab.domain;
  router
    .on(MAIL_API.resetMailboxes, async ({ users }) => {
      const list = users ?? o.accounts.users();
      for (const u of list) if (!store.hasUser(u)) throw new ApiError(404, 'unknown-user', `no user ${u} at ${domain}`);
      const done = [];
      for (const user of list) done.push({ user, ...(await store.emptyUser(user)) });
      const messages = done.reduce((n, d) => n + d.messages, 0);
      const folders = done.reduce((n, d) => n + d.folders, 0);
      o.logger.info(`mailboxes reset: ${done.length} account(s), ${messages} message(s) removed, ${folders} folder(s) deleted`, { by: 'admin' });
      o.events.publish('lab.reset', { what: 'mailboxes', users: done.length, messages, folders });
      return { users: done, messages, folders };
    })
    .on(MAIL_API.resetQueue, async () => {
      const dropped = await queue.clear();
      const wanted = o.lab.defined.profile;
      const previous = queue.profile().name;
      const profile = previous !== wanted ? { previous, name: (await queue.setProfile(wanted)).profile.name } : null;
      o.logger.info(`queue reset: ${dropped.length} message(s) dropped${profile ? `, queue profile ${previous} -> ${wanted}` : ''}`, { by: 'admin' });
      o.events.publish('lab.reset', { what: 'queue', dropped: dropped.length });
      return { dropped, profile };
    })
    .on(MAIL_API.deliver, async ({ from, to, message }) => {
      const recipients = localRecipients(o.accounts, domain, to);
      if (from && !parseMailbox(from)) throw new ApiError(400, 'bad-argument', `from: <${from}> is not an address`, 'from');
      const data = Buffer.from(message, 'base64');
      const refused = refuseReason(data);
      if (refused) throw new ApiError(400, 'bad-argument', `message: ${refused.text}`, 'message');
      if (data.length > o.maxMessageSize) throw new ApiError(400, 'bad-argument', `message: ${data.length} octets, over the limit of ${o.maxMessageSize}`, 'message');
      const id = queue.newId();
      const date = o.now?.() ?? new Date();
      const full = Buffer.concat([Buffer.from(localReceived(o.hostname, id, date) + missingHeaders(headerSection(data), id, o.hostname, date), 'latin1'), data]);
      await queue.enqueue({ id, from, recipients: recipients.map((address) => ({ address, local: true })), message: full });
      return { id, recipients };
    })
    .on(MAIL_API.reload, (req) => reloadDomain(o, req));
}
