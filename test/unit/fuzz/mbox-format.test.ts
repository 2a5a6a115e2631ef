/**
 * Fuzzing the mbox reader/writer (services/mail-domain/src/store/mbox-format.ts)
 * beyond the basic round-trip of test/unit/store/mbox-format.test.ts:
 * arbitrary octets (bare CR, bare LF, NUL, 8-bit), lines like `From `,
 * `>From `, `>>From ` anywhere (also after a bare CR), empty messages and
 * huge lines, several messages per file; separator lines for any envelope
 * sender and date; `splitMbox` on arbitrary files.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { asctime, fromMboxBody, parseSeparatorDate, separatorLine, splitMbox, toMboxBody, wireSize } from '../../../services/mail-domain/src/store/mbox-format';
import { fuzz, fuzzRuns, interestingBytes } from './fuzz-helpers';
import { expectedWire, trickyMessage } from './messages';

const huge = (n: number) => Buffer.from('x'.repeat(n) + '\r\nFrom ' + 'y'.repeat(n) + '\r\n>From ' + 'z'.repeat(n), 'latin1');

describe('mbox format', () => {
  test('mboxrd quoting round-trips any octets, alone and inside a file of several messages; wireSize agrees', () => {
    fuzz(
      'mbox-format',
      () =>
        fc.property(fc.array(trickyMessage, { minLength: 1, maxLength: 6 }), fc.constantFrom('a@b', undefined, 'From'), (messages, from) => {
        const bodies = messages.map(toMboxBody);
        const file = Buffer.concat(bodies.flatMap((b) => [Buffer.from(separatorLine(from, new Date(0)), 'latin1'), b, Buffer.from('\n')]));
        const entries = splitMbox(file);
        assert.equal(entries.length, messages.length, 'messages found in the file');
        entries.forEach((e, i) => {
          const stored = file.subarray(e.bodyStart, e.bodyEnd);
          assert.ok(stored.equals(bodies[i]), 'stored body');
          const back = fromMboxBody(stored);
          assert.equal(back.toString('latin1'), expectedWire(messages[i]).toString('latin1'));
          assert.equal(wireSize(stored), back.length, 'wireSize');
          assert.match(e.separator, /^From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
        });
      }),
      {
        numRuns: fuzzRuns(1000),
        examples: [
          // A bare CR before `From `: the quoting regexes treat CR as a line start, wireSize did not (size 1 too large; fixed in mbox-format.ts).
          [[Buffer.from('a\rFrom x\r\n', 'latin1')], 'a@b'],
          [[Buffer.from('\r>From x', 'latin1'), Buffer.alloc(0)], undefined],
          [[huge(1 << 20)], 'a@b'],
        ],
      },
    );
  });

  test('separator lines: one line for any envelope sender, the date reads back to the second', () => {
    fuzz(
      'mbox-format',
      () =>
        fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([l, d]) => `${l}@${d}`), fc.constant(undefined), fc.constantFrom('a\u010ab@x', 'x\u010a\u010aFrom evil@x Thu Nov 26 07:30:00 2026\u010a', 'jos\u00e9@d.com', '\u65e5\u672c@x')),
        fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        (from, date) => {
          const line = Buffer.from(separatorLine(from, date), 'latin1');
          // One line, starting with `From `, ending in LF, with no other control octet.
          assert.equal(line.subarray(0, 5).toString('latin1'), 'From ');
          assert.equal(line[line.length - 1], 0x0a);
          assert.deepEqual([...line.subarray(0, -1)].filter((b) => b < 0x20 || b === 0x7f), [], 'control octets in the separator line');
          const text = line.toString('latin1').trimEnd();
          assert.ok(text.endsWith(asctime(date)));
          assert.equal(parseSeparatorDate(text)?.getTime(), Math.floor(date.getTime() / 1000) * 1000);
          // A file holding one empty message with this separator is one message.
          assert.equal(splitMbox(Buffer.concat([line, Buffer.from('\n\n')])).length, 1);
        },
      ),
      {
        numRuns: fuzzRuns(500),
        examples: [
          // U+010A is written as its low octet by the latin1 conversion: an LF in the separator line, so the
          // rest of the sender became the message's first line (and `From ` after it a forged message).
          ['a\u010ab@x', new Date(0)],
          ['x\u010a\u010aFrom evil@x Thu Nov 26 07:30:00 2026\u010a', new Date(0)],
        ],
      },
    );
  });

  test('splitMbox on arbitrary files: ordered, contiguous entries that start with `From `', () => {
    fuzz(
      'mbox-format',
      () =>
        fc.property(fc.array(fc.oneof(interestingBytes(60), fc.constantFrom('From a b\n', '\nFrom ', '\n\nFrom x\n', 'From ', '\n').map((s) => Buffer.from(s))), { maxLength: 12 }), (parts) => {
        const file = Buffer.concat(parts);
        const entries = splitMbox(file);
        let previousEnd = -1;
        for (const e of entries) {
          assert.equal(file.toString('latin1', e.start, e.start + 5), 'From ');
          assert.ok(e.start <= e.bodyStart && e.bodyStart <= e.bodyEnd && e.bodyEnd <= e.end && e.end <= file.length, 'offsets in order');
          if (previousEnd >= 0) assert.equal(e.start, previousEnd);
          previousEnd = e.end;
          assert.equal(wireSize(file.subarray(e.bodyStart, e.bodyEnd)), fromMboxBody(file.subarray(e.bodyStart, e.bodyEnd)).length);
        }
        if (entries.length) assert.equal(entries[entries.length - 1].end, file.length);
      }),
      { numRuns: fuzzRuns(1000) },
    );
  });
});
