/**
 * `npx mail-lab seed`: the mail the POP3 and IMAP worksheets expect, put into
 * the mailboxes before a class (the sets: lab-scenarios/seed.yaml). Each
 * message is made as a mail program makes one (Date, From, To, Subject,
 * Message-ID, MIME text/plain UTF-8) and handed to the recipient domain's
 * queue through its admin API (`POST /deliver`, a local submission), so it
 * takes the real path: spool, delivery agent, Return-Path and Delivered-To,
 * appended to the mbox file. Faults, greylisting or `localSenders:
 * require-auth` do not stop it (it does not come over port 25), and the
 * command waits until every message is in its mailbox.
 *
 * A message whose Subject is already in the INBOX is left out, so `seed`
 * twice gives the worksheet's mailbox, not two copies.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MAIL_API } from '../../services/core/src/admin/api';
import { parseYamlWithSchema, studentAccounts, type LabConfig } from '../../services/core/src/config';
import { repoRoot } from '../lab-docker';
import type { LabTarget } from '../lab-target';

const address = z.string().regex(/^(?:[^<>]*<)?[a-z0-9._+-]+@[a-z0-9.-]+>?$/i, { message: 'is not an address (user@domain, or Name <user@domain>)' });

const seedSchema = z
  .object({
    version: z.literal(1),
    sets: z
      .array(
        z
          .object({
            worksheet: z.string().regex(/^[a-z0-9-]+$/),
            /** The account the worksheet uses. */
            to: z.string().regex(/^[a-z0-9._+-]+@[a-z0-9.-]+$/, { message: 'must be an account address such as siswa2@garudayaksa.com' }),
            /** Seeded when no --worksheet is given. @default true */
            default: z.boolean().default(true),
            messages: z.array(z.object({ from: address, subject: z.string().min(1), body: z.string() }).strict()).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type SeedSet = z.infer<typeof seedSchema>['sets'][number];

export class SeedError extends Error {
  override readonly name = 'SeedError';
}

export const defaultSeedFile = () => join(repoRoot(), 'lab-scenarios', 'seed.yaml');

/** The sets of a seed file (every problem with its place: LabConfigError). */
export function loadSeedFile(file = defaultSeedFile()): SeedSet[] {
  return parseYamlWithSchema(readFileSync(file, 'utf8'), file, seedSchema).data.sets;
}

/** One mailbox and the set it gets. */
export interface SeedDelivery {
  to: string;
  set: SeedSet;
}

/**
 * Who gets what: the default sets (or the worksheets named), each to its own account, or to
 * `to` (an address, or `students`: every generated student account of the set's domain).
 */
export function planSeed(config: LabConfig, sets: SeedSet[], o: { worksheets?: string[]; to?: string } = {}): SeedDelivery[] {
  const known = [...new Set(sets.map((s) => s.worksheet))];
  for (const w of o.worksheets ?? []) if (!known.includes(w)) throw new SeedError(`no seed set for worksheet "${w}"; seed.yaml has: ${known.join(', ')}`);
  const chosen = o.worksheets?.length ? sets.filter((s) => o.worksheets!.includes(s.worksheet)) : sets.filter((s) => s.default);
  const out: SeedDelivery[] = [];
  for (const set of chosen) {
    const domain = set.to.split('@')[1];
    const d = config.domains.find((x) => x.name === domain);
    if (!d) throw new SeedError(`the set ${set.worksheet} goes to ${set.to}, but ${domain} is not a domain of this lab (${config.domains.map((x) => x.name).join(', ')})`);
    let targets: string[];
    if (o.to === 'students') {
      targets = studentAccounts(d).map((s) => `${s.user}@${d.name}`);
      if (!targets.length) throw new SeedError(`${d.name} has no generated student accounts (students: in the lab definition), so --to students has nobody to seed`);
    } else if (o.to) {
      const [user, host] = o.to.toLowerCase().split('@');
      const t = config.domains.find((x) => x.name === host);
      if (!t || !(t.accounts.some((a) => a.user === user) || studentAccounts(t).some((s) => s.user === user))) throw new SeedError(`--to ${o.to} is not an account of this lab`);
      targets = [o.to.toLowerCase()];
    } else {
      const user = set.to.split('@')[0];
      if (!d.accounts.some((a) => a.user === user) && !studentAccounts(d).some((s) => s.user === user)) throw new SeedError(`the set ${set.worksheet} goes to ${set.to}, which is not an account of this lab`);
      targets = [set.to];
    }
    for (const to of targets) out.push({ to, set });
  }
  // Two worksheets in one account: their replies (counts, numbers) would not match the worksheets.
  if (!o.to) {
    const byAccount = new Map<string, string[]>();
    for (const x of out) byAccount.set(x.to, [...(byAccount.get(x.to) ?? []), x.set.worksheet]);
    for (const [to, ws] of byAccount) if (ws.length > 1) throw new SeedError(`${ws.join(' and ')} both use ${to}: together their replies would not match the worksheets; seed one of them (--worksheet), or give one another account (--to)`);
  }
  return out;
}

