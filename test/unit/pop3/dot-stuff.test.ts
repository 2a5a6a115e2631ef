/** dotStuff works on the octets since the mailbox benchmark: the same output as the line-by-line text version, for any input. */
import fc from 'fast-check';
import { dotStuff, encode } from '../../../services/mail-domain/src/pop3/reply';

function reference(content: Buffer): Buffer {
  const lines = content.toString('latin1').split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let out = '';
  for (const line of lines) out += (line.startsWith('.') ? '.' + line : line) + '\r\n';
  return Buffer.from(out + '.\r\n', 'latin1');
}

test('dotStuff equals the text version for arbitrary line soup', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a', '.', '..', '\r', '\n', '\r\n', ' ', 'é', '\u0000', 'From '), { maxLength: 80 }), (pieces) => {
      const content = Buffer.from(pieces.join(''), 'latin1');
      expect(dotStuff(content)).toEqual(reference(content));
    }),
    { numRuns: 2000 },
  );
});

test('a RETR reply is the status line and the stuffed message in one buffer', () => {
  const { bytes, log } = encode({ kind: 'message', text: '12 octets', body: Buffer.from('.hi\r\nthere\r\n') });
  expect(bytes.toString()).toBe('+OK 12 octets\r\n..hi\r\nthere\r\n.\r\n');
  expect(log).toEqual(['+OK 12 octets', '[message body, 16 octets]']);
});
