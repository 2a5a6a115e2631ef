/**
 * Fuzzing the POP3 input side (services/mail-domain/src/pop3/command.ts and
 * line-reader.ts):
 * - parseCommand on arbitrary lines never throws; a failure is one printable
 *   line; well-formed commands in any case and spacing parse as a model says;
 * - no PASS or APOP secret reaches the transcript (maskForLog) or an error
 *   reply, whatever the case, separator or look-alike letters of the keyword;
 * - LineReader gives the same lines however the bytes are chunked, as a
 *   model of LF-terminated lines with an optional CR and a length limit says.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { maskForLog, parseCommand, type Command } from '../../../services/mail-domain/src/pop3/command';
import { LineReader, type LineEvent } from '../../../services/mail-domain/src/pop3/line-reader';
import { fuzz, fuzzRuns, interestingBytes, tokenText } from './fuzz-helpers';

const KEYWORDS = ['USER', 'PASS', 'APOP', 'STAT', 'LIST', 'RETR', 'DELE', 'TOP', 'NOOP', 'RSET', 'UIDL', 'QUIT', 'CAPA'];

const line = fc.oneof(
  tokenText([...KEYWORDS, ...KEYWORDS.map((k) => k.toLowerCase()), ' ', '  ', '\t', '\r', '\0', '1', '0', '-1', '2147483648', '007', 'x', 'mbrain', 'c4c9334bac560ecc979e58001b3e22fb', 'ß', 'ſ', '\u00a0', 'a'.repeat(300)], 8),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** What a well-formed command line must parse to. */
const wellFormed: fc.Arbitrary<{ text: string; command: Command }> = fc
  .tuple(
    fc.oneof(
      fc.constantFrom<Command>({ name: 'STAT' }, { name: 'NOOP' }, { name: 'RSET' }, { name: 'QUIT' }, { name: 'CAPA' }, { name: 'LIST' }, { name: 'UIDL' }),
      fc.record({ name: fc.constantFrom('LIST' as const, 'UIDL' as const, 'RETR' as const, 'DELE' as const), msg: fc.integer({ min: 1, max: 2 ** 31 - 1 }) }),
      fc.record({ name: fc.constant('TOP' as const), msg: fc.integer({ min: 1, max: 2 ** 31 - 1 }), lines: fc.integer({ min: 0, max: 2 ** 31 - 1 }) }),
      fc.record({ name: fc.constant('USER' as const), login: fc.stringMatching(/^[!-~]{1,40}$/) }),
      fc.record({ name: fc.constant('PASS' as const), password: fc.string({ minLength: 1, maxLength: 30 }).filter((p) => !/^ *$/.test(p) && !/[\r\n]/.test(p)) }),
      fc.record({ name: fc.constant('APOP' as const), login: fc.stringMatching(/^[!-~]{1,40}$/), digest: fc.stringMatching(/^[0-9a-f]{32}$/) }),
    ),
    fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    fc.integer({ min: 1, max: 3 }),
    fc.boolean(),
  )
  .map(([command, caseBits, spaces, trailing]) => {
    const keyword = [...command.name].map((c, i) => (caseBits[i] ? c.toLowerCase() : c)).join('');
    const sep = ' '.repeat(spaces);
    const args: string[] =
      command.name === 'PASS' ? [command.password] :
      command.name === 'USER' ? [command.login] :
      command.name === 'APOP' ? [command.login, caseBits[0] ? command.digest.toUpperCase() : command.digest] :
      command.name === 'TOP' ? [String(command.msg), String(command.lines)] :
      'msg' in command && command.msg !== undefined ? [String(command.msg)] : [];
    // PASS takes the rest of the line as it is: one space, no trailing one added.
    const text = command.name === 'PASS' ? `${keyword} ${command.password}` : [keyword, ...args].join(sep) + (trailing ? ' ' : '');
    return { text, command };
  });

