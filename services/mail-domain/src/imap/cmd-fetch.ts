/**
 * FETCH and UID FETCH (RFC 3501 sections 6.4.5, 6.4.8, 7.4.2): flags, dates,
 * sizes, ENVELOPE, BODY/BODYSTRUCTURE from a real MIME parse, BODY[section]
 * with partial ranges. Fetching a body without PEEK sets \Seen (unless the
 * mailbox is read-only) and the new FLAGS are reported with the data.
 * Header-only requests (the usual mailbox listing) come from the server's
 * header cache, which remembers each item's encoded value per message;
 * anything else reads each message (a retrieval the trace journal records).
 */
import type { Command, CommandOf, FetchAtt } from './commands';
import { sectionLabel } from './fetch-parse';
import { parseEntity, type MimeEntity } from './mime';
import { bad, ok, type Result } from './result';
import { sectionData } from './sections';
import type { Session } from './session';
import { bodyStructure, envelope } from './structure';
import { formatFlags, InfoIndex } from './view';
import { Encoded, formatInternalDate, pack, raw, type ImapValue, type Raw } from './wire';
import type { Derivation } from './header-cache';
import type { MessageInfo } from '../store/types';

type Cmd<N extends Command['name']> = CommandOf<N>;

const METADATA_ONLY = new Set(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'UID']);

/** Items answered from the top-level header alone (served by the shared header cache). */
function headerOnly(att: FetchAtt): boolean {
  if (METADATA_ONLY.has(att.kind) || att.kind === 'ENVELOPE' || att.kind === 'RFC822.HEADER') return true;
  return att.kind === 'section' && att.path.length === 0 && (att.part === 'HEADER' || att.part === 'HEADER.FIELDS' || att.part === 'HEADER.FIELDS.NOT');
}

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
  const infos = new InfoIndex(snap.messages);
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
  const reportsFlags = atts.some((a) => a.kind === 'FLAGS');
  const respond = (uid: number, info: MessageInfo, message: Buffer | null, entity: MimeEntity | null) => {
    const items: ImapValue[] = [];
    const recent = view.recent.has(uid);
    for (const att of atts) items.push(...item(att, info, message, entity, recent));
    finish(uid, info, recent, items);
  };
  const finish = (uid: number, info: MessageInfo, recent: boolean, items: ImapValue[]) => {
    if (flagsChanged.has(uid) && !reportsFlags) items.push(raw('FLAGS'), formatFlags(info.flags, recent));
    if (flagsChanged.has(uid) || reportsFlags) {
      // RFC 3501 7.2.6: a keyword another session set is announced in FLAGS before a FETCH shows it.
      for (const line of view.announceKeywords(info.flags)) s.untagged(line);
      view.noteFlags(info);
    }
    s.untagged([seqs.get(uid)!, raw('FETCH'), items]);
  };
  if (needsContent && atts.every(headerOnly)) {
    // Header items only (a client listing the mailbox): each item's value as the header cache remembers it
    // (encoded once), batch by batch; only messages not seen before are read (their header, from the index).
    const present = uids.filter((u) => infos.has(u));
    const derived = atts.filter((a) => !METADATA_ONLY.has(a.kind));
    const derivations = derived.map(derivationOf);
    await s.ctx.headers.eachDerived(
      store,
      view.user,
      view.folder,
      snap.uidValidity,
      present,
      derivations,
      (uid, values) => {
        const info = infos.get(uid)!;
        const recent = view.recent.has(uid);
        const items: ImapValue[] = [];
        for (const att of atts) {
          const k = derived.indexOf(att);
          if (k < 0) items.push(...item(att, info, null, null, recent));
          else items.push(headerLabel(att), values[k] as ImapValue);
        }
        finish(uid, info, recent, items);
      },
      () => s.drained(),
    );
    return ok(`${cmd.uid ? 'UID ' : ''}FETCH completed`);
  }
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
    respond(uid, info, message, entity);
  }
  return ok(`${cmd.uid ? 'UID ' : ''}FETCH completed`);
}

/** The label of a header-only item that is not metadata (ENVELOPE, RFC822.HEADER, BODY[HEADER…]). */
function headerLabel(att: FetchAtt): Raw {
  return att.kind === 'section' ? labelOf(att) : raw(att.kind);
}

/** A header-only item's value as the header cache remembers it: computed from the header, kept as the octets it is written as. */
function derivationOf(att: FetchAtt): Derivation<ImapValue> {
  const key = att.kind === 'section' ? `${sectionLabel(att)}${att.partial ? `.${att.partial.length}` : ''}` : att.kind;
  return {
    key,
    derive: (entity) => item(att, NO_INFO, entity.header, entity, false)[1],
    cost: () => 0, // packed: counted by its octets
    pack,
    unpack: (data) => new Encoded(data),
  };
}
/** Header-only items never look at the message's info. */
const NO_INFO: MessageInfo = { uid: 0, flags: [], internalDate: new Date(0), size: 0, uniqueId: '' };

/** Section labels, built once per parsed command rather than once per message. */
const labels = new WeakMap<FetchAtt, Raw>();
function labelOf(att: Extract<FetchAtt, { kind: 'section' }>): Raw {
  let label = labels.get(att);
  if (!label) labels.set(att, (label = raw(sectionLabel(att))));
  return label;
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
      return [labelOf(att), sectionData(entity!, message!, att)];
  }
}
