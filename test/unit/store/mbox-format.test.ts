import fc from 'fast-check';
import { fromMboxBody, separatorLine, splitMbox, toMboxBody, wireSize } from '../../../services/mail-domain/src/store/mbox-format';

/** Messages as they arrive over SMTP or IMAP APPEND: CRLF lines (no bare CR or LF), ending in CRLF. */
const wireMessage = fc
  .array(fc.oneof(fc.string({ unit: 'binary-ascii' }).map((s) => s.replace(/[\r\n]/g, '')), fc.constantFrom('From x', '>From y', '>>From z', '', '.')), { maxLength: 20 })
  .map((lines) => Buffer.from(lines.map((l) => l + '\r\n').join(''), 'latin1'));

test('mboxrd quoting round-trips any wire message byte for byte, inside a file of several', () => {
  fc.assert(
    fc.property(fc.array(wireMessage, { minLength: 1, maxLength: 5 }), (messages) => {
      const file = Buffer.concat(messages.flatMap((m) => [Buffer.from(separatorLine('a@b', new Date(0))), toMboxBody(m), Buffer.from('\n')]));
      const entries = splitMbox(file);
      expect(entries).toHaveLength(messages.length);
      entries.forEach((e, i) => {
        const stored = file.subarray(e.bodyStart, e.bodyEnd);
        expect(fromMboxBody(stored).equals(messages[i].length ? messages[i] : Buffer.from('\r\n'))).toBe(true);
        expect(wireSize(stored)).toBe(fromMboxBody(stored).length);
      });
    }),
    { numRuns: 500 },
  );
});
