/**
 * SIGKILL during the three operations that rewrite or move mailboxes (issue
 * 5, durability): POP3 QUIT (UPDATE state, RFC 1939 6), IMAP EXPUNGE
 * (RFC 3501 6.4.3) and IMAP RENAME (RFC 3501 6.3.5, INBOX and a folder
 * hierarchy). A real mail-domain process holds a mailbox of a few thousand
 * messages (tens of MB, so the rewrite takes measurable time); the test
 * talks to it over real sockets and kills it with SIGKILL at a random
 * moment before, while, or after it commits. After each kill the process is
 * restarted, and the mailbox files are read independently (parsed here, not
 * through the store) and through IMAP:
 * - every mailbox holds exactly the messages of the state before the
 *   operation or exactly those of the state after it (by each message's
 *   unique X-Seq header), every message byte for byte complete;
 * - a kill after the server's reply leaves the "after" state (the reply
 *   promised it), a kill before the command was sent leaves "before";
 * - IMAP SELECT works, UIDs ascend below UIDNEXT, and while UIDVALIDITY is
 *   unchanged every message keeps its UID and its flags.
 * Kills are counted by phase (before the command / between command and
 * reply / after the reply); each phase must have been hit at least once.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMailDomain, freeDomainPorts, killAllChildren, removeDir, startChildDomain, tempDir, writeLabYaml, type ChildDomain, type DomainPorts } from './child-domain';
import { LineClient } from './line-client';

jest.setTimeout(120_000);

const DOMAIN = 'garudayaksa.com';
const USER = 'mbrain';
const PASSWORD = 'rahasia123';
const MESSAGES = 1500;
/** Lines of filler per message (about 8 KB each): ~12 MB in all. */
const FILLER_LINES = 110;

let build: string;
let root: string;

beforeAll(() => {
  build = buildMailDomain();
  root = tempDir('mail-lab-kill-');
});
afterAll(async () => {
  await killAllChildren();
  removeDir(build);
  removeDir(root);
});

/** Message `seq` exactly as it must be on disk (mbox: LF line ends, no separator). */
function messageText(seq: number): string {
  const lines = [`From: Sender ${seq} <sender${seq}@dadali.com>`, `To: ${USER}@${DOMAIN}`, `Subject: pesan nomor ${seq}`, `Message-ID: <${seq}.kill@dadali.com>`, `X-Seq: ${seq}`, ''];
  for (let i = 0; i < FILLER_LINES; i++) lines.push(`${seq}/${i} lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod`);
  lines.push(`END ${seq}`);
  return lines.join('\n') + '\n';
}

function mboxOf(seqs: number[]): string {
  return seqs.map((s) => `From sender${s}@dadali.com Thu Nov 26 09:00:00 2026\n${messageText(s)}\n`).join('');
}

/**
 * Reads an mbox file without the store: the X-Seq of every message in
 * order; throws when a message is not byte for byte what was written (a
 * torn or mixed file).
 */
function readMbox(path: string): number[] | null {
  if (!existsSync(path)) return null;
  const text = readFileSync(path, 'latin1');
  if (text === '') return [];
  const parts = text.split(/^From [^\n]*\n/m);
  if (parts[0] !== '') throw new Error(`${path}: does not start with a From line`);
  return parts.slice(1).map((part, i) => {
    const seq = Number(/^X-Seq: (\d+)$/m.exec(part)?.[1]);
    if (!Number.isInteger(seq) || part !== messageText(seq) + '\n') throw new Error(`${path}: message ${i + 1} is torn (${part.length} octets, starts ${JSON.stringify(part.slice(0, 60))})`);
    return seq;
  });
}

interface FolderView {
  uidValidity: number;
  uidNext: number;
  /** X-Seq -> UID and flags. */
  bySeq: Map<number, { uid: number; flags: string }>;
  order: number[];
}

async function login(port: number): Promise<LineClient> {
  const c = await LineClient.connect(port);
  await c.until(/^\* OK[^\r\n]*\r\n/);
  await c.imap(`LOGIN ${USER} ${PASSWORD}`);
  return c;
}

