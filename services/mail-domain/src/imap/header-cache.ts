/**
 * Parsed message headers shared by all IMAP sessions of a server, so that a
 * client listing a mailbox (FETCH of a few header fields for every message,
 * ENVELOPE) or searching SUBJECT / FROM does not re-read and re-parse the
 * mbox file each time: what Dovecot keeps in its cache file, kept here in
 * memory. A message's content never changes under its UID within one
 * UIDVALIDITY (a changed message gets a new UID), so entries never go stale;
 * beyond a memory budget the least recently used ones are dropped. A whole
 * big mailbox is gone through batch by batch (`each`), so what a command
 * holds stays bounded; the store reads the headers from its index file.
 *
 * What a mailbox listing or a header SEARCH needs of each message (its
 * ENVELOPE, a HEADER.FIELDS section, the text a SEARCH SUBJECT looks in)
 * is small next to its parsed header, so those values are remembered too,
 * per value and message (`eachDerived`), under a budget of their own: a
 * client listing 100,000 messages again then costs no parse at all. They
 * are dropped a whole kind at a time (one folder's ENVELOPEs), least
 * recently used first, so that listings larger than the budget do not
 * evict each other message by message. A derivation that can `pack` its
 * values is remembered as octets in large buffers of its kind (issue 15:
 * 100,000 ENVELOPEs as trees of strings and objects took over 100 MB of
 * heap, as octets a third of that, outside the heap and with no objects
 * per message), unpacked when used.
 */
import type { MailStore } from '../store/types';
import { headerValue, parseHeaderFields, parseParams, type MimeEntity } from './mime';

/** Default memory budget, in estimated octets. */
export const HEADER_CACHE_BUDGET = 32 * 1024 * 1024;
/** Default budget of the derived values, in estimated octets (packed ones: their octets and their map entry). */
export const DERIVED_BUDGET = 64 * 1024 * 1024;
/** Octets of one buffer of packed values; a larger value gets a buffer of its own. */
const SLAB = 256 * 1024;
/** Estimated octets of a packed value besides its own: its map entry. */
const PACKED_OVERHEAD = 24;
/** Messages asked from the store per readMany: few enough that a batch's parsed headers die young (see cmd-search.ts). */
const BATCH = 64;

/** A value computed from a message's header alone, remembered per message. */
export interface Derivation<T> {
  /** Names the value within a folder, e.g. `ENVELOPE` or `BODY[HEADER.FIELDS (FROM)]`. */
  readonly key: string;
  derive(entity: MimeEntity): T;
  /** Estimated octets the value holds (of a value remembered as it is). */
  cost(value: T): number;
  /** The value as octets to remember instead of the value; `unpack` gives back a value that answers the same. */
  pack?(value: T): Buffer;
  unpack?(data: Buffer): T;
}

interface DerivedValues {
  /** The values, or for a packed kind where each lies in `slabs` (see `place`). */
  values: Map<number, unknown>;
  slabs: Buffer[];
  /** The slab being filled (-1: none yet), and its octets used. */
  current: number;
  slabUsed: number;
  cost: number;
  used: number;
  /** Dropped from the cache (a command still going through it adds nothing more). */
  dropped: boolean;
  /** Did not fit the budget: adds values only while there is room, evicts nothing. */
  full: boolean;
}

/** A message entity with only its header: enough for ENVELOPE, HEADER, HEADER.FIELDS and header searches. */
export function headerEntity(header: Buffer): MimeEntity {
  const fields = parseHeaderFields(header);
  return { header, body: Buffer.alloc(0), fields, contentType: parseParams(headerValue(fields, 'content-type'), 'text/plain'), children: [], message: null };
}

/** Where a packed value lies: slab number and offset in one number. */
const OFFSET_RANGE = 2 ** 22;
const place = (slab: number, offset: number) => slab * OFFSET_RANGE + offset;
function unplace(m: DerivedValues, at: number): Buffer {
  const slab = m.slabs[Math.floor(at / OFFSET_RANGE)];
  const offset = at % OFFSET_RANGE;
  return slab.subarray(offset + 4, offset + 4 + slab.readUInt32LE(offset));
}

