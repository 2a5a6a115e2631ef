/**
 * Sequence sets (RFC 3501 section 9, `sequence-set`): `1,3:5,7:*`. `*` is
 * the largest number in use; ranges may be written backwards (`5:2`), and a
 * UID range like `559:*` always includes the last UID even when 559 is above
 * it (RFC 3501 section 6.4.8).
 */

export type SeqNumber = number | '*';
export interface SeqRange {
  readonly from: SeqNumber;
  readonly to: SeqNumber;
}
export type SequenceSet = readonly SeqRange[];

export function parseSequenceSet(text: string): SequenceSet {
  if (!/^[0-9*:,]+$/.test(text)) throw new Error(`invalid sequence set ${JSON.stringify(text)}`);
  const num = (s: string): SeqNumber => {
    if (s === '*') return '*';
    if (!/^[1-9][0-9]*$/.test(s)) throw new Error(`invalid sequence number ${JSON.stringify(s)}`);
    const n = Number(s);
    if (n > 0xffffffff) throw new Error('sequence number too large');
    return n;
  };
  return text.split(',').map((part) => {
    const pieces = part.split(':');
    if (pieces.length > 2) throw new Error(`invalid range ${JSON.stringify(part)}`);
    const from = num(pieces[0]);
    return { from, to: pieces.length === 2 ? num(pieces[1]) : from };
  });
}

/** Does `n` fall in the set, with `*` standing for `max`? */
export function inSequenceSet(set: SequenceSet, n: number, max: number): boolean {
  return set.some((r) => {
    const a = r.from === '*' ? max : r.from;
    const b = r.to === '*' ? max : r.to;
    return n >= Math.min(a, b) && n <= Math.max(a, b);
  });
}

/** The largest explicit number in the set (to refuse message numbers beyond EXISTS). */
export function maxExplicit(set: SequenceSet): number {
  let max = 0;
  for (const r of set) for (const n of [r.from, r.to]) if (n !== '*' && n > max) max = n;
  return max;
}

/** Compact form for responses such as COPYUID: `1:3,7`. */
export function formatSequence(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(j > i ? `${numbers[i]}:${numbers[j]}` : String(numbers[i]));
    i = j + 1;
  }
  return parts.join(',');
}
