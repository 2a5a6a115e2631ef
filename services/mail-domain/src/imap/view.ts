/**
 * A session's view of its selected mailbox: its own sequence-number map
 * (sequence number = index + 1 into `uids`), the flags it last reported, and
 * which messages are \Recent to it. `sync` compares the view with the store
 * and produces the untagged EXPUNGE / EXISTS / RECENT / FETCH responses that
 * bring the client up to date (RFC 3501 sections 5.2, 7.3, 7.4). Expunges
 * are held back while the caller may not send them (RFC 3501 section 7.4.1):
 * the expunged UIDs keep their sequence numbers until the next allowed point.
 */
import type { FolderChange, FolderSnapshot, MailStore, MessageInfo } from '../store/types';
import { inSequenceSet, maxExplicit, type SequenceSet } from './sequence';
import { raw, type ImapValue } from './wire';

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** Index of `uid` in ascending `uids` (binary search), or -1. */
function indexOfUid(uids: ArrayLike<number>, uid: number): number {
  let lo = 0;
  let hi = uids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const u = uids[mid];
    if (u === uid) return mid;
    if (u < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Index of the message with `uid` in `infos` (ascending UIDs, binary search), or -1. */
function indexOfInfo(infos: readonly MessageInfo[], uid: number): number {
  let lo = 0;
  let hi = infos.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const u = infos[mid].uid;
    if (u === uid) return mid;
    if (u < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The flags a session last told its client, by UID: those of the snapshot it
 * selected (looked up in it; a snapshot is never changed once handed out),
 * and on top the ones told since, and the UIDs expunged since. No map of
 * every message at SELECT (issue 15: 100,000 entries made a SELECT after an
 * APPEND cost 35-45 ms).
 */
class ToldFlags {
  private readonly since = new Map<number, readonly string[] | null>();

  constructor(private readonly selected: readonly MessageInfo[]) {}

  get(uid: number): readonly string[] | undefined {
    const told = this.since.get(uid);
    if (told !== undefined) return told ?? undefined;
    const i = indexOfInfo(this.selected, uid);
    return i >= 0 ? this.selected[i].flags : undefined;
  }

  has(uid: number): boolean {
    return this.get(uid) !== undefined;
  }

  set(uid: number, flags: readonly string[]): void {
    this.since.set(uid, flags);
  }

  delete(uid: number): void {
    this.since.set(uid, null);
  }
}

/**
 * A snapshot's messages by UID: a binary search over them (a folder's UIDs
 * ascend in mailbox order), and the infos a command changed on top. No map
 * of every message per command (issue 15: 100,000 entries each time).
 */
export class InfoIndex {
  private readonly changed = new Map<number, MessageInfo>();

  constructor(private readonly messages: readonly MessageInfo[]) {}

  get(uid: number): MessageInfo | undefined {
    const c = this.changed.get(uid);
    if (c) return c;
    const i = indexOfInfo(this.messages, uid);
    return i >= 0 ? this.messages[i] : undefined;
  }

  has(uid: number): boolean {
    return this.get(uid) !== undefined;
  }

  /** A changed info of a message of the snapshot. */
  set(uid: number, info: MessageInfo): void {
    this.changed.set(uid, info);
  }
}

/** Sequence numbers by UID for a command that reports many messages. */
export interface SeqLookup {
  get(uid: number): number | undefined;
}

/** Which messages have been announced as \Recent, server-wide (RFC 3501 section 2.3.2). */
export class RecentTracker {
  private readonly claimed = new Map<string, { uidValidity: number; uid: number }>();

  private key(user: string, folder: string): string {
    return `${user}\u0000${folder}`;
  }

  /** Highest UID some session has already seen (0 when none, or after a UIDVALIDITY change). */
  seen(user: string, folder: string, uidValidity: number): number {
    const entry = this.claimed.get(this.key(user, folder));
    return entry && entry.uidValidity === uidValidity ? entry.uid : 0;
  }

  claim(user: string, folder: string, uidValidity: number, uid: number): void {
    if (uid > this.seen(user, folder, uidValidity)) this.claimed.set(this.key(user, folder), { uidValidity, uid });
  }
}

export function formatFlags(flags: readonly string[], recent: boolean): ImapValue {
  return (recent ? [...flags, '\\Recent'] : [...flags]).map((f) => raw(f));
}

export class MailboxView {
  /** UIDs in sequence order, as this session knows them. */
  uids: number[];
  private readonly flags: ToldFlags;
  readonly recent = new Set<number>();
  /** Something changed in the store since the last sync. */
  dirty = false;
  /** The folder was deleted or rebuilt under us. */
  gone = false;
  /** Keywords announced in FLAGS / PERMANENTFLAGS. */
  readonly keywords = new Set<string>();
  private highestUid: number;
  /**
   * The store's changes to this folder since the last sync, as its events told them (`note`);
   * null when too many to keep. New mail and flag changes alone are synced by looking at those
   * messages only (`quickSync`), not at every message of a big mailbox.
   */
  private changes: FolderChange[] | null = [];

  constructor(
    readonly user: string,
    readonly folder: string,
    readonly readOnly: boolean,
    readonly uidValidity: number,
    snapshot: FolderSnapshot,
    private readonly tracker: RecentTracker,
  ) {
    const alreadySeen = tracker.seen(user, folder, uidValidity);
    this.uids = snapshot.messages.map((m) => m.uid);
    this.flags = new ToldFlags(snapshot.messages);
    for (const m of snapshot.messages) if (m.uid > alreadySeen) this.recent.add(m.uid);
    // A loop, not Math.max(...uids): a mailbox of 100,000 messages is too many arguments for a call.
    this.highestUid = this.uids.reduce((max, uid) => (uid > max ? uid : max), 0);
    if (!readOnly) tracker.claim(user, folder, uidValidity, this.highestUid);
    // A keyword is a flag without the backslash of a system flag (92).
    for (const m of snapshot.messages) for (const f of m.flags) if (f.charCodeAt(0) !== 92) this.keywords.add(f);
  }

  /** FLAGS and PERMANENTFLAGS, as SELECT sends them. */
  flagLists(): { flags: string[]; permanent: string[] } {
    const flags = [...SYSTEM_FLAGS, ...[...this.keywords].sort()];
    return { flags, permanent: this.readOnly ? [] : [...flags, '\\*'] };
  }

  /**
   * RFC 3501 7.2.6: when a new keyword comes into use, the client gets a new
   * FLAGS (and PERMANENTFLAGS) response before any FETCH showing it.
   */
  announceKeywords(flags: readonly string[]): ImapValue[][] {
    const fresh = flags.filter((f) => !f.startsWith('\\') && !this.keywords.has(f));
    if (fresh.length === 0) return [];
    for (const f of fresh) this.keywords.add(f);
    const { flags: all, permanent } = this.flagLists();
    return [
      [raw('FLAGS'), all.map(raw)],
      [raw('OK'), raw(`[PERMANENTFLAGS (${permanent.join(' ')})]`), raw('Flags permitted')],
    ];
  }

  /** UIDs a set names, in sequence order; throws RangeError for message numbers beyond EXISTS. */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (byUid) {
      const max = this.uids.length > 0 ? this.uids[this.uids.length - 1] : 0;
      return this.uids.filter((uid) => inSequenceSet(set, uid, max));
    }
    if (maxExplicit(set) > this.uids.length) {
      throw new RangeError(`Message number ${maxExplicit(set)} does not exist (${this.uids.length} messages)`);
    }
    return this.uids.filter((_, i) => inSequenceSet(set, i + 1, this.uids.length));
  }

  seqOf(uid: number): number {
    return indexOfUid(this.uids, uid) + 1;
  }

  /** uid -> sequence number, for commands that report many messages (a binary search: the view's UIDs ascend). */
  seqMap(): SeqLookup {
    const uids = this.uids;
    return {
      get: (uid) => {
        const i = indexOfUid(uids, uid);
        return i >= 0 ? i + 1 : undefined;
      },
    };
  }

  /** A change the store made to this folder (its event): remembered for the next sync. */
  note(change: FolderChange): void {
    this.dirty = true;
    if (this.changes && this.changes.push(change) > 1000) this.changes = null;
  }

  /** Untagged responses bringing the client from this view to `snap`. */
  sync(snap: FolderSnapshot, allowExpunge: boolean): ImapValue[][] {
    const out: ImapValue[][] = [];
    if (snap.uidValidity !== this.uidValidity) {
      this.gone = true;
      return out;
    }
    const changes = this.changes;
    this.changes = [];
    if (changes?.length && changes.every((c) => c.kind === 'append' || c.kind === 'flags')) {
      const quick = this.quickSync(snap, changes as Array<Extract<FolderChange, { kind: 'append' | 'flags' }>>);
      if (quick) return quick;
    }
    // The view's UIDs and the snapshot's both ascend: one walk along both (a big mailbox: no lookup per message).
    const msgs = snap.messages;
    if (allowExpunge) {
      let j = msgs.length - 1;
      for (let i = this.uids.length - 1; i >= 0; i--) {
        const uid = this.uids[i];
        while (j >= 0 && msgs[j].uid > uid) j--;
        if (j >= 0 && msgs[j].uid === uid) continue;
        out.push([i + 1, raw('EXPUNGE')]);
        this.uids.splice(i, 1);
        this.flags.delete(uid);
        this.recent.delete(uid);
      }
    }
    out.push(...this.take(snap.messages.filter((m) => m.uid > this.highestUid)));
    // Only keywords not announced yet matter (a big mailbox: no array of every message's flags).
    const fresh: string[] = [];
    for (const m of snap.messages) for (const f of m.flags) if (!f.startsWith('\\') && !this.keywords.has(f)) fresh.push(f);
    out.push(...this.announceKeywords(fresh));
    let j = 0;
    let missing = false;
    this.uids.forEach((uid, i) => {
      while (j < msgs.length && msgs[j].uid < uid) j++;
      const info = j < msgs.length && msgs[j].uid === uid ? msgs[j] : undefined;
      if (!info) {
        missing = true;
        return;
      }
      const update = this.flagsUpdate(i + 1, info);
      if (update) out.push(update);
    });
    // Expunges held back stay pending: the next command that may carry them sends them.
    if (!allowExpunge && missing) this.dirty = true;
    return out;
  }

  /**
   * sync() when the store told of new mail and flag changes only: the new messages are found
   * from the end of the snapshot, the changed flags by their UIDs, so a delivery into a big
   * selected mailbox costs its session O(new messages), not O(mailbox). Null (nothing changed
   * here) when the snapshot does not hold exactly this view's messages before the new ones
   * (something was expunged, or an event was missed): the full sync finds out what.
   */
  private quickSync(snap: FolderSnapshot, changes: Array<Extract<FolderChange, { kind: 'append' | 'flags' }>>): ImapValue[][] | null {
    const msgs = snap.messages;
    let k = msgs.length;
    while (k > 0 && msgs[k - 1].uid > this.highestUid) k--;
    if (k !== this.uids.length || (k > 0 && msgs[k - 1].uid !== this.uids[k - 1])) return null;
    const out: ImapValue[][] = [];
    const arrived = msgs.slice(k);
    out.push(...this.take(arrived));
    // The messages whose flags changed, in sequence order (those before the new ones: msgs[i] is uids[i]).
    const changed = new Set<number>();
    for (const c of changes) if (c.kind === 'flags') for (const uid of c.uids) changed.add(uid);
    const seqs = [...changed].map((uid) => indexOfUid(this.uids, uid)).filter((i) => i >= 0 && i < k).sort((a, b) => a - b);
    out.push(...this.announceKeywords([...arrived, ...seqs.map((i) => msgs[i])].flatMap((m) => m.flags)));
    for (const i of seqs) {
      const update = this.flagsUpdate(i + 1, msgs[i]);
      if (update) out.push(update);
    }
    return out;
  }

  /** FETCH FLAGS for message `seq` when its flags are not the ones the client was told (recorded as told); null when they are. */
  private flagsUpdate(seq: number, info: MessageInfo): ImapValue[] | null {
    const known = this.flags.get(info.uid);
    // The same frozen flags array (a message whose flags did not change) needs no comparison.
    if (known && (known === info.flags || known.join(' ') === info.flags.join(' '))) return null;
    this.flags.set(info.uid, info.flags);
    return [seq, raw('FETCH'), [raw('UID'), info.uid, raw('FLAGS'), formatFlags(info.flags, this.recent.has(info.uid))]];
  }

  /** Adds messages that arrived (UIDs above the view's) to the view: the EXISTS and RECENT to send, none when nothing came. */
  private take(arrived: readonly MessageInfo[]): ImapValue[][] {
    if (arrived.length === 0) return [];
    const alreadySeen = this.tracker.seen(this.user, this.folder, this.uidValidity);
    for (const m of arrived) {
      this.uids.push(m.uid);
      this.flags.set(m.uid, m.flags);
      if (m.uid > alreadySeen) this.recent.add(m.uid);
    }
    this.highestUid = arrived[arrived.length - 1].uid;
    if (!this.readOnly) this.tracker.claim(this.user, this.folder, this.uidValidity, this.highestUid);
    return [
      [this.uids.length, raw('EXISTS')],
      [this.recent.size, raw('RECENT')],
    ];
  }

  /** Records flags the session itself reported (STORE, FETCH), so sync does not repeat them. */
  noteFlags(info: MessageInfo): void {
    if (this.flags.has(info.uid)) this.flags.set(info.uid, info.flags);
  }

  static async open(store: MailStore, user: string, folder: string, readOnly: boolean, tracker: RecentTracker): Promise<MailboxView> {
    const snap = await store.snapshot(user, folder);
    return new MailboxView(user, folder, readOnly, snap.uidValidity, snap, tracker);
  }
}
