/**
 * Unit tests of the pure parts: the command parser, transcript masking,
 * line framing (LineReader) and the response serialiser (dot-stuffing).
 */
import fc from 'fast-check';
import { maskForLog, parseCommand } from '../../../services/mail-domain/src/pop3/command';
import { LineReader } from '../../../services/mail-domain/src/pop3/line-reader';
import { dotStuff, encode } from '../../../services/mail-domain/src/pop3/reply';
import { topOfMessage } from '../../../services/mail-domain/src/pop3/transaction';

describe('parseCommand', () => {
  test.each([
    ['USER mbrain', { name: 'USER', login: 'mbrain' }],
    ['user Mbrain@Garudayaksa.com', { name: 'USER', login: 'Mbrain@Garudayaksa.com' }],
    ['PASS rahasia 123 ', { name: 'PASS', password: 'rahasia 123 ' }],
    ['APOP mrose c4c9334bac560ecc979e58001b3e22fb', { name: 'APOP', login: 'mrose', digest: 'c4c9334bac560ecc979e58001b3e22fb' }],
    ['APOP mrose C4C9334BAC560ECC979E58001B3E22FB', { name: 'APOP', login: 'mrose', digest: 'c4c9334bac560ecc979e58001b3e22fb' }],
    ['STAT', { name: 'STAT' }],
    ['list', { name: 'LIST' }],
    ['LIST 2', { name: 'LIST', msg: 2 }],
    ['LIST 002', { name: 'LIST', msg: 2 }],
    ['RETR 1', { name: 'RETR', msg: 1 }],
    ['DELE 10', { name: 'DELE', msg: 10 }],
    ['TOP 1 0', { name: 'TOP', msg: 1, lines: 0 }],
    ['TOP  3   10', { name: 'TOP', msg: 3, lines: 10 }],
    ['NOOP', { name: 'NOOP' }],
    ['RSET', { name: 'RSET' }],
    ['UIDL', { name: 'UIDL' }],
    ['uidl 4', { name: 'UIDL', msg: 4 }],
    ['QUIT', { name: 'QUIT' }],
    ['CAPA', { name: 'CAPA' }],
    ['stls', { name: 'STLS' }],
    ['STAT ', { name: 'STAT' }],
  ])('%j', (line, command) => {
    expect(parseCommand(line)).toEqual({ ok: true, command });
  });

  test.each([
    ['', 'empty command'],
    ['   ', 'empty command'],
    ['XTND', 'unknown command "XTND"'],
    ['STLS now', 'STLS takes no arguments'],
    ['\u0000\u0001bad', 'unknown command "??BAD"'],
    ['LIST 1 2', 'too many arguments: LIST [msg]'],
    ['RETR', 'RETR needs 1 argument: RETR msg'],
    ['RETR 1.5', 'message number must be a number, not "1.5"'],
    ['RETR 0', 'message number must be 1 or more (messages are numbered from 1)'],
    ['TOP 1 -1', 'line count must be a number, not "-1"'],
    ['TOP', 'TOP needs 2 arguments: TOP msg lines'],
    ['TOP 1 2 3', 'too many arguments: TOP msg lines'],
    ['APOP a b c', 'too many arguments: APOP name digest'],
    ['PASS', 'PASS needs 1 argument: PASS password'],
    ['RSET now', 'RSET takes no arguments'],
  ])('%j is refused', (line, error) => {
    expect(parseCommand(line)).toEqual({ ok: false, error });
  });

  test('never throws, whatever the line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (line) => {
        const r = parseCommand(line);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(r.error).not.toMatch(/[\r\n]/);
      }),
      { numRuns: 2000 },
    );
  });
});

test('maskForLog hides PASS and APOP secrets, in any case', () => {
  expect(maskForLog('PASS rahasia123')).toBe('PASS ****');
  expect(maskForLog('pass with spaces')).toBe('pass ****');
  expect(maskForLog('PASS')).toBe('PASS ****');
  expect(maskForLog('APOP mbrain c4c9334bac560ecc979e58001b3e22fb')).toBe('APOP mbrain ****');
  expect(maskForLog('USER mbrain')).toBe('USER mbrain');
  expect(maskForLog('PASSWORD x')).toBe('PASSWORD x');
});