/** The folder as IMAP shows it: SELECT, then UID, FLAGS and X-Seq of every message. */
async function imapView(c: LineClient, folder: string): Promise<FolderView> {
  const sel = await c.imap(`SELECT "${folder}"`);
  const exists = Number(/^\* (\d+) EXISTS/m.exec(sel)?.[1]);
  const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(sel)?.[1]);
  const uidNext = Number(/UIDNEXT (\d+)/.exec(sel)?.[1]);
  const bySeq = new Map<number, { uid: number; flags: string }>();
  const order: number[] = [];
  if (exists > 0) {
    const text = await c.imap('FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (X-Seq)])');
    for (const chunk of text.split(/\r\n(?=\* \d+ FETCH)|^(?=\* \d+ FETCH)/).filter((x) => x.startsWith('*'))) {
      const uid = Number(/UID (\d+)/.exec(chunk)?.[1]);
      const flags = /FLAGS \(([^)]*)\)/.exec(chunk)?.[1] ?? '';
      const seq = Number(/X-Seq: (\d+)/i.exec(chunk)?.[1]);
      bySeq.set(seq, { uid, flags: flags.split(' ').filter((f) => f && f !== '\\Recent').sort().join(' ') });
      order.push(seq);
    }
  }
  expect(order.length).toBe(exists);
  return { uidValidity, uidNext, bySeq, order };
}

/** Checks one folder after a restart against the states it may be in. */
function checkFolder(name: string, disk: number[] | null, view: FolderView | null, states: { before: number[] | null; after: number[] | null }, old: FolderView | null): 'before' | 'after' {
  const same = (a: number[] | null, b: number[] | null) => JSON.stringify(a) === JSON.stringify(b);
  const which = same(disk, states.before) ? 'before' : same(disk, states.after) ? 'after' : null;
  if (!which) throw new Error(`${name} is torn: ${disk === null ? 'missing' : disk.length + ' messages'}; before ${states.before?.length ?? 'missing'}, after ${states.after?.length ?? 'missing'}`);
  if (view) {
    expect(view.order).toEqual(disk);
    const uids = view.order.map((s) => view.bySeq.get(s)!.uid);
    uids.forEach((u, i) => expect(u).toBeGreaterThan(i ? uids[i - 1] : 0));
    if (uids.length) expect(view.uidNext).toBeGreaterThan(uids[uids.length - 1]);
    if (old) {
      // A message keeps its flags; and its UID while UIDVALIDITY is unchanged (RFC 3501 2.3.1.1).
      const sameUids = old.uidValidity === view.uidValidity;
      for (const s of view.order) {
        const was = old.bySeq.get(s);
        if (was) expect({ seq: s, ...view.bySeq.get(s), ...(sameUids ? {} : { uid: 0 }) }).toEqual({ seq: s, ...was, ...(sameUids ? {} : { uid: 0 }) });
      }
    }
  }
  return which;
}

type Phase = 'before' | 'during' | 'after';

/**
 * Sends `command` after `delayBefore` ms, or kills first when `killAt` is
 * negative; otherwise kills `killAt` ms after sending. Returns the phase
 * the kill landed in (by whether the command was sent and its reply seen).
 */
async function killAround(domain: ChildDomain, client: LineClient, send: () => Promise<string>, killAt: number): Promise<Phase> {
  if (killAt < 0) {
    await new Promise((r) => setTimeout(r, -killAt));
    await domain.kill();
    client.close();
    return 'before';
  }
  let replied = false;
  const reply = send().then(
    () => void (replied = true),
    () => undefined,
  );
  await new Promise((r) => setTimeout(r, killAt));
  const repliedBeforeKill = replied;
  await domain.kill();
  await reply;
  client.close();
  return repliedBeforeKill ? 'after' : 'during';
}

interface Lab {
  dir: string;
  data: string;
  labYaml: string;
  ports: DomainPorts;
  domain: ChildDomain | null;
  start(): Promise<ChildDomain>;
}

