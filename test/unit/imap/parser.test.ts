/** Parser, cursor, modified UTF-7, sequence sets and the serialiser, without sockets. */
import { parseCommand } from '../../../services/mail-domain/src/imap/parser';
import { inSequenceSet, parseSequenceSet, formatSequence } from '../../../services/mail-domain/src/imap/sequence';
import { decodeMailboxName, encodeMailboxName } from '../../../services/mail-domain/src/imap/utf7';
import { Concat, encodeLine, raw, toTranscript, toWire } from '../../../services/mail-domain/src/imap/wire';
import { sectionLabel } from '../../../services/mail-domain/src/imap/fetch-parse';

const parse = (line: string, literals: string[] = []) => {
  // Split the line at literal markers the way the reader does.
  const texts = line.split(/(?<=\{\d+\+?\})/);
  if (/\{\d+\+?\}$/.test(line)) texts.push('');
  return parseCommand({ texts, literals: literals.map((l) => Buffer.from(l)) });
};
const command = (line: string, literals: string[] = []) => {
  const p = parse(line, literals);
  if (!p.ok) throw new Error(p.message);
  return p.command;
};

test('tags, atoms, quoted strings with escapes, literals, LITERAL+', () => {
  expect(parse('a1 NOOP')).toEqual({ ok: true, tag: 'a1', command: { name: 'NOOP' } });
  expect(command('x LOGIN "we\\"ird" "p\\\\w"')).toEqual({ name: 'LOGIN', user: 'we"ird', password: 'p\\w' });
  expect(command('x LOGIN {6} {3+}', ['mbrain', 'pwd'])).toEqual({ name: 'LOGIN', user: 'mbrain', password: 'pwd' });
  const bad = parse('x LOGIN "unterminated');
  expect(bad).toMatchObject({ ok: false, tag: 'x', message: 'Unterminated quoted string' });
  expect(parse('+bad NOOP')).toMatchObject({ ok: false, tag: null });
  // A tag is 7-bit ASCII (RFC 3501 9, CHAR): a no-break space or a byte-order mark before it is no tag.
  expect(parse('\u00a0A1 IDLE')).toMatchObject({ ok: false, tag: null });
  expect(parse('\ufeffA1 NOOP')).toMatchObject({ ok: false, tag: null });
  expect(parse('Aü NOOP')).toMatchObject({ ok: false, tag: 'A' });
  expect(parse('t frob')).toMatchObject({ ok: false, message: 'Unknown command FROB' });
  expect(parse('t UID NOOP')).toMatchObject({ ok: false, message: 'UID NOOP is not a command' });
});

test('mailbox names: INBOX any case, modified UTF-7, LIST wildcards', () => {
  expect(command('a SELECT inBox')).toEqual({ name: 'SELECT', mailbox: 'INBOX' });
  expect(command('a CREATE "Caf&AOk-/&ZeVnLIqe-"')).toEqual({ name: 'CREATE', mailbox: 'Café/日本語' });
  expect(command('a LIST "" %/*')).toEqual({ name: 'LIST', reference: '', pattern: '%/*' });
  expect(command('a LIST "Projects/" "*"')).toEqual({ name: 'LIST', reference: 'Projects/', pattern: '*' });
  expect(parse('a SELECT "&Jjo"')).toMatchObject({ ok: false, message: /Invalid mailbox name/ });
  expect(encodeMailboxName('Café/日本語 & more')).toBe('Caf&AOk-/&ZeVnLIqe- &- more');
  expect(decodeMailboxName('~peter/mail/&U,BTFw-/&ZeVnLIqe-')).toBe('~peter/mail/台北/日本語');
  for (const name of ['plain', 'a&b', 'Ünïcödé', '😀 emoji', '&&&']) expect(decodeMailboxName(encodeMailboxName(name))).toBe(name);
});

