/**
 * The check's task list keeps up with the worksheets (one task per
 * docs/guide/en/*.md and scenario, in the guide's order); who a student is
 * (an account of every domain, or one address; the generated accounts of a
 * shared lab); `--since` in a teacher's words; a session typed by hand
 * against one sent by a program; the self-check window.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLabConfig } from '../../../services/core/src/config';
import { buildRecords, TYPED_PAUSE_MS } from '../../../services/core/src/check/records';
import { accountStudent, sharedLabStudents } from '../../../services/core/src/check/student';
import { TASKS } from '../../../services/core/src/check/tasks';
import type { ActivityItem } from '../../../services/core/src/admin/api';
import { parseSince } from '../../../scripts/check/run';
import { LAB_YAML } from '../helpers/test-lab';

const guide = join(__dirname, '../../../docs/guide');
const { config } = parseLabConfig(readFileSync(LAB_YAML, 'utf8'), LAB_YAML);

test('one task per worksheet (each with its scenario), numbered in the order of the guide', () => {
  const worksheets = readdirSync(join(guide, 'en')).map((f) => f.replace(/\.md$/, '')).sort();
  const scenarios = readdirSync(join(__dirname, '../../../lab-scenarios/scenarios')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
  expect(TASKS.map((t) => t.id).sort()).toEqual(worksheets);
  for (const t of TASKS) expect(scenarios).toContain(t.id);
  const order = [...readFileSync(join(guide, 'README.md'), 'utf8').matchAll(/\]\(en\/([a-z0-9-]+)\.md\)/g)].map((m) => m[1]);
  expect(TASKS.map((t) => t.id)).toEqual(order);
  expect(TASKS.map((t) => t.n)).toEqual(order.map((_, i) => i + 1));
});

test('a student is a user in every domain that has it, or one address; unknown ones name what exists', () => {
  expect(accountStudent(config, 0, 'siswa2')).toEqual({ kind: 'account', lab: 0, label: 'siswa2', addresses: ['siswa2@garudayaksa.com', 'siswa2@dadali.com'] });
  expect(accountStudent(config, 0, 'JPRI@dadali.com')).toMatchObject({ addresses: ['jpri@dadali.com'] });
  expect(() => accountStudent(config, 3, 'jpri@garudayaksa.com')).toThrow('no account "jpri@garudayaksa.com" in lab 3: its accounts are mbrain, postmaster, siswa1, siswa2, siswa3, siswa4, siswa5, jpri (in garudayaksa.com and dadali.com)');
  const shared = parseLabConfig(readFileSync(LAB_YAML, 'utf8').replace(/# students: \{ prefix: siswa, count: 30 \}/, 'students: { prefix: siswa, count: 30 }'), LAB_YAML).config;
  const students = sharedLabStudents(shared, 0);
  expect(students).toHaveLength(30);
  expect(students[6]).toEqual({ kind: 'account', lab: 0, label: 'siswa07', addresses: ['siswa07@garudayaksa.com'] });
  expect(sharedLabStudents(config, 0).map((s) => s.label)).toEqual(['mbrain', 'siswa1', 'siswa2', 'siswa3', 'siswa4', 'siswa5', 'jpri']);
});

test('--since: a duration back, a time today, a date; anything else is refused', () => {
  const now = new Date(2026, 10, 26, 10, 30, 0);
  expect(parseSince('3h', now).getTime()).toBe(now.getTime() - 3 * 3600_000);
  expect(parseSince('08:00', now)).toEqual(new Date(2026, 10, 26, 8, 0, 0));
  expect(parseSince('2026-11-26T07:00:00Z', now).toISOString()).toBe('2026-11-26T07:00:00.000Z');
  expect(() => parseSince('25:00', now)).toThrow(/--since takes a duration back from now/);
});

describe('records', () => {
  const t0 = Date.parse('2026-11-26T08:00:00.000Z');
  const iso = (ms: number) => new Date(t0 + ms).toISOString();
  const smtp = (time: number, pause: number): ActivityItem => ({
    kind: 'session',
    time: iso(time),
    end: iso(time + pause * 5),
    domain: 'dadali.com',
    protocol: 'smtp',
    port: 25,
    peer: '127.0.0.1',
    helo: 'pc-siswa',
    commands: ['HELO pc-siswa', 'MAIL FROM:<siswa1@garudayaksa.com>', 'RCPT TO:<jpri@dadali.com>', 'DATA', '<120 bytes of DATA>'].map((line, i) => ({ at: i * pause, line, reply: '250 ok' })),
  });
  const mark = (time: number, phase: 'start' | 'end', run = 'abc12'): ActivityItem => ({ kind: 'mark', time: iso(time), domain: 'dadali.com', label: 'self-check', scenario: 'smtp-by-hand', run, phase, ...(phase === 'end' ? { passed: true } : {}) });
  const records = (items: ActivityItem[]) => buildRecords({ lab: 0, config, items, dns: [], problems: [] });

  test(`typed by hand: a middle pause of at least ${TYPED_PAUSE_MS} ms between commands`, () => {
    const r = records([smtp(0, 2000), smtp(60_000, 3), smtp(120_000, TYPED_PAUSE_MS)]);
    expect(r.sessions.map((s) => [s.typed, s.pauseMs, s.mailFrom, s.labServer])).toEqual([
      [true, 2000, ['siswa1@garudayaksa.com'], false],
      [false, 3, ['siswa1@garudayaksa.com'], false],
      [true, TYPED_PAUSE_MS, ['siswa1@garudayaksa.com'], false],
    ]);
    expect(r.sessions[0].cmds.map((c) => c.verb)).toEqual(['HELO', 'MAIL', 'RCPT', 'DATA', '[DATA]']);
  });

  test("a self-check's window: its sessions are left out, and one without an end lasts 15 minutes", () => {
    const r = records([mark(10_000, 'start'), smtp(11_000, 2000), mark(20_000, 'end'), smtp(30_000, 2000), mark(100_000, 'start', 'def34'), smtp(100_000 + 14 * 60_000, 2000), smtp(100_000 + 16 * 60_000, 2000)]);
    expect(r.sessions.map((s) => s.start - t0)).toEqual([30_000, 100_000 + 16 * 60_000]);
    expect(r.selfChecks).toEqual([
      { scenario: 'smtp-by-hand', run: 'abc12', start: t0 + 10_000, end: t0 + 20_000, passed: true },
      { scenario: 'smtp-by-hand', run: 'def34', start: t0 + 100_000, end: t0 + 100_000 + 15 * 60_000 },
    ]);
  });
});
