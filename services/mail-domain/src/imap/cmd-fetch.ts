/**
 * FETCH and UID FETCH (RFC 3501 sections 6.4.5, 6.4.8, 7.4.2): flags, dates,
 * sizes, ENVELOPE, BODY/BODYSTRUCTURE from a real MIME parse, BODY[section]
 * with partial ranges. Fetching a body without PEEK sets \Seen (unless the
 * mailbox is read-only) and the new FLAGS are reported with the data.
 */
import type { Command, CommandOf, FetchAtt } from './commands';
import { sectionLabel } from './fetch-parse';
import { parseEntity, type MimeEntity } from './mime';
import { bad, ok, type Result } from './result';
import { sectionData } from './sections';
import type { Session } from './session';
import { bodyStructure, envelope } from './structure';
import { formatFlags } from './view';
import { formatInternalDate, raw, type ImapValue } from './wire';
import type { MessageInfo } from '../store/types';

type Cmd<N extends Command['name']> = CommandOf<N>;

const METADATA_ONLY = new Set(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'UID']);

function setsSeen(att: FetchAtt): boolean {
  return (att.kind === 'section' && !att.peek) || att.kind === 'RFC822' || att.kind === 'RFC822.TEXT';
}

export async function fetch(s: Session, _tag: string, cmd: Cmd<'FETCH'>): Promise<Result> {
  const view = s.view!;
  const store = s.ctx.store;
  let uids: number[];
  try {
    uids = view.resolve(cmd.set, cmd.uid);
  } catch (error) {
    return bad((error as Error).message);
  }
  // RFC 3501 6.4.8: UID FETCH always reports UID.
  const atts: FetchAtt[] = cmd.uid && !cmd.atts.some((a) => a.kind === 'UID') ? [{ kind: 'UID' }, ...cmd.atts] : cmd.atts;
  const snap = await store.snapshot(view.user, view.folder);
  const infos = new Map<number, MessageInfo>(snap.messages.map((m) => [m.uid, m]));
  const flagsChanged = new Set<number>();
  if (!view.readOnly && atts.some(setsSeen)) {
    const unseen = uids.filter((uid) => infos.get(uid) && !infos.get(uid)!.flags.includes('\\Seen'));
    if (unseen.length > 0) {
      for (const info of await store.setFlags(view.user, view.folder, unseen, 'add', ['\\Seen'])) {
        infos.set(info.uid, info);
        flagsChanged.add(info.uid);
      }
    }
  }
  const needsContent = atts.some((a) => !METADATA_ONLY.has(a.kind));
  const seqs = view.seqMap();
  for (const uid of uids) {
    const info = infos.get(uid);
    if (!info) continue; // expunged by another session; its EXPUNGE is still pending
    let message: Buffer | null = null;
    let entity: MimeEntity | null = null;
    if (needsContent) {
      message = await store.read(view.user, view.folder, uid);
      if (!message) continue;
      entity = parseEntity(message);
    }
    const items: ImapValue[] = [];
    for (const att of atts) items.push(...item(att, info, message, entity, view.recent.has(uid)));
    const reportsFlags = atts.some((a) => a.kind === 'FLAGS');
    if (flagsChanged.has(uid) && !reportsFlags) items.push(raw('FLAGS'), formatFlags(info.flags, view.recent.has(uid)));
    if (flagsChanged.has(uid) || reportsFlags) {
      // RFC 3501 7.2.6: a keyword another session set is announced in FLAGS before a FETCH shows it.
      for (const line of view.announceKeywords(info.flags)) s.untagged(line);
      view.noteFlags(info);
    }
    s.untagged([seqs.get(uid)!, raw('FETCH'), items]);
  }
  return ok(`${cmd.uid ? 'UID ' : ''}FETCH completed`);
}

function item(att: FetchAtt, info: MessageInfo, message: Buffer | null, entity: MimeEntity | null, recent: boolean): ImapValue[] {
  switch (att.kind) {
    case 'UID':
      return [raw('UID'), info.uid];
    case 'FLAGS':
      return [raw('FLAGS'), formatFlags(info.flags, recent)];
    case 'INTERNALDATE':
      return [raw('INTERNALDATE'), formatInternalDate(info.internalDate)];
    case 'RFC822.SIZE':
      return [raw('RFC822.SIZE'), info.size];
    case 'ENVELOPE':
      return [raw('ENVELOPE'), envelope(entity!)];
    case 'BODY':
      return [raw('BODY'), bodyStructure(entity!, false)];
    case 'BODYSTRUCTURE':
      return [raw('BODYSTRUCTURE'), bodyStructure(entity!, true)];
    case 'RFC822':
      return [raw('RFC822'), message!];
    case 'RFC822.HEADER':
      return [raw('RFC822.HEADER'), entity!.header];
    case 'RFC822.TEXT':
      return [raw('RFC822.TEXT'), entity!.body];
    case 'section':
      return [raw(sectionLabel(att)), sectionData(entity!, message!, att)];
  }
}
