/**
 * The measurements, the same for both servers: one IMAP session (LOGIN,
 * SELECT INBOX = the first open; then SELECT + `UID FETCH 1:* (FLAGS
 * ENVELOPE)`, the header FETCH and three SEARCHes, each run once cold and
 * `repeats` times more), then 1 + `repeats` POP3 sessions that time STAT
 * and LIST and RETR the first N messages one after another (no DELE,
 * QUIT), then one IMAP session that APPENDs one message to the big INBOX
 * and times the SELECT + listing FETCH after it, then APPENDs
 * `MORE_APPENDS` more (each alone is noisy: one fsync on a shared disk). Aims are judged on the
 * medians of the runs after the first. Times are from sending the command
 * to the last octet of its reply, on the client.
 */
import { performance } from 'node:perf_hooks';
import { ImapClient, Pop3Client } from './client';
import { SEARCH } from './generate';

export const FETCH_COMMAND = 'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])';
/** The mailbox listing of issue 15, timed together with the SELECT before it. */
export const LISTING_COMMAND = 'UID FETCH 1:* (FLAGS ENVELOPE)';
export const SEARCH_COMMANDS = {
  subject: `SEARCH SUBJECT "${SEARCH.subject}"`,
  body: `SEARCH BODY "${SEARCH.body}"`,
  from: `SEARCH FROM "${SEARCH.from}"`,
} as const;
export type SearchName = keyof typeof SEARCH_COMMANDS;

export interface Timed {
  /** The first run (caches cold: ours parses, Dovecot indexes). */
  firstMs: number;
  /** The runs after it. */
  runsMs: number[];
  medianMs: number;
}

export interface ServerMeasurement {
  /** LOGIN + first SELECT of the mailbox (Dovecot builds its index here, we read and hash the mbox). */
  openMs: number;
  /** SELECT INBOX + LISTING_COMMAND, in the same session after the first open. */
  listing: Timed & { responses: number; octets: number };
  fetch: Timed & { responses: number; octets: number };
  search: Record<SearchName, Timed & { hits: number }>;
  /** POP3: a first pass (Dovecot syncs its index, our process warms up), then `repeats` passes. */
  pop3: {
    messages: number;
    octets: number;
    firstMs: number;
    runsMs: number[];
    medianMs: number;
    firstMbPerSec: number;
    mbPerSec: number;
    /** USER + PASS (the maildrop opened), STAT and LIST (all messages) of each pass. */
    login: Timed;
    stat: Timed;
    list: Timed;
  };
  /** Peak resident memory of the server (the process tree: Dovecot's master and its imap/pop3 processes) while measured, MiB; set by the caller. */
  peakRssMiB?: number;
  /** One APPEND of a small message to the big INBOX, then the next SELECT + listing FETCH; then MORE_APPENDS APPENDs one after another (their times and median). */
  append: { appendMs: number; selectMs: number; listingMs: number; messagesAfter: number; moreMs: number[]; moreMedianMs: number };
}

/** The message APPENDed to the big mailbox (the same octets for both servers). */
export const APPENDED = Buffer.from(
  'From: Dewi Lestari <dewi.lestari@example.org>\r\nTo: siswa1@dadali.com\r\nSubject: Satu pesan baru\r\n' +
    'Date: Wed, 02 Dec 2026 08:00:00 +0000\r\nMessage-ID: <bench.append@example.org>\r\n\r\nPesan baru di kotak surat yang besar.\r\n',
);

/** APPENDs timed after the first (issue 15: an APPEND to a big folder is O(1)). */
export const MORE_APPENDS = 5;