interface Cached {
  entity: MimeEntity;
  cost: number;
  used: number;
}

export class HeaderCache {
  /** Per `user NUL folder NUL uidValidity`, per UID. */
  private readonly folders = new Map<string, Map<number, Cached>>();
  private used = 0;
  private tick = 0;

  /** Per `user NUL folder NUL uidValidity NUL derivation key`. */
  private readonly derived = new Map<string, DerivedValues>();
  private derivedUsed = 0;

  constructor(
    private readonly budget = HEADER_CACHE_BUDGET,
    private readonly derivedBudget = DERIVED_BUDGET,
  ) {}

  /** Estimated octets held by derived values. */
  get derivedSize(): number {
    return this.derivedUsed;
  }

  /**
   * Calls `fn` with the values of `derivations` for each of `uids`, in that
   * order, from the remembered values, reading and parsing only the headers
   * of messages with a value missing (batch by batch; messages that are gone
   * are left out); `between` runs after each batch.
   */
  async eachDerived(
    store: MailStore,
    user: string,
    folder: string,
    uidValidity: number,
    uids: readonly number[],
    derivations: ReadonlyArray<Derivation<unknown>>,
    fn: (uid: number, values: unknown[]) => void,
    between?: () => Promise<void>,
  ): Promise<void> {
    const folderKey = `${user}\u0000${folder}\u0000${uidValidity}`;
    const maps = derivations.map((d) => {
      const key = `${folderKey}\u0000${d.key}`;
      let m = this.derived.get(key);
      if (!m) this.derived.set(key, (m = { values: new Map(), slabs: [], current: -1, slabUsed: 0, cost: 0, used: 0, dropped: false, full: false }));
      return m;
    });
    for (let i = 0; i < uids.length; i += BATCH) {
      const batch = uids.slice(i, i + BATCH);
      const tick = ++this.tick;
      for (const m of maps) m.used = tick;
      const missing = batch.filter((uid) => maps.some((m) => !m.values.has(uid)));
      const entities = new Map<number, MimeEntity>();
      if (missing.length) {
        const headers = await store.readMany(user, folder, missing, 'header');
        missing.forEach((uid, j) => {
          const header = headers[j];
          if (header) entities.set(uid, headerEntity(header));
        });
      }
      for (const uid of batch) {
        const values: unknown[] = [];
        for (let k = 0; k < maps.length; k++) {
          const m = maps[k];
          const d = derivations[k];
          if (m.values.has(uid)) {
            const held = m.values.get(uid);
            values.push(d.unpack ? d.unpack(unplace(m, held as number)) : held);
            continue;
          }
          const entity = entities.get(uid);
          if (!entity) break;
          const value = d.derive(entity);
          if (d.pack) this.admitPacked(m, uid, d.pack(value));
          else this.admit(m, uid, value, d.cost(value));
          values.push(value);
        }
        if (values.length === maps.length) fn(uid, values);
      }
      if (between && i + BATCH < uids.length) await between();
    }
  }

  /** Remembers a packed value in its kind's slabs, if the budget allows. */
  private admitPacked(m: DerivedValues, uid: number, data: Buffer): void {
    if (!this.room(m, data.length + PACKED_OVERHEAD)) return;
    const need = data.length + 4;
    let slab: number;
    let offset: number;
    if (need > SLAB / 4) {
      // A large value: a slab of its own.
      m.slabs.push(Buffer.allocUnsafeSlow(need));
      slab = m.slabs.length - 1;
      offset = 0;
    } else {
      if (m.current < 0 || m.slabUsed + need > SLAB) {
        m.slabs.push(Buffer.allocUnsafeSlow(SLAB));
        m.current = m.slabs.length - 1;
        m.slabUsed = 0;
      }
      slab = m.current;
      offset = m.slabUsed;
      m.slabUsed += need;
    }
    m.slabs[slab].writeUInt32LE(data.length, offset);
    data.copy(m.slabs[slab], offset + 4);
    m.values.set(uid, place(slab, offset));
    m.cost += data.length + PACKED_OVERHEAD;
    this.derivedUsed += data.length + PACKED_OVERHEAD;
  }