/** An encoded-word for a header with characters outside ASCII (RFC 2047). */
const headerText = (s: string) => (/^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`);

/** A message as a mail program writes it: CRLF line ends, UTF-8 text. */
export function seedMessage(m: { from: string; to: string; subject: string; body: string; date?: Date }): Buffer {
  const host = /@([^>\s]+)>?\s*$/.exec(m.from)?.[1] ?? 'mail-lab';
  const ascii = /^[\x00-\x7f]*$/.test(m.body);
  const body = m.body.replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, '\r\n');
  const headers = [
    `Date: ${(m.date ?? new Date()).toUTCString().replace('GMT', '+0000')}`,
    `From: ${m.from}`,
    `To: ${m.to}`,
    `Subject: ${headerText(m.subject)}`,
    `Message-ID: <seed.${Date.now().toString(36)}.${randomBytes(4).toString('hex')}@${host}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    `Content-Transfer-Encoding: ${ascii ? '7bit' : '8bit'}`,
  ];
  return Buffer.from(headers.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

const envelopeOf = (from: string) => (/<([^>]+)>/.exec(from)?.[1] ?? from).trim().toLowerCase();

/** The subjects already in an INBOX. */
async function subjectsIn(t: LabTarget, to: string): Promise<Set<string>> {
  const [user, domain] = to.split('@');
  const list = await t.mail(domain).call(MAIL_API.mailboxMessages, { user });
  return new Set(list.flatMap((m) => m.headers.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/).filter((h) => /^Subject:/i.test(h)).map((h) => h.replace(/^Subject:\s*/i, ''))));
}

export interface SeedResult {
  lines: string[];
  delivered: number;
  skipped: number;
}

/** Delivers the planned sets; waits (at most `timeoutMs`) until each message is in its mailbox. */
export async function seedLab(t: LabTarget, plan: SeedDelivery[], o: { timeoutMs?: number } = {}): Promise<SeedResult> {
  const lines: string[] = [];
  let delivered = 0;
  let skipped = 0;
  const pending: { domain: string; id: string; to: string; subject: string }[] = [];
  for (const { to, set } of plan) {
    const have = await subjectsIn(t, to);
    const domain = to.split('@')[1];
    let sent = 0;
    for (const m of set.messages) {
      if (have.has(headerText(m.subject)) || have.has(m.subject)) {
        skipped++;
        continue;
      }
      const message = seedMessage({ from: m.from, to, subject: m.subject, body: m.body });
      const r = await t.mail(domain).call(MAIL_API.deliver, { from: envelopeOf(m.from), to: [to], message: message.toString('base64') });
      pending.push({ domain, id: r.id, to, subject: m.subject });
      sent++;
    }
    lines.push(`${to}: ${sent ? `${sent} message(s) for ${set.worksheet}` : `the messages for ${set.worksheet} were already there`}${sent && sent < set.messages.length ? ` (${set.messages.length - sent} already there)` : ''}`);
  }
  const deadline = Date.now() + (o.timeoutMs ?? 20_000);
  for (const p of pending) {
    for (;;) {
      const e = await t.mail(p.domain).call(MAIL_API.queueEntry, { id: p.id }).catch(() => null);
      const r = e?.recipients.find((x) => x.address === p.to);
      if (r?.status === 'delivered') {
        delivered++;
        break;
      }
      if (r?.status === 'bounced' || Date.now() > deadline) throw new SeedError(`"${p.subject}" for ${p.to} (queue id ${p.id} at ${p.domain}) was not delivered: ${r?.detail ?? r?.lastError ?? 'still waiting'}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return { lines, delivered, skipped };
}
