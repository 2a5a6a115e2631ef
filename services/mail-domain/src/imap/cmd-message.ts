/**
 * Commands on the selected mailbox's messages: STORE (RFC 3501 6.4.6),
 * COPY with COPYUID (6.4.7, RFC 4315), MOVE (RFC 6851), EXPUNGE and UID
 * EXPUNGE (6.4.3, RFC 4315), CLOSE (6.4.2, silent expunge) and UNSELECT
 * (RFC 3691). EXPUNGE responses themselves come from the session's update
 * flush, so the sequence-number bookkeeping lives in one place.
 */
import type { Command, CommandOf } from './commands';
import { bad, failure, no, ok, type Result } from './result';
import { formatSequence, type SequenceSet } from './sequence';
import type { Session } from './session';
import { formatFlags, SYSTEM_FLAGS, type MailboxView } from './view';
import { raw } from './wire';

type Cmd<N extends Command['name']> = CommandOf<N>;

function resolve(s: Session, cmd: { set: SequenceSet; uid: boolean }): number[] | Result {
  try {
    return s.view!.resolve(cmd.set, cmd.uid);
  } catch (error) {
    return bad((error as Error).message);
  }
}

export async function store(s: Session, _tag: string, cmd: Cmd<'STORE'>): Promise<Result> {
  const view = s.view!;
  if (view.readOnly) return no('Mailbox is read-only (opened with EXAMINE)', 'READ-ONLY');
  const uids = resolve(s, cmd);
  if (!Array.isArray(uids)) return uids;
  const flags: string[] = [];
  for (const flag of cmd.flags) {
    if (flag.toLowerCase() === '\\recent') continue; // RFC 3501 2.3.2: \Recent cannot be stored
    if (flag.startsWith('\\')) {
      const system = SYSTEM_FLAGS.find((f) => f.toLowerCase() === flag.toLowerCase());
      if (!system) return bad(`Unknown system flag ${flag}`);
      flags.push(system);
    } else flags.push(flag);
  }
  const existing = new Set(view.uids);
  const updated = await s.ctx.store.setFlags(view.user, view.folder, uids.filter((u) => existing.has(u)), cmd.op, flags);
  // RFC 3501 7.2.6: new keywords, ours or set by another session on these messages, before the FETCH responses.
  for (const line of view.announceKeywords([...flags, ...updated.flatMap((info) => info.flags)])) s.untagged(line);
  const seqs = view.seqMap();
  updated.sort((a, b) => seqs.get(a.uid)! - seqs.get(b.uid)!);
  for (const info of updated) {
    view.noteFlags(info);
    if (cmd.silent) continue;
    const items = [raw('FLAGS'), formatFlags(info.flags, view.recent.has(info.uid))];
    if (cmd.uid) items.push(raw('UID'), info.uid);
    s.untagged([seqs.get(info.uid)!, raw('FETCH'), items]);
  }
  return ok(`${cmd.uid ? 'UID ' : ''}STORE completed`);
}

export async function copy(s: Session, _tag: string, cmd: Cmd<'COPY' | 'MOVE'>): Promise<Result> {
  const view = s.view!;
  if (cmd.name === 'MOVE' && view.readOnly) return no('Mailbox is read-only (opened with EXAMINE)', 'READ-ONLY');
  const resolved = resolve(s, cmd);
  if (!Array.isArray(resolved)) return resolved;
  const snap = await s.ctx.store.snapshot(view.user, view.folder);
  const present = new Set(snap.messages.map((m) => m.uid));
  const uids = resolved.filter((u) => present.has(u));
  const verb = `${cmd.uid ? 'UID ' : ''}${cmd.name}`;
  let result;
  try {
    result = await s.ctx.store.copy(view.user, view.folder, uids, cmd.mailbox);
  } catch (error) {
    return failure(error, s.log, 'TRYCREATE');
  }
  if (cmd.mailbox === view.folder) view.dirty = true;
  const code = uids.length > 0 ? `COPYUID ${result.uidValidity} ${formatSequence(uids)} ${formatSequence(result.uids)}` : undefined;
  if (cmd.name === 'COPY') return ok(`${verb} completed`, code);
  // RFC 6851 section 4.3: COPYUID goes in an untagged OK before the EXPUNGE responses.
  if (code) s.writeText(`* OK [${code}] Moved`);
  await s.ctx.store.expunge(view.user, view.folder, uids);
  view.dirty = true;
  return ok(`${verb} completed`);
}

/** EXPUNGE, or UID EXPUNGE limited to a UID set (RFC 4315 section 2.1). */
export async function expunge(s: Session, _tag: string, cmd: Cmd<'EXPUNGE'>): Promise<Result> {
  const view = s.view!;
  if (view.readOnly) return no('Mailbox is read-only (opened with EXAMINE)', 'READ-ONLY');
  let limit: Set<number> | null = null;
  if (cmd.set) {
    const uids = resolve(s, { set: cmd.set, uid: true });
    if (!Array.isArray(uids)) return uids;
    limit = new Set(uids);
  }
  await expungeDeleted(s, view, limit);
  view.dirty = true;
  return ok(`${cmd.uid ? 'UID ' : ''}EXPUNGE completed`);
}

async function expungeDeleted(s: Session, view: MailboxView, limit: Set<number> | null): Promise<void> {
  const snap = await s.ctx.store.snapshot(view.user, view.folder);
  const doomed = snap.messages.filter((m) => m.flags.includes('\\Deleted') && (!limit || limit.has(m.uid))).map((m) => m.uid);
  if (doomed.length > 0) await s.ctx.store.expunge(view.user, view.folder, doomed);
}

/** CLOSE expunges silently (no untagged EXPUNGE, RFC 3501 6.4.2); UNSELECT does not expunge. */
export async function close(s: Session, _tag: string, cmd: Cmd<'CLOSE' | 'UNSELECT'>): Promise<Result> {
  const view = s.view!;
  s.view = null;
  s.state = 'authenticated';
  if (cmd.name === 'CLOSE' && !view.readOnly) await expungeDeleted(s, view, null);
  return ok(`${cmd.name} completed`);
}
