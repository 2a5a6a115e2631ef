/**
 * SEARCH and UID SEARCH (RFC 3501 sections 6.4.4, 6.4.8): CHARSET UTF-8 or
 * US-ASCII (others get NO [BADCHARSET]), every key evaluated by `search.ts`
 * against the session's view; message content is read only when a key
 * needs it: HEADER keys (SUBJECT, FROM …) over the lower-cased field texts
 * the server's header cache remembers per message, other header keys from
 * its parsed headers, BODY and TEXT from the messages, read in batches.
 */
import type { Command, CommandOf } from './commands';
import { parseEntity, type MimeEntity } from './mime';
import { no, ok, type Result } from './result';
import { headerFieldsOnly, headerHaystacks, matches, needsBody, needsContent } from './search';
import type { Derivation } from './header-cache';
import type { Session } from './session';
import { packSegments, raw, unpackStrings } from './wire';
import type { MessageInfo } from '../store/types';
import { InfoIndex } from './view';

type Cmd<N extends Command['name']> = CommandOf<N>;

const CHARSETS = ['UTF-8', 'US-ASCII'];

export async function search(s: Session, _tag: string, cmd: Cmd<'SEARCH'>): Promise<Result> {
  if (cmd.charset !== null && !CHARSETS.includes(cmd.charset)) {
    return no(`Charset ${cmd.charset} is not supported`, `BADCHARSET (${CHARSETS.join(' ')})`);
  }
  const view = s.view!;
  const snap = await s.ctx.store.snapshot(view.user, view.folder);
  const infos = new InfoIndex(snap.messages);
  const content = needsContent(cmd.key);
  const body = content && needsBody(cmd.key);
  const maxUid = view.uids.length > 0 ? view.uids[view.uids.length - 1] : 0;
  const live = view.uids.filter((uid) => infos.has(uid));
  const found: number[] = [];
  const target = (i: number, uid: number, info: MessageInfo, entity: MimeEntity | null) => ({
    seq: i + 1,
    uid,
    flags: info.flags,
    size: info.size,
    internalDate: info.internalDate,
    recent: view.recent.has(uid),
    maxSeq: view.uids.length,
    maxUid,
    entity: () => entity!,
  });
  const fields = content && !body ? headerFieldsOnly(cmd.key) : null;
  if (fields) {
    // HEADER keys only (SUBJECT, FROM …): over the haystacks the header cache remembers per message and field.
    const seq = view.seqMap();
    const hits = new Set<number>();
    // Remembered packed as octets (no strings per message in the heap), unpacked for each search.
    const derivations = fields.map((field): Derivation<string[]> => ({ key: `SEARCH ${field}`, derive: (e) => headerHaystacks(e, field), cost: () => 0, pack: packSegments, unpack: unpackStrings }));
    await s.ctx.headers.eachDerived(s.ctx.store, view.user, view.folder, snap.uidValidity, live, derivations, (uid, values) => {
      const haystacks = (field: string) => values[fields.indexOf(field)] as string[];
      if (matches(cmd.key, { ...target(seq.get(uid)! - 1, uid, infos.get(uid)!, null), haystacks })) hits.add(uid);
    });
    for (let i = 0; i < view.uids.length; i++) if (hits.has(view.uids[i])) found.push(cmd.uid ? view.uids[i] : i + 1);
    s.untagged([raw('SEARCH'), ...found]);
    return ok(`${cmd.uid ? 'UID ' : ''}SEARCH completed`);
  }
  if (content && !body) {
    // Other header keys (the Date: field): from the header cache, batch by batch.
    const seq = view.seqMap();
    const hits = new Set<number>();
    await s.ctx.headers.each(s.ctx.store, view.user, view.folder, snap.uidValidity, live, (uid, entity) => {
      if (matches(cmd.key, target(seq.get(uid)! - 1, uid, infos.get(uid)!, entity))) hits.add(uid);
    });
    for (let i = 0; i < view.uids.length; i++) if (hits.has(view.uids[i])) found.push(cmd.uid ? view.uids[i] : i + 1);
    s.untagged([raw('SEARCH'), ...found]);
    return ok(`${cmd.uid ? 'UID ' : ''}SEARCH completed`);
  }
  // BODY and TEXT read the messages in batches.
  let batch = new Map<number, Buffer | null>();
  let position = -1; // index of uid in `live`
  for (let i = 0; i < view.uids.length; i++) {
    const uid = view.uids[i];
    const info = infos.get(uid);
    if (!info) continue;
    position++;
    let entity: MimeEntity | null = null;
    if (body) {
      if (!batch.has(uid)) batch = await readBatch(s, live, position, infos);
      const message = batch.get(uid);
      if (!message) continue;
      entity = parseEntity(message);
    }
    if (matches(cmd.key, target(i, uid, info, entity))) found.push(cmd.uid ? uid : i + 1);
  }
  s.untagged([raw('SEARCH'), ...found]);
  return ok(`${cmd.uid ? 'UID ' : ''}SEARCH completed`);
}

/**
 * Messages read per batch for BODY/TEXT searches: a count and a size bound keep memory small.
 * Small enough that a batch's buffers and parsed parts die in V8's young generation instead of
 * being promoted to the old one, where only a full collection frees them (issue 15: 256 messages
 * and 8 MB made SEARCH BODY over a 1.7 GB INBOX take 14-16 s; 64 and 2 MB, 9-10 s).
 */
const BATCH_MESSAGES = 64;
const BATCH_OCTETS = 2 * 1024 * 1024;

/** The batch of messages from `live[start]` on, read in one pass. */
async function readBatch(s: Session, live: readonly number[], start: number, infos: InfoIndex): Promise<Map<number, Buffer | null>> {
  const view = s.view!;
  const uids: number[] = [];
  let octets = 0;
  for (let i = start; i < live.length && uids.length < BATCH_MESSAGES && (uids.length === 0 || octets < BATCH_OCTETS); i++) {
    uids.push(live[i]);
    octets += infos.get(live[i])?.size ?? 0;
  }
  const messages = await s.ctx.store.readMany(view.user, view.folder, uids, 'whole');
  return new Map(uids.map((uid, i) => [uid, messages[i]]));
}