describe('LineReader', () => {
  const lines = (r: LineReader, ...chunks: string[]) => chunks.flatMap((c) => r.push(Buffer.from(c, 'latin1')));

  test('splits on CRLF or LF, across chunk boundaries, keeping order', () => {
    const r = new LineReader(512);
    expect(lines(r, 'US', 'ER a\r', '\nSTAT\nLI', 'ST\r\n\r\n')).toEqual([
      { kind: 'line', text: 'USER a' },
      { kind: 'line', text: 'STAT' },
      { kind: 'line', text: 'LIST' },
      { kind: 'line', text: '' },
    ]);
  });

  test('a line of exactly the limit passes, one more octet is refused once', () => {
    const r = new LineReader(10);
    expect(lines(r, 'x'.repeat(10) + '\r\n')).toEqual([{ kind: 'line', text: 'x'.repeat(10) }]);
    expect(lines(r, 'x'.repeat(11) + '\r\n')).toEqual([{ kind: 'overlong', limit: 10 }]);
    expect(lines(r, 'x'.repeat(11) + '\n')).toEqual([{ kind: 'overlong', limit: 10 }]);
    expect(lines(r, 'x'.repeat(10), 'x', '\r\nNOOP\r\n')).toEqual([{ kind: 'overlong', limit: 10 }, { kind: 'line', text: 'NOOP' }]);
  });

  test('an endless line is reported as soon as it passes the limit and then discarded', () => {
    const r = new LineReader(10);
    expect(lines(r, 'y'.repeat(50))).toEqual([{ kind: 'overlong', limit: 10 }]);
    for (let i = 0; i < 100; i++) expect(lines(r, 'y'.repeat(1000))).toEqual([]);
    expect(lines(r, 'yyy\nQUIT\n')).toEqual([{ kind: 'line', text: 'QUIT' }]);
  });
});

describe('serialiser', () => {
  test('dot-stuffing: leading dots doubled, CRLF everywhere, terminated by . CRLF', () => {
    expect(dotStuff(Buffer.from('a\r\n.b\r\n..c\r\n.\r\n')).toString()).toBe('a\r\n..b\r\n...c\r\n..\r\n.\r\n');
    expect(dotStuff(Buffer.from('no final newline')).toString()).toBe('no final newline\r\n.\r\n');
    expect(dotStuff(Buffer.from('bare\nlf\n')).toString()).toBe('bare\r\nlf\r\n.\r\n');
    expect(dotStuff(Buffer.alloc(0)).toString()).toBe('.\r\n');
    expect(dotStuff(Buffer.from('\r\n')).toString()).toBe('\r\n.\r\n');
  });

  test('un-stuffing what we send gives back the CRLF message, for any message', () => {
    const msg = fc
      .array(fc.oneof(fc.string({ unit: 'binary-ascii' }).map((s) => s.replace(/[\r\n]/g, '')), fc.constantFrom('.', '..', '.x', '')), { maxLength: 20 })
      .map((ls) => ls.map((l) => l + '\r\n').join(''));
    fc.assert(
      fc.property(msg, (text) => {
        const sent = dotStuff(Buffer.from(text, 'latin1')).toString('latin1');
        expect(sent.endsWith('\r\n.\r\n') || sent === '.\r\n').toBe(true);
        const body = sent.slice(0, -3).split('\r\n').slice(0, -1);
        for (const l of body) expect(l).not.toBe('.');
        expect(body.map((l) => (l.startsWith('.') ? l.slice(1) : l) + '\r\n').join('')).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  test('encode: status lines with response codes, transcripts without message content', () => {
    expect(encode({ kind: 'status', ok: false, code: 'IN-USE', text: 'maildrop already locked' }).bytes.toString()).toBe('-ERR [IN-USE] maildrop already locked\r\n');
    expect(encode({ kind: 'status', ok: true, text: '' }).bytes.toString()).toBe('+OK\r\n');
    const m = encode({ kind: 'message', text: '12 octets', body: Buffer.from('Subject: x\r\n') });
    expect(m.bytes.toString()).toBe('+OK 12 octets\r\nSubject: x\r\n.\r\n');
    expect(m.log).toEqual(['+OK 12 octets', '[message body, 15 octets]']);
    const l = encode({ kind: 'lines', text: '2 messages', lines: ['1 10', '2 20'] });
    expect(l.bytes.toString()).toBe('+OK 2 messages\r\n1 10\r\n2 20\r\n.\r\n');
    expect(l.log).toEqual(['+OK 2 messages', '1 10', '2 20', '.']);
    // A big maildrop's LIST: every line on the wire, the transcript sums up all after the first 50.
    const lines = Array.from({ length: 120 }, (_, i) => `${i + 1} ${10 + i}`);
    const big = encode({ kind: 'lines', text: '120 messages', lines });
    expect(big.bytes.toString()).toBe(`+OK 120 messages\r\n${lines.join('\r\n')}\r\n.\r\n`);
    expect(big.log).toEqual(['+OK 120 messages', ...lines.slice(0, 50), '... 70 more lines not shown', '.']);
  });
});

describe('topOfMessage', () => {
  const msg = Buffer.from('A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n');
  test.each([
    [0, 'A: 1\r\nB: 2\r\n\r\n'],
    [1, 'A: 1\r\nB: 2\r\n\r\nl1\r\n'],
    [3, 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n'],
    [99, 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n'],
  ])('TOP n=%d', (n, expected) => {
    expect(topOfMessage(msg, n).toString()).toBe(expected);
  });
  test('a header-only message, and one with an empty header', () => {
    expect(topOfMessage(Buffer.from('A: 1\r\nB: 2\r\n'), 5).toString()).toBe('A: 1\r\nB: 2\r\n');
    expect(topOfMessage(Buffer.from('\r\nbody1\r\nbody2\r\n'), 1).toString()).toBe('\r\nbody1\r\n');
  });
});