test('sequence sets with *, ranges in either order, COPYUID compaction', () => {
  const set = parseSequenceSet('1,3:5,9:*');
  expect([1, 2, 3, 4, 5, 8, 9, 12].map((n) => inSequenceSet(set, n, 12))).toEqual([true, false, true, true, true, false, true, true]);
  expect(inSequenceSet(parseSequenceSet('559:*'), 500, 500)).toBe(true); // RFC 3501 6.4.8
  expect(inSequenceSet(parseSequenceSet('5:2'), 3, 10)).toBe(true);
  expect(() => parseSequenceSet('0')).toThrow();
  expect(() => parseSequenceSet('1::2')).toThrow();
  expect(formatSequence([1, 2, 3, 7, 9, 10])).toBe('1:3,7,9:10');
});

test('FETCH attributes: macros, sections, HEADER.FIELDS (NOT), MIME, partials, PEEK', () => {
  expect(command('a FETCH 1:* ALL')).toMatchObject({ atts: [{ kind: 'FLAGS' }, { kind: 'INTERNALDATE' }, { kind: 'RFC822.SIZE' }, { kind: 'ENVELOPE' }] });
  expect(command('a FETCH 1 FAST')).toMatchObject({ atts: [{ kind: 'FLAGS' }, { kind: 'INTERNALDATE' }, { kind: 'RFC822.SIZE' }] });
  expect(command('a FETCH 1 FULL')).toMatchObject({ atts: [{}, {}, {}, {}, { kind: 'BODY' }] });
  const c = command('a UID FETCH 1:3 (UID BODY.PEEK[HEADER.FIELDS (From "Subject")] BODY[1.2.MIME] BODY[]<10.20> body[2.text] BODYSTRUCTURE)');
  expect(c).toMatchObject({
    name: 'FETCH',
    uid: true,
    atts: [
      { kind: 'UID' },
      { kind: 'section', peek: true, path: [], part: 'HEADER.FIELDS', fields: ['FROM', 'SUBJECT'], partial: null },
      { kind: 'section', peek: false, path: [1, 2], part: 'MIME' },
      { kind: 'section', path: [], part: '', partial: { start: 10, length: 20 } },
      { kind: 'section', path: [2], part: 'TEXT' },
      { kind: 'BODYSTRUCTURE' },
    ],
  });
  const atts = (c as { atts: Parameters<typeof sectionLabel>[0][] }).atts;
  expect(sectionLabel(atts[1])).toBe('BODY[HEADER.FIELDS (FROM SUBJECT)]');
  expect(sectionLabel(atts[3])).toBe('BODY[]<10>');
  expect(parse('a FETCH 1 BODY[MIME]')).toMatchObject({ ok: false, message: 'MIME needs a part number' });
  expect(parse('a FETCH 1 BODY[0]')).toMatchObject({ ok: false });
  expect(parse('a FETCH 1 (FLAGS BOGUS)')).toMatchObject({ ok: false, message: 'Unknown FETCH attribute BOGUS' });
});

test('STORE, COPY, MOVE, UID EXPUNGE, APPEND, STATUS, ID, ENABLE', () => {
  expect(command('a STORE 1:2 +FLAGS.SILENT (\\Seen $Label)')).toEqual({ name: 'STORE', uid: false, set: parseSequenceSet('1:2'), op: 'add', silent: true, flags: ['\\Seen', '$Label'] });
  expect(command('a UID STORE 4 FLAGS \\Deleted')).toMatchObject({ uid: true, op: 'set', silent: false, flags: ['\\Deleted'] });
  expect(command('a UID MOVE 1:* Trash')).toMatchObject({ name: 'MOVE', uid: true, mailbox: 'Trash' });
  expect(command('a UID EXPUNGE 3:4')).toMatchObject({ name: 'EXPUNGE', uid: true });
  expect(parse('a EXPUNGE 3')).toMatchObject({ ok: false });
  const ap = command('a APPEND Drafts (\\Draft) " 4-Jul-2026 09:30:00 -0200" {5}', ['hello']);
  expect(ap).toMatchObject({ name: 'APPEND', mailbox: 'Drafts', flags: ['\\Draft'], date: new Date('2026-07-04T11:30:00Z') });
  expect(parse('a APPEND Drafts hello')).toMatchObject({ ok: false, message: 'APPEND needs the message as a literal' });
  expect(command('a STATUS INBOX (messages UIDNEXT)')).toMatchObject({ items: ['MESSAGES', 'UIDNEXT'] });
  expect(parse('a STATUS INBOX (SIZE)')).toMatchObject({ ok: false, message: 'Unknown STATUS item SIZE' });
  expect(command('a ID ("name" "imapflow" "version" NIL)')).toEqual({ name: 'ID', params: [['name', 'imapflow'], ['version', null]] });
  expect(command('a ID NIL')).toEqual({ name: 'ID', params: null });
  expect(command('a ENABLE CONDSTORE utf8=accept')).toEqual({ name: 'ENABLE', capabilities: ['CONDSTORE', 'UTF8=ACCEPT'] });
});

