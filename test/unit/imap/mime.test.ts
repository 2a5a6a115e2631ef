/** MIME parse, ENVELOPE, BODY/BODYSTRUCTURE (RFC 3501 7.4.2), BODY[section] extraction and SEARCH matching. */
import type { SearchKey } from '../../../services/mail-domain/src/imap/commands';
import { Cursor } from '../../../services/mail-domain/src/imap/cursor';
import { parseEntity } from '../../../services/mail-domain/src/imap/mime';
import { parseSearchKeys } from '../../../services/mail-domain/src/imap/search-parse';
import { matches } from '../../../services/mail-domain/src/imap/search';
import { resolvePart, sectionData } from '../../../services/mail-domain/src/imap/sections';
import { bodyStructure, envelope } from '../../../services/mail-domain/src/imap/structure';
import { encodeLine, toWire, type ImapValue } from '../../../services/mail-domain/src/imap/wire';
import { parseAddressList } from '../../../services/mail-domain/src/imap/address';
import { NESTED } from './fixtures';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');
const wire = (v: ImapValue) => toWire(encodeLine([v])).toString('utf8').replace(/\r\n$/, '');


test('address lists: display names, quoted commas, groups, comments, bare addresses', () => {
  expect(parseAddressList('"Joko, Priyono" <jpri@dadali.com>, bare@x.org, (Comment Name) c@d.e')).toEqual([
    { name: 'Joko, Priyono', adl: null, mailbox: 'jpri', host: 'dadali.com' },
    { name: null, adl: null, mailbox: 'bare', host: 'x.org' },
    { name: 'Comment Name', adl: null, mailbox: 'c', host: 'd.e' },
  ]);
  expect(parseAddressList('undisclosed-recipients:;')).toEqual([
    { name: null, adl: null, mailbox: 'undisclosed-recipients', host: null },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
  expect(parseAddressList('<@relay.net:user@host.org>')).toEqual([{ name: null, adl: '@relay.net', mailbox: 'user', host: 'host.org' }]);
});

test('ENVELOPE: fields raw, Sender/Reply-To default to From, groups', () => {
  const e = parseEntity(NESTED);
  expect(wire(envelope(e))).toBe(
    '("Tue, 24 Nov 2026 10:00:00 +0700" "=?UTF-8?Q?Laporan_bulan_ini_=E2=9C=93?=" ' +
      '(("Joko, Priyono" NIL "jpri" "dadali.com")) (("Joko, Priyono" NIL "jpri" "dadali.com")) (("Joko, Priyono" NIL "jpri" "dadali.com")) ' +
      '(("Marsel" NIL "mbrain" "garudayaksa.com") (NIL NIL "siswa1" "garudayaksa.com")) ' +
      '((NIL NIL "staff" NIL) (NIL NIL "a" "b.c") (NIL NIL "d" "e.f") (NIL NIL NIL NIL)) NIL NIL "<m1@dadali.com>")',
  );
});

test('BODYSTRUCTURE of nested multipart with attachment and message/rfc822; BODY without extensions', () => {
  const e = parseEntity(NESTED);
  const text = 'Halo Marsel, laporan terlampir. Caf=C3=A9 jam 3?\r\nSalam';
  const inner = 'From: siswa1@garudayaksa.com\r\nSubject: forwarded\r\nContent-Type: text/plain\r\n\r\ninner body line 1\r\ninner body line 2';
  expect(wire(bodyStructure(e, true))).toBe(
    '(((' +
      `"TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" ${Buffer.byteLength(text)} 2 NIL NIL NIL NIL)(` +
      '"TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 11 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "inner") NIL NIL NIL)(' +
      '"APPLICATION" "PDF" ("NAME" "laporan.pdf") NIL NIL "BASE64" 12 NIL ("ATTACHMENT" ("FILENAME" {17}\r\nlaporan été.pdf)) NIL NIL)(' +
      `"MESSAGE" "RFC822" NIL NIL NIL "7BIT" ${Buffer.byteLength(inner)} (NIL "forwarded" ((NIL NIL "siswa1" "garudayaksa.com")) ((NIL NIL "siswa1" "garudayaksa.com")) ((NIL NIL "siswa1" "garudayaksa.com")) NIL NIL NIL NIL NIL) ` +
      '("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 36 2 NIL NIL NIL NIL) 6 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "outer") NIL NIL NIL)',
  );
  expect(wire(bodyStructure(e, false))).toBe(
    `((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" ${Buffer.byteLength(text)} 2)` +
      '("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 11 1) "ALTERNATIVE")' +
      '("APPLICATION" "PDF" ("NAME" "laporan.pdf") NIL NIL "BASE64" 12)' +
      `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" ${Buffer.byteLength(inner)} ` +
      '(NIL "forwarded" ((NIL NIL "siswa1" "garudayaksa.com")) ((NIL NIL "siswa1" "garudayaksa.com")) ((NIL NIL "siswa1" "garudayaksa.com")) NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 36 2) 6) "MIXED")',
  );
});

test('a single-part message: BODYSTRUCTURE with line count, and part 1 is its body', () => {
  const m = crlf(['Subject: x', '', 'one', 'two', '']);
  const e = parseEntity(m);
  expect(wire(bodyStructure(e, true))).toBe('("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 2 NIL NIL NIL NIL)');
  expect(resolvePart(e, [1])).toBe(e);
  expect(resolvePart(e, [2])).toBeNull();
});

test('BODY[section]: HEADER, HEADER.FIELDS (NOT), TEXT, MIME, part numbers into message/rfc822, partials', () => {
  const e = parseEntity(NESTED);
  const get = (path: number[], part: '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME', fields: string[] = [], partial: { start: number; length: number } | null = null) =>
    sectionData(e, NESTED, { kind: 'section', peek: true, path, part, fields, partial }).toString('utf8');
  expect(get([], '')).toBe(NESTED.toString('utf8'));
  expect(get([], 'HEADER')).toMatch(/^From: .*\r\n\r\n$/s);
  expect(get([], 'HEADER.FIELDS', ['SUBJECT', 'X-NONE'])).toBe('Subject: =?UTF-8?Q?Laporan_bulan_ini_=E2=9C=93?=\r\n\r\n');
  expect(get([], 'HEADER.FIELDS.NOT', ['FROM', 'TO', 'CC', 'DATE', 'MESSAGE-ID', 'MIME-VERSION', 'CONTENT-TYPE'])).toBe('Subject: =?UTF-8?Q?Laporan_bulan_ini_=E2=9C=93?=\r\n\r\n');
  expect(get([1, 1], '')).toBe('Halo Marsel, laporan terlampir. Caf=C3=A9 jam 3?\r\nSalam');
  expect(get([1, 2], 'MIME')).toBe('Content-Type: text/html; charset=utf-8\r\n\r\n');
  expect(get([2], '')).toBe('JVBERi0xLjQK');
  expect(get([3], 'HEADER')).toBe('From: siswa1@garudayaksa.com\r\nSubject: forwarded\r\nContent-Type: text/plain\r\n\r\n');
  expect(get([3], 'TEXT')).toBe('inner body line 1\r\ninner body line 2');
  expect(get([3, 1], '')).toBe('inner body line 1\r\ninner body line 2');
  expect(get([3], 'HEADER.FIELDS', ['SUBJECT'])).toBe('Subject: forwarded\r\n\r\n');
  expect(get([2], 'TEXT')).toBe(''); // not a message/rfc822 part
  expect(get([9], '')).toBe('');
  expect(get([1, 1], '', [], { start: 5, length: 6 })).toBe('Marsel');
  expect(get([], 'TEXT', [], { start: 100000, length: 5 })).toBe('');
});

test('SEARCH matching: decoded headers and bodies, flags, sizes, dates, OR/NOT, sequence and UID sets', () => {
  const entity = parseEntity(NESTED);
  const target = {
    seq: 2,
    uid: 7,
    flags: ['\\Seen', '$Work'],
    size: NESTED.length,
    internalDate: new Date('2026-11-24T03:00:00Z'),
    recent: false,
    maxSeq: 3,
    maxUid: 9,
    entity: () => entity,
  };
  const search = (criteria: string) => {
    const key: SearchKey = parseSearchKeys(new Cursor({ texts: [criteria], literals: [] }));
    return matches(key, target);
  };
  expect(search('SUBJECT "bulan ini ✓"')).toBe(true); // RFC 2047 decoded
  expect(search('FROM JOKO')).toBe(true);
  expect(search('TO siswa1')).toBe(true);
  expect(search('CC d@e.f')).toBe(true);
  expect(search('BODY café')).toBe(true); // quoted-printable decoded
  expect(search('BODY "inner body line 2"')).toBe(true); // inside message/rfc822
  expect(search('BODY JVBERi')).toBe(false); // attachments are not text
  expect(search('TEXT forwarded')).toBe(true);
  expect(search('HEADER Message-ID m1@dadali')).toBe(true);
  expect(search('HEADER X-Missing ""')).toBe(false);
  expect(search('HEADER Subject ""')).toBe(true);
  expect(search('SEEN KEYWORD $work UNFLAGGED UNANSWERED UNDELETED UNDRAFT OLD')).toBe(true);
  expect(search('OR NEW RECENT')).toBe(false);
  expect(search(`LARGER ${NESTED.length - 1} SMALLER ${NESTED.length + 1}`)).toBe(true);
  expect(search('ON 24-Nov-2026 SINCE 24-Nov-2026 BEFORE 25-Nov-2026')).toBe(true);
  expect(search('SENTON 24-Nov-2026 SENTBEFORE 25-Nov-2026 SENTSINCE 1-Nov-2026')).toBe(true);
  expect(search('SENTBEFORE 24-Nov-2026')).toBe(false);
  expect(search('NOT 1,3')).toBe(true);
  expect(search('2:* UID 7:*')).toBe(true);
  expect(search('UID 8:*')).toBe(false);
  expect(search('(SEEN (FROM nobody))')).toBe(false);
});