export interface MeasureOptions {
  imapPort: number;
  pop3Port: number;
  login: string;
  password: string;
  repeats: number;
  pop3Messages: number;
  commandTimeoutMs: number;
  log: (line: string) => void;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
const timedOf = (ms: number[]): Timed => ({ firstMs: ms[0], runsMs: ms.slice(1), medianMs: median(ms.slice(1)) });
const msList = (ms: number[]) => ms.map((m) => m.toFixed(0)).join(' / ');

/** Connects until the server greets (it may still be starting), within `timeoutMs`. */
export async function waitForImap(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      (await ImapClient.connect(port, 2000)).close();
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`no IMAP greeting on 127.0.0.1:${port} within ${timeoutMs} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function measureServer(o: MeasureOptions): Promise<ServerMeasurement> {
  const imap = await ImapClient.connect(o.imapPort);
  let result: Omit<ServerMeasurement, 'pop3' | 'append'>;
  try {
    const t0 = performance.now();
    await imap.run(`LOGIN ${quote(o.login)} ${quote(o.password)}`, o.commandTimeoutMs);
    await imap.run('SELECT INBOX', o.commandTimeoutMs);
    const openMs = performance.now() - t0;
    o.log(`     LOGIN + SELECT ${openMs.toFixed(0)} ms`);
    const timed = async (command: string) => {
      const runs = [];
      for (let i = 0; i <= o.repeats; i++) runs.push(await imap.run(command, o.commandTimeoutMs));
      const ms = runs.map((r) => r.ms);
      return { first: runs[0], last: runs[runs.length - 1], t: { firstMs: ms[0], runsMs: ms.slice(1), medianMs: median(ms.slice(1)) } };
    };
    const listingMs: number[] = [];
    let listed = { untagged: 0, octets: 0 };
    for (let i = 0; i <= o.repeats; i++) {
      const sel = await imap.run('SELECT INBOX', o.commandTimeoutMs);
      const l = await imap.run(LISTING_COMMAND, o.commandTimeoutMs);
      listingMs.push(sel.ms + l.ms);
      listed = l;
    }
    const listing = { ...timedOf(listingMs), responses: listed.untagged, octets: listed.octets };
    o.log(`     SELECT + ${LISTING_COMMAND}: ${listed.untagged} responses, first ${listing.firstMs.toFixed(0)} ms, then ${msList(listing.runsMs)} ms`);
    const f = await timed(FETCH_COMMAND);
    o.log(`     FETCH ${f.last.untagged} responses, first ${f.t.firstMs.toFixed(0)} ms, then ${f.t.runsMs.map((m) => m.toFixed(0)).join(' / ')} ms`);
    const search = {} as ServerMeasurement['search'];
    for (const [name, command] of Object.entries(SEARCH_COMMANDS) as Array<[SearchName, string]>) {
      const s = await timed(command);
      search[name] = { ...s.t, hits: s.last.search.length };
      o.log(`     ${command}: ${s.last.search.length} hits, first ${s.t.firstMs.toFixed(0)} ms, then ${s.t.runsMs.map((m) => m.toFixed(0)).join(' / ')} ms`);
    }
    await imap.run('LOGOUT', o.commandTimeoutMs).catch(() => undefined);
    result = { openMs, listing, fetch: { ...f.t, responses: f.last.untagged, octets: f.last.octets }, search };
  } finally {
    imap.close();
  }

  const runsMs: number[] = [];
  const loginMs: number[] = [];
  const statMs: number[] = [];
  const listMs: number[] = [];
  let octets = 0;
  let messages = 0;
  for (let pass = 0; pass <= o.repeats; pass++) {
    const pop = await Pop3Client.connect(o.pop3Port);
    try {
      let t = performance.now();
      await pop.run(`USER ${o.login}`, false, o.commandTimeoutMs);
      await pop.run(`PASS ${o.password}`, false, o.commandTimeoutMs);
      loginMs.push(performance.now() - t);
      t = performance.now();
      const stat = await pop.run('STAT', false, o.commandTimeoutMs);
      statMs.push(performance.now() - t);
      t = performance.now();
      await pop.run('LIST', true, o.commandTimeoutMs);
      listMs.push(performance.now() - t);
      const n = Math.min(o.pop3Messages, Number(stat.first.split(' ')[1]) || 0);
      let passOctets = 0;
      const start = performance.now();
      for (let i = 1; i <= n; i++) passOctets += (await pop.run(`RETR ${i}`, true, o.commandTimeoutMs)).octets;
      runsMs.push(performance.now() - start);
      octets = passOctets;
      messages = n;
      await pop.run('QUIT', false, o.commandTimeoutMs).catch(() => undefined);
    } finally {
      pop.close();
    }
  }
  const [firstMs, ...rest] = runsMs;
  const medianMs = median(rest);
  o.log(`     POP3 RETR ${messages} messages (${(octets / 1e6).toFixed(1)} MB): first ${firstMs.toFixed(0)} ms, then ${rest.map((m) => m.toFixed(0)).join(' / ')} ms`);
  const login = timedOf(loginMs);
  const stat = timedOf(statMs);
  const list = timedOf(listMs);
  o.log(`     POP3 USER+PASS ${msList(loginMs)} ms, STAT ${msList(statMs)} ms, LIST ${msList(listMs)} ms`);
  const rate = (ms: number) => octets / 1e6 / (ms / 1000);
  const pop3 = { messages, octets, firstMs, runsMs: rest, medianMs, firstMbPerSec: rate(firstMs), mbPerSec: rate(medianMs), login, stat, list };

  const after = await ImapClient.connect(o.imapPort);
  let append: ServerMeasurement['append'];
  try {
    await after.run(`LOGIN ${quote(o.login)} ${quote(o.password)}`, o.commandTimeoutMs);
    await after.run('SELECT INBOX', o.commandTimeoutMs);
    const a = await after.append('INBOX', '(\\Seen)', APPENDED, o.commandTimeoutMs);
    const sel = await after.run('SELECT INBOX', o.commandTimeoutMs);
    const l = await after.run(LISTING_COMMAND, o.commandTimeoutMs);
    const moreMs: number[] = [];
    for (let i = 0; i < MORE_APPENDS; i++) moreMs.push((await after.append('INBOX', '(\\Seen)', APPENDED, o.commandTimeoutMs)).ms);
    append = { appendMs: a.ms, selectMs: sel.ms, listingMs: l.ms, messagesAfter: l.untagged, moreMs, moreMedianMs: median(moreMs) };
    o.log(`     APPEND ${a.ms.toFixed(1)} ms, then SELECT ${sel.ms.toFixed(0)} ms, ${LISTING_COMMAND} ${l.ms.toFixed(0)} ms (${l.untagged} messages); ${MORE_APPENDS} more APPENDs ${msList(moreMs)} ms`);
    await after.run('LOGOUT', o.commandTimeoutMs).catch(() => undefined);
  } finally {
    after.close();
  }
  return { ...result, pop3, append };
}