test('SEARCH keys: every RFC 3501 key, OR/NOT/groups, CHARSET, dates', () => {
  const c = command(
    'a SEARCH CHARSET UTF-8 ALL ANSWERED BCC x BEFORE 1-Feb-2026 BODY "b c" CC y DELETED DRAFT FLAGGED FROM z HEADER X-Mailer mutt ' +
      'KEYWORD $Work LARGER 10 NEW NOT SEEN OLD ON 2-Feb-2026 OR RECENT UNSEEN SENTBEFORE "3-Mar-2026" SENTON 3-Mar-2026 SENTSINCE 3-Mar-2026 ' +
      'SINCE 1-Jan-2026 SMALLER 99 SUBJECT hi TEXT t TO w UID 1:* UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD $Junk 1,2:3 (SEEN FLAGGED)',
  );
  expect(c).toMatchObject({ name: 'SEARCH', charset: 'UTF-8', key: { key: 'AND' } });
  const keys = (c as { key: { keys: unknown[] } }).key.keys;
  expect(keys).toHaveLength(34);
  expect(keys).toContainEqual({ key: 'HEADER', field: 'X-MAILER', value: 'mutt' });
  expect(keys).toContainEqual({ key: 'DATE', sent: false, cmp: 'BEFORE', day: Date.UTC(2026, 1, 1) / 86_400_000 });
  expect(keys).toContainEqual({ key: 'NOT', inner: { key: 'FLAG', flag: '\\Seen', set: true } });
  expect(keys).toContainEqual({ key: 'OR', a: { key: 'RECENT' }, b: { key: 'FLAG', flag: '\\Seen', set: false } });
  expect(command('a SEARCH SUBJECT {6}', ['héllo'.padEnd(5)])).toMatchObject({ key: { key: 'HEADER', field: 'SUBJECT' } });
  expect(parse('a SEARCH BEFORE 31-Foo-2026')).toMatchObject({ ok: false, message: /Invalid date/ });
  expect(parse('a SEARCH FROBNICATE')).toMatchObject({ ok: false, message: 'Unknown search key FROBNICATE' });
  expect(parse('a SEARCH OR SEEN')).toMatchObject({ ok: false });
});

test('serialiser: quoting, literals for 8-bit and CRLF, NIL, lists, no-separator Concat, transcript summary', () => {
  const chunks = encodeLine([raw('*'), 1, raw('FETCH'), [raw('X'), 'say "hi" \\o/', null, 'naïve', Buffer.from('a\r\nb'), new Concat([[1], [2]])]]);
  expect(toWire(chunks).toString('utf8')).toBe('* 1 FETCH (X "say \\"hi\\" \\\\o/" NIL {6}\r\nnaïve {4}\r\na\r\nb (1)(2))\r\n');
  expect(toTranscript(chunks)).toBe('* 1 FETCH (X "say \\"hi\\" \\\\o/" NIL {6}<6 octets> {4}<4 octets> (1)(2))');
});