async function newLab(name: string, inbox: number[], folders: Record<string, number[]> = {}): Promise<Lab> {
  const dir = join(root, name);
  const data = join(dir, 'data');
  mkdirSync(join(data, 'mail'), { recursive: true });
  writeFileSync(join(data, 'mail', USER), mboxOf(inbox));
  if (Object.keys(folders).length) mkdirSync(join(data, 'folders', USER), { recursive: true });
  for (const [f, seqs] of Object.entries(folders)) writeFileSync(join(data, 'folders', USER, encodeURIComponent(f)), mboxOf(seqs));
  const ports = await freeDomainPorts();
  const labYaml = join(dir, 'lab.yaml');
  writeLabYaml(labYaml, { [DOMAIN]: ports }, 1);
  const lab: Lab = {
    dir,
    data,
    labYaml,
    ports,
    domain: null,
    async start() {
      lab.domain = await startChildDomain({ build, labYaml, domain: DOMAIN, dataDir: data });
      return lab.domain;
    },
  };
  return lab;
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const inboxPath = (lab: Lab) => join(lab.data, 'mail', USER);
const folderPath = (lab: Lab, f: string) => join(lab.data, 'folders', USER, encodeURIComponent(f).replace(/%20/g, ' '));

/**
 * After a kill: restart the domain, read INBOX from its file and over IMAP,
 * and check it is exactly the state before or after (and that a kill
 * before the commit left "before", one after the reply "after").
 */
async function restartAndCheckInbox(lab: Lab, phase: Phase, states: { before: number[]; after: number[] }, old: FolderView): Promise<{ domain: ChildDomain; state: 'before' | 'after'; view: FolderView }> {
  const domain = await lab.start();
  const c = await login(lab.ports.imap);
  const view = await imapView(c, 'INBOX');
  c.close();
  const state = checkFolder('INBOX', readMbox(inboxPath(lab)), view, states, old);
  // The temp file of a rewrite cut short is gone after the restart (it held a whole copy of the mailbox).
  expect(readdirSync(join(lab.data, 'mail')).filter((f) => f.includes('.tmp'))).toEqual([]);
  if (phase === 'before') expect(state).toBe('before');
  if (phase === 'after') expect(state).toBe('after');
  return { domain, state, view };
}

/**
 * Kill delays in ms after sending the command (negative: kill that long
 * before, the command is never sent): one before, three at 0.3, 0.6 and
 * 0.15 of the command's measured duration (most likely inside it), one
 * well after its end, the rest random over 1.6 times the duration with one
 * in four before.
 */
function killDelays(rounds: number, durationMs: number, rnd: () => number): number[] {
  const before = () => -Math.round(5 + rnd() * 20);
  return Array.from({ length: rounds }, (_, i) =>
    i === 0 ? before() : i === 1 ? Math.round(durationMs * 0.3) : i === 2 ? Math.round(durationMs * 0.6) : i === 3 ? durationMs * 3 + 150 : i === 4 ? Math.round(durationMs * 0.15) : i % 4 === 0 ? before() : Math.round(rnd() * durationMs * 1.6),
  );
}

/** A small seeded generator: a failing run can be repeated with the same seed. */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
const SEED = Number(process.env.KILL_TEST_SEED ?? Date.now() % 100000);

function report(what: string, phases: Record<Phase, number>, outcomes: Record<string, number>, durationMs: number): void {
  process.stdout.write(`${what} (seed ${SEED}): command takes ~${durationMs} ms; kills ${JSON.stringify(phases)}; states after restart ${JSON.stringify(outcomes)}\n`);
}

/** At least one kill in each phase; with the 'during' window too short to hit, say so instead of passing silently. */
function expectEveryPhase(phases: Record<Phase, number>, durationMs: number): void {
  expect(phases.before).toBeGreaterThan(0);
  expect(phases.after).toBeGreaterThan(0);
  if (durationMs >= 15) expect(phases.during).toBeGreaterThan(0);
}

test('POP3 DELE + QUIT killed before, during and after the UPDATE: INBOX is before or after, never torn', async () => {
  const rnd = seeded(SEED);
  const lab = await newLab('pop3', range(1, MESSAGES));
  let current = range(1, MESSAGES);
  let domain = await lab.start();
  const c0 = await login(lab.ports.imap);
  let view = await imapView(c0, 'INBOX');
  c0.close();
  // One QUIT without a kill: how long the UPDATE (an atomic rewrite of the file) takes.
  const quitOnce = async (client: LineClient, numbers: number[]) => {
    for (const n of numbers) expect(await client.pop(`DELE ${n}`)).toMatch(/^\+OK/);
    return () => client.pop('QUIT');
  };
  const pop = async () => {
    const p = await LineClient.connect(lab.ports.pop3);
    await p.until(/^\+OK[^\r\n]*\r\n/);
    expect(await p.pop(`USER ${USER}`)).toMatch(/^\+OK/);
    expect(await p.pop(`PASS ${PASSWORD}`)).toMatch(/^\+OK/);
    return p;
  };
  const pick = (count: number) => [...new Set(Array.from({ length: count }, () => 1 + Math.floor(rnd() * current.length)))].sort((a, b) => a - b);
  let p = await pop();
  let numbers = pick(8);
  const t0 = Date.now();
  expect(await (await quitOnce(p, numbers))()).toMatch(/^\+OK/);
  const duration = Date.now() - t0;
  p.close();
  current = current.filter((_, i) => !numbers.includes(i + 1));
  expect(readMbox(inboxPath(lab))).toEqual(current);
  const c1 = await login(lab.ports.imap);
  view = await imapView(c1, 'INBOX');
  c1.close();

  const phases: Record<Phase, number> = { before: 0, during: 0, after: 0 };
  const outcomes: Record<string, number> = { before: 0, after: 0 };
  for (const killAt of killDelays(6, duration, rnd)) {
    p = await pop();
    numbers = pick(8);
    const quit = await quitOnce(p, numbers);
    const after = current.filter((_, i) => !numbers.includes(i + 1));
    const phase = await killAround(domain, p, quit, killAt);
    phases[phase]++;
    const r = await restartAndCheckInbox(lab, phase, { before: current, after }, view);
    domain = r.domain;
    outcomes[r.state]++;
    current = r.state === 'after' ? after : current;
    view = r.view;
  }
  await domain.kill();
  report('POP3 QUIT', phases, outcomes, duration);
  expectEveryPhase(phases, duration);
});

test('IMAP STORE \\Deleted + EXPUNGE killed before, during and after: INBOX is before or after, UIDs and flags kept', async () => {
  const rnd = seeded(SEED + 1);
  const lab = await newLab('expunge', range(1, MESSAGES));
  let current = range(1, MESSAGES);
  let domain = await lab.start();
  const prepare = async () => {
    const c = await login(lab.ports.imap);
    const v = await imapView(c, 'INBOX');
    const chosen = [...new Set(Array.from({ length: 8 }, () => current[Math.floor(rnd() * current.length)]))];
    // A few other messages get a flag that must survive every kill (written out before the round starts).
    const flagged = [current[Math.floor(rnd() * current.length)]].filter((s) => !chosen.includes(s));
    await c.imap(`UID STORE 1:* -FLAGS.SILENT (\\Deleted)`);
    if (flagged.length) await c.imap(`UID STORE ${v.bySeq.get(flagged[0])!.uid} +FLAGS.SILENT (\\Flagged)`);
    await c.imap(`UID STORE ${chosen.map((s) => v.bySeq.get(s)!.uid).join(',')} +FLAGS.SILENT (\\Deleted)`);
    return { c, chosen };
  };
  let { c, chosen } = await prepare();
  const t0 = Date.now();
  await c.imap('EXPUNGE');
  const duration = Date.now() - t0;
  c.close();
  current = current.filter((s) => !chosen.includes(s));
  expect(readMbox(inboxPath(lab))).toEqual(current);

  const phases: Record<Phase, number> = { before: 0, during: 0, after: 0 };
  const outcomes: Record<string, number> = { before: 0, after: 0 };
  for (const killAt of killDelays(6, duration, rnd)) {
    ({ c, chosen } = await prepare());
    // Flags are saved lazily (folder-state.ts): let them reach the disk, so the check can demand them.
    await new Promise((r) => setTimeout(r, 300));
    const check = await login(lab.ports.imap);
    const view = await imapView(check, 'INBOX');
    check.close();
    const after = current.filter((s) => !chosen.includes(s));
    const phase = await killAround(domain, c, () => c.imap('EXPUNGE'), killAt);
    phases[phase]++;
    const r = await restartAndCheckInbox(lab, phase, { before: current, after }, view);
    domain = r.domain;
    outcomes[r.state]++;
    current = r.state === 'after' ? after : current;
  }
  await domain.kill();
  report('IMAP EXPUNGE', phases, outcomes, duration);
  expectEveryPhase(phases, duration);
});

test('IMAP RENAME of INBOX and of a folder hierarchy killed at random moments: every mailbox is before or after', async () => {
  const rnd = seeded(SEED + 2);
  const inbox = range(1, MESSAGES);
  const arsip = range(100_001, 300);
  const sub = range(200_001, 50);
  const lab = await newLab('rename', inbox, { Arsip: arsip, 'Arsip/2025': sub });
  let domain = await lab.start();
  // Flags that must survive every move (RFC 3501 6.3.5 keeps messages as they are).
  let c = await login(lab.ports.imap);
  await c.imap('SELECT Arsip');
  await c.imap('STORE 1:10 +FLAGS.SILENT (\\Seen \\Flagged)');
  await c.imap('SELECT INBOX');
  await c.imap('STORE 1:20 +FLAGS.SILENT (\\Answered)');
  await new Promise((r) => setTimeout(r, 300));
  c.close();
  c = await login(lab.ports.imap);
  const t0 = Date.now();
  await c.imap('RENAME INBOX Lama-0');
  const duration = Date.now() - t0;
  expect(readMbox(inboxPath(lab))).toEqual([]);
  expect(readMbox(folderPath(lab, 'Lama-0'))).toEqual(inbox);
  c.close();

  const phases: Record<Phase, number> = { before: 0, during: 0, after: 0 };
  const outcomes: Record<string, number> = { before: 0, after: 0 };
  let lama = 'Lama-0';
  let top = 'Arsip';
  // INBOX (every other round) is copied message by message; a folder is renamed in a few file operations (a window of a millisecond or so).
  const inboxDelays = killDelays(5, duration, rnd);
  const folderDelays = [-10, 0, 1, Math.round(rnd() * 3)];
  const delays = inboxDelays.flatMap((d, i) => (i < folderDelays.length ? [d, folderDelays[i]] : [d]));
  const inboxPhases: Record<Phase, number> = { before: 0, during: 0, after: 0 };
  for (const [round, killAt] of delays.entries()) {
    c = await login(lab.ports.imap);
    // Bring INBOX back (the previous round may have moved it) and choose what to rename.
    if ((readMbox(inboxPath(lab)) ?? []).length === 0) {
      await c.imap(`SELECT "${lama}"`);
      await c.imap('COPY 1:* INBOX');
      await c.imap('CLOSE');
      await c.imap(`DELETE "${lama}"`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const folders = (await imapViewAll(c, [top, `${top}/2025`, 'INBOX'])) as Record<string, FolderView>;
    const inboxRound = round % 2 === 0;
    const target = inboxRound ? `Lama-${round + 1}` : top === 'Arsip' ? 'Gudang' : 'Arsip';
    const states: Record<string, { before: number[] | null; after: number[] | null }> = inboxRound
      ? { INBOX: { before: inbox, after: [] }, [target]: { before: null, after: inbox }, [top]: { before: arsip, after: arsip }, [`${top}/2025`]: { before: sub, after: sub } }
      : { [top]: { before: arsip, after: null }, [`${top}/2025`]: { before: sub, after: null }, [target]: { before: null, after: arsip }, [`${target}/2025`]: { before: null, after: sub }, INBOX: { before: inbox, after: inbox } };
    const from = inboxRound ? 'INBOX' : top;
    const phase = await killAround(domain, c, () => c.imap(`RENAME "${from}" "${target}"`), killAt);
    phases[phase]++;
    if (inboxRound) inboxPhases[phase]++;
    domain = await lab.start();
    const r = await login(lab.ports.imap);
    const seen: Record<string, 'before' | 'after'> = {};
    for (const [name, st] of Object.entries(states)) {
      const path = name === 'INBOX' ? inboxPath(lab) : folderPath(lab, name);
      const disk = readMbox(path);
      const view = disk === null ? null : await imapView(r, name);
      // The old view of a renamed mailbox is that of its source (its flags move with it).
      const source = name === target ? from : name.startsWith(target + '/') ? top + name.slice(target.length) : name;
      seen[name] = checkFolder(name, disk, view, st, folders[source] ?? null);
    }
    // Every listed mailbox is one the state before or after names: no half-made folder, no leftover temp file.
    const list = await r.imap('LIST "" "*"');
    const names = [...list.matchAll(/^\* LIST \([^)]*\) "[^"]*" "?([^"\r\n]*)"?\r?$/gm)].map((m) => m[1]).filter((n) => !['Sent', 'Drafts', 'Trash'].includes(n));
    r.close();
    const committed = Object.entries(states).some(([name, st]) => JSON.stringify(st.before) !== JSON.stringify(st.after) && seen[name] === 'after');
    const state = committed ? 'after' : 'before';
    // The whole rename is one step: all its mailboxes agree (RENAME of INBOX moves its messages, it does not copy them).
    for (const [name, st] of Object.entries(states)) if (JSON.stringify(st.before) !== JSON.stringify(st.after)) expect({ name, state: seen[name] }).toEqual({ name, state });
    const expected = Object.entries(states).filter(([, st]) => (state === 'after' ? st.after : st.before) !== null).map(([n]) => n);
    expect(names.sort()).toEqual(expected.sort());
    expect(readdirSync(join(lab.data, 'folders', USER)).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(readdirSync(join(lab.data, 'mail')).filter((f) => f.includes('.tmp'))).toEqual([]);
    outcomes[state]++;
    if (phase === 'before') expect(state).toBe('before');
    if (phase === 'after') expect(state).toBe('after');
    if (state === 'after') {
      if (inboxRound) lama = target;
      else top = target;
    }
  }
  await domain.kill();
  report('IMAP RENAME', phases, outcomes, duration);
  report('IMAP RENAME of INBOX', inboxPhases, {}, duration);
  expectEveryPhase(inboxPhases, duration);
});

async function imapViewAll(c: LineClient, names: string[]): Promise<Record<string, FolderView | undefined>> {
  const out: Record<string, FolderView | undefined> = {};
  for (const n of names) out[n] = await imapView(c, n).catch(() => undefined);
  return out;
}
