/**
 * Values the header cache remembers as octets (imap/wire.ts `pack`,
 * `Encoded`; issue 15): a packed value writes exactly the octets and the
 * transcript of the value itself, literals and all; packed strings come
 * back as they were; and the header cache answers a packed derivation the
 * same whether the value was just computed or remembered, within its budget.
 */
import { Encoded, encodeLine, pack, packSegments, raw, toTranscript, toWire, unpackStrings, type ImapValue } from '../../../services/mail-domain/src/imap/wire';
import { HeaderCache, type Derivation } from '../../../services/mail-domain/src/imap/header-cache';
import { message, startLab } from './harness';

const values: ImapValue[] = [
  null,
  42,
  raw('FLAGS'),
  'plain',
  'Sübject with UTF-8',
  'line\r\nbreak',
  Buffer.from('a literal\r\nwith two lines\r\n'),
  [raw('UID'), 7, ['"quoted"', null, 'ünï', Buffer.alloc(0)], Buffer.from('x'.repeat(3000))],
  ['a'.repeat(2000), ['nested', ['deeper', 'çà']]],
];

test.each(values.map((v, i) => [i, v] as const))('value %i: packed, it writes the same octets and transcript', (_i, v) => {
  const direct = encodeLine([raw('*'), 1, raw('FETCH'), [raw('ENVELOPE'), v]]);
  const packed = encodeLine([raw('*'), 1, raw('FETCH'), [raw('ENVELOPE'), new Encoded(pack(v))]]);
  expect(toWire(packed).equals(toWire(direct))).toBe(true);
  expect(toTranscript(packed)).toBe(toTranscript(direct));
});

test('packed strings come back as they were', () => {
  const list = ['', 'subjek rapat', 'ünïcødé', 'a\u0000b', 'x'.repeat(70_000)];
  expect(unpackStrings(packSegments(list))).toEqual(list);
  expect(unpackStrings(packSegments([]))).toEqual([]);
});

test('a packed derivation answers the same computed or remembered, and keeps to the budget', async () => {
  const lab = await startLab();
  try {
    for (let i = 1; i <= 40; i++) await lab.store.append('mbrain', 'INBOX', message({ subject: i % 3 ? `Pesan ${i}` : `Rapat ${'panjang '.repeat(i)}` }));
    const { uidValidity, messages } = await lab.store.snapshot('mbrain', 'INBOX');
    const all = messages.map((m) => m.uid);
    const subject: Derivation<string[]> = {
      key: 'S',
      derive: (e) => e.fields.filter((f) => f.name === 'Subject').map((f) => f.value),
      cost: () => 0,
      pack: packSegments,
      unpack: unpackStrings,
    };
    const runs: string[][] = [];
    const cache = new HeaderCache(20_000, 2_000);
    for (let r = 0; r < 3; r++) {
      const seen: string[] = [];
      await cache.eachDerived(lab.store, 'mbrain', 'INBOX', uidValidity, all, [subject], (uid, [v]) => seen.push(`${uid}:${(v as string[]).join('|')}`));
      runs.push(seen);
      expect(cache.derivedSize).toBeLessThanOrEqual(2_000);
    }
    expect(runs[0]).toHaveLength(40);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    expect(runs[0][2]).toMatch(/^3:Rapat panjang panjang panjang/);
    // With room for all, everything is remembered and answered from the octets.
    const roomy = new HeaderCache(20_000, 1_000_000);
    const first: string[] = [];
    const again: string[] = [];
    await roomy.eachDerived(lab.store, 'mbrain', 'INBOX', uidValidity, all, [subject], (uid, [v]) => first.push(`${uid}:${(v as string[]).join('|')}`));
    const size = roomy.derivedSize;
    await roomy.eachDerived(lab.store, 'mbrain', 'INBOX', uidValidity, all, [subject], (uid, [v]) => again.push(`${uid}:${(v as string[]).join('|')}`));
    expect(again).toEqual(first);
    expect(first).toEqual(runs[0]);
    expect(roomy.derivedSize).toBe(size);
  } finally {
    await lab.close();
  }
});