describe('POP3 command parser', () => {
  test('arbitrary lines: never throws; a failure is one printable line', () => {
    fuzz(
      'pop3 parseCommand',
      () =>
        fc.property(line, (text) => {
          const r = parseCommand(text);
          if (r.ok) {
            assert.match(r.command.name, /^[A-Z]{3,4}$/);
            // Keywords are ASCII: the line starts with the command name in some case.
            assert.equal(text.slice(0, r.command.name.length).toUpperCase(), r.command.name);
          } else {
            assert.ok(r.error.length > 0);
            assert.doesNotMatch(r.error, /[\x00-\x1f\x7f]/, `control character in ${JSON.stringify(r.error)}`);
          }
          maskForLog(text);
        }),
      {
        numRuns: fuzzRuns(3000),
        examples: [
          // An argument echoed as typed put a bare CR into the -ERR line (fixed in command.ts).
          ['LIST \rx'],
          ['TOP 1 \0'],
        ],
      },
    );
  });

  test('well-formed commands in any case and spacing parse as written', () => {
    fuzz(
      'pop3 parseCommand',
      () =>
        fc.property(wellFormed, ({ text, command }) => {
          expect(parseCommand(text)).toEqual({ ok: true, command });
        }),
      { numRuns: fuzzRuns(2000) },
    );
  });

  test('no PASS or APOP secret reaches the transcript or an error reply', () => {
    const secret = fc.stringMatching(/^[a-z0-9]{8,16}$/);
    const keyword = fc.constantFrom('PASS', 'pass', 'PaSs', 'paß', 'pa\u017fs', 'PASS', 'APOP', 'apop', 'ApOp');
    const sep = fc.constantFrom(' ', '  ', '\t', '\0', '\x0b', '\u00a0', '\u2028', '\r', '\u0085', '\x7f');
    fuzz(
      'pop3 maskForLog',
      () =>
        fc.property(fc.constantFrom('', ' ', '\t', '\0', '\r'), keyword, sep, secret, (lead, kw, s, secretText) => {
          const isApop = kw.toUpperCase() === 'APOP';
          const text = isApop ? `${lead}${kw}${s}mbrain${s}${secretText}` : `${lead}${kw}${s}${secretText}`;
          const masked = maskForLog(text);
          assert.ok(!masked.toLowerCase().includes(secretText), `transcript shows the secret: ${JSON.stringify(masked)}`);
          const r = parseCommand(text);
          if (!r.ok) assert.ok(!r.error.toLowerCase().includes(secretText), `error reply shows the secret: ${JSON.stringify(r.error)}`);
          else if (r.command.name === 'PASS') assert.ok(!masked.includes(r.command.password));
        }),
      {
        numRuns: fuzzRuns(2000),
        examples: [
          // `ß` upper-cases to SS: parseCommand took `paß` for PASS, maskForLog (a /pass/i regex) did not mask it.
          ['', 'paß', ' ', 'rahasia123'],
          ['', 'pa\u017fs', ' ', 'rahasia123'],
          // A tab is no separator for parseCommand: the unknown command "PASS?RAHASIA123" was echoed in the reply.
          ['', 'PASS', '\t', 'rahasia123'],
          ['', 'PASS', '\0', 'rahasia123'],
          ['\t', 'PASS', '\x0b', 'rahasia123'],
        ],
      },
    );
  });

  test('any line that parses as PASS or APOP is masked in the transcript', () => {
    fuzz(
      'pop3 maskForLog',
      () =>
        fc.property(line, (text) => {
          const r = parseCommand(text);
          if (!r.ok) return;
          const masked = maskForLog(text);
          // A password of spaces only can't be told apart from the separator in "PASS ****".
          if (r.command.name === 'PASS' && r.command.password.trim()) assert.ok(!masked.includes(r.command.password), JSON.stringify(masked));
          if (r.command.name === 'PASS') assert.match(masked, /^\S+ \*\*\*\*$/, JSON.stringify(masked));
          if (r.command.name === 'APOP') assert.ok(!masked.toLowerCase().includes(r.command.digest), JSON.stringify(masked));
          if (r.command.name !== 'PASS' && r.command.name !== 'APOP') assert.equal(masked, text);
        }),
      { numRuns: fuzzRuns(2000) },
    );
  });
});

/** The framing model: LF ends a line, one CR before it is dropped, lines over the limit are reported once. */
function modelLines(data: Buffer, limit: number): LineEvent[] {
  const events: LineEvent[] = [];
  let start = 0;
  for (;;) {
    const lf = data.indexOf(0x0a, start);
    const raw = data.subarray(start, lf < 0 ? data.length : lf);
    if (lf < 0) {
      if (raw.length > limit + 1) events.push({ kind: 'overlong', limit });
      return events;
    }
    const body = raw.length && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw;
    events.push(raw.length > limit + 1 || body.length > limit ? { kind: 'overlong', limit } : { kind: 'line', text: body.toString('utf8') });
    start = lf + 1;
  }
}

describe('POP3 line reader', () => {
  test('the same events however the input is chunked, as the model says', () => {
    fuzz(
      'pop3 LineReader',
      () =>
        fc.property(
          fc.array(fc.oneof(interestingBytes(40), fc.constantFrom(Buffer.from('\r\n'), Buffer.from('x'.repeat(70)), Buffer.from('é'), Buffer.from([0xe2, 0x82]))), { maxLength: 10 }),
          fc.integer({ min: 1, max: 64 }),
          fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
          (parts, limit, cuts) => {
            const data = Buffer.concat(parts);
            const reader = new LineReader(limit);
            const events: LineEvent[] = [];
            let pos = 0;
            for (let i = 0; pos < data.length; i++) {
              const n = cuts[i % cuts.length];
              events.push(...reader.push(data.subarray(pos, pos + n)));
              pos += n;
            }
            expect(events).toEqual(modelLines(data, limit));
          },
        ),
      { numRuns: fuzzRuns(2000) },
    );
  });
});