  /** Is there room for `cost` more octets of kind `m` (other kinds dropped, least recently used first, to make it)? */
  private room(m: DerivedValues, cost: number): boolean {
    if (m.dropped) return false;
    if (this.derivedUsed + cost > this.derivedBudget) {
      if (m.full) return false;
      const others = [...this.derived].filter(([, o]) => o !== m).sort((a, b) => a[1].used - b[1].used);
      for (const [key, o] of others) {
        if (this.derivedUsed + cost <= this.derivedBudget) break;
        this.derived.delete(key);
        o.dropped = true;
        this.derivedUsed -= o.cost;
      }
      if (this.derivedUsed + cost > this.derivedBudget) {
        m.full = true;
        return false;
      }
    }
    return true;
  }

  private admit(m: DerivedValues, uid: number, value: unknown, cost: number): void {
    if (!this.room(m, cost)) return;
    m.values.set(uid, value);
    m.cost += cost;
    this.derivedUsed += cost;
  }

  /** Estimated octets held. */
  get size(): number {
    return this.used;
  }

  /**
   * Calls `fn` with the header entity of each of `uids`, in that order, a
   * batch at a time (messages that are gone are left out); `between` runs
   * after each batch (e.g. to let the socket drain).
   */
  async each(store: MailStore, user: string, folder: string, uidValidity: number, uids: readonly number[], fn: (uid: number, entity: MimeEntity) => void, between?: () => Promise<void>): Promise<void> {
    for (let i = 0; i < uids.length; i += BATCH) {
      const batch = uids.slice(i, i + BATCH);
      const got = await this.headers(store, user, folder, uidValidity, batch);
      for (const uid of batch) {
        const entity = got.get(uid);
        if (entity) fn(uid, entity);
      }
      if (between && i + BATCH < uids.length) await between();
    }
  }

  /** Header entities of `uids` (missing from the result: messages that are gone). */
  async headers(store: MailStore, user: string, folder: string, uidValidity: number, uids: readonly number[]): Promise<Map<number, MimeEntity>> {
    const key = `${user}\u0000${folder}\u0000${uidValidity}`;
    const out = new Map<number, MimeEntity>();
    const missing: number[] = [];
    const tick = ++this.tick;
    const cached = this.folders.get(key);
    for (const uid of uids) {
      const hit = cached?.get(uid);
      if (hit) {
        hit.used = tick;
        out.set(uid, hit.entity);
      } else missing.push(uid);
    }
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      const headers = await store.readMany(user, folder, batch, 'header');
      batch.forEach((uid, j) => {
        const header = headers[j];
        if (!header) return;
        const entity = headerEntity(header);
        out.set(uid, entity);
        this.add(key, uid, entity, tick);
      });
    }
    return out;
  }

  private add(key: string, uid: number, entity: MimeEntity, tick: number): void {
    // The header octets, its fields as strings (counted generously) and object overhead.
    const cost = entity.header.length * 3 + entity.fields.length * 64 + 256;
    let folder = this.folders.get(key);
    if (cost > this.budget || folder?.has(uid)) return;
    if (!folder) this.folders.set(key, (folder = new Map()));
    folder.set(uid, { entity, cost, used: tick });
    this.used += cost;
    if (this.used > this.budget) this.evict();
  }

  /** Drops the least recently used entries down to 3/4 of the budget (rare: sorting is fine). */
  private evict(): void {
    const all: Array<[string, number, Cached]> = [];
    for (const [key, folder] of this.folders) for (const [uid, c] of folder) all.push([key, uid, c]);
    all.sort((a, b) => a[2].used - b[2].used);
    for (const [key, uid, c] of all) {
      if (this.used <= (this.budget * 3) / 4) break;
      const folder = this.folders.get(key)!;
      folder.delete(uid);
      if (folder.size === 0) this.folders.delete(key);
      this.used -= c.cost;
    }
  }
}
