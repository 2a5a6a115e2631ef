/**
 * Message arbitraries shared by the mbox format and mailbox store fuzz tests,
 * and what the store is expected to give back for a message.
 */
import fc from 'fast-check';
import { interestingBytes } from './fuzz-helpers';

/**
 * What a message reads back as: the store keeps lines, so a bare LF comes back
 * as CRLF, and a message that does not end in CRLF gets one (an empty message
 * is one empty line). Everything else, bare CRs included, is kept.
 */
export function expectedWire(message: Buffer): Buffer {
  let text = message.toString('latin1').replace(/(?<!\r)\n/g, '\r\n');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}

/** Messages made of lines that stress the quoting: `From `, `>From `, bare CR before `From `, empty lines, dots. */
export const trickyMessage: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: interestingBytes(300) },
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constantFrom('From ', 'From x', '>From y', '>>From z', '>>>From ', 'From', '>From', '', '.', '\r', '\rFrom a', 'a\r>From b', '\n', ' From ', 'FROM x', '\r\n'),
          fc.string({ unit: 'binary-ascii', maxLength: 20 }),
        ),
        { maxLength: 12 },
      )
      .chain((lines) => fc.constantFrom('\r\n', '\n', '\r').map((eol) => Buffer.from(lines.join(eol), 'latin1'))),
  },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(0), Buffer.from('\r\n'), Buffer.from('\r'), Buffer.from('\n'), Buffer.from('\n\n'), Buffer.from('From \r\n\r\nFrom \r\n')) },
);

