/**
 * SEARCH BODY and TEXT (RFC 3501 6.4.4): a substring match that ignores case,
 * in the decoded text of the message's text parts. The words a user types
 * are text, not a pattern: dots, brackets and stars match themselves.
 */
import { matches, type SearchTarget } from '../../../services/mail-domain/src/imap/search';
import { parseEntity } from '../../../services/mail-domain/src/imap/mime';

function target(message: string): SearchTarget {
  const data = Buffer.from(message.replace(/\n/g, '\r\n'), 'utf8');
  const entity = parseEntity(data);
  return { seq: 1, uid: 1, flags: [], size: data.length, internalDate: new Date(0), recent: false, maxSeq: 1, maxUid: 1, entity: () => entity };
}

const plain = target('From: dewi@dadali.com\nSubject: Rapat anggaran\nContent-Type: text/plain; charset=utf-8\n\nRapat tentang Ärger (50%) di a.b pukul 10*2.\n');
const qp = target(
  'From: dewi@dadali.com\nSubject: Kabar\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nSelamat pagi, =C4RGER bukan masalah.\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nYW5nZ2FyYW4gcmFoYXNpYQ==\n--b--\n',
);

const body = (value: string, m: SearchTarget) => matches({ key: 'BODY', value }, m);

test('BODY ignores case, in ASCII and beyond it, and in decoded quoted-printable', () => {
  expect(body('RAPAT TENTANG', plain)).toBe(true);
  expect(body('ärger', plain)).toBe(true);
  expect(body('ÄRGER', plain)).toBe(true);
  expect(body('ärger bukan', qp)).toBe(true);
  expect(body('selamat PAGI', qp)).toBe(true);
});

test('BODY looks in text parts only: an attachment is not searched', () => {
  // The base64 part decodes to "anggaran rahasia".
  expect(body('rahasia', qp)).toBe(false);
  // And the header is not the body.
  expect(body('anggaran', plain)).toBe(false);
  expect(matches({ key: 'TEXT', value: 'anggaran' }, plain)).toBe(true);
});

test('what a user types matches itself, never as a pattern', () => {
  expect(body('(50%)', plain)).toBe(true);
  expect(body('a.b', plain)).toBe(true);
  expect(body('10*2', plain)).toBe(true);
  expect(body('a?b', plain)).toBe(false);
  expect(body('r.pat', plain)).toBe(false);
  expect(body('10*', plain)).toBe(true);
  expect(body('[a]', plain)).toBe(false);
  expect(body('\\', plain)).toBe(false);
});

test('many different words in one process each find what they should', () => {
  for (let i = 0; i < 200; i++) {
    const m = target(`Subject: n\n\nkata${i} ada di sini\n`);
    expect(body(`KATA${i} ADA`, m)).toBe(true);
    expect(body(`kata${i + 1} ada`, m)).toBe(false);
  }
});

test('an ASCII word is found in any case wherever it lies in a part, encoded or not', () => {
  const b64 = target(`Subject: x\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n${Buffer.from('Laporan ANGGARAN tahun ini\r\nakhir').toString('base64')}\n`);
  expect(body('anggaran TAHUN', b64)).toBe(true);
  expect(body('LAPORAN', b64)).toBe(true); // at the start
  expect(body('AKHIR', b64)).toBe(true); // at the very end
  expect(body('akhir dari', b64)).toBe(false); // runs past the end
  expect(body('anggaran  tahun', b64)).toBe(false);
  expect(body('', b64)).toBe(true);
});

test('in a charset whose characters use ASCII octets the decoded text is searched, not the octets', () => {
  // Shift_JIS writes 表 as 0x95 0x5C: the second octet is "\" in ASCII, which is not in the text.
  const sjis = Buffer.concat([Buffer.from('Subject: x\r\nContent-Type: text/plain; charset=Shift_JIS\r\n\r\n', 'latin1'), Buffer.from([0x95, 0x5c]), Buffer.from(' rapat\r\n', 'latin1')]);
  const m: SearchTarget = { ...plain, entity: () => parseEntity(sjis) };
  expect(body('\\', m)).toBe(false);
  expect(body('表 RAPAT', m)).toBe(true);
  expect(body('rapat', m)).toBe(true);
});
