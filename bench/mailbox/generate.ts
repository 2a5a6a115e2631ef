/**
 * The benchmark mailbox: N messages of varied, realistic shape and size,
 * generated from a seed (the same bytes on every run and for both servers)
 * and written as one mbox file the way our store writes it (mboxrd, LF line
 * ends, `From ` separator, a blank line after each message). Shapes: short
 * plain text, text + HTML alternatives, text with an attachment, rarely a
 * large attachment; sizes log-uniform within each shape. The words the
 * searches look for occur at known rates.
 */
import { createWriteStream } from 'node:fs';
import { separatorLine, toMboxBody } from '../../services/mail-domain/src/store/mbox-format';

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'selamat pagi siang sore malam rapat jadwal laporan tugas siswa kelas guru server email surat konfigurasi jaringan ' +
  'antrian pesan lampiran makan minggu senin selasa rabu kamis jumat sekolah ujian nilai catatan proyek kegiatan ' +
  'terima kasih mohon bantuan segera bapak ibu teman semua hari ini besok kemarin dokumen berkas kirim balas'
).split(' ');
/** Search words: only ever in the places the benchmark searches, at these rates. */
export const SEARCH = { subject: 'pengumuman', body: 'anggaran', from: 'dewi' } as const;
const PEOPLE: Array<[string, string]> = [
  ['Joko Priyono', 'jpri@dadali.com'],
  ['Marsel', 'mbrain@garudayaksa.com'],
  ['Siswa Satu', 'siswa1@garudayaksa.com'],
  ['Dewi Lestari', 'dewi.lestari@example.org'],
  ['Budi Santoso', 'budi@example.net'],
  ['Rina Wati', 'rina@sekolah.example'],
  ['Agus Salim', 'agus@example.com'],
  ['Postmaster', 'postmaster@garudayaksa.com'],
];

export interface GeneratedMailbox {
  messages: number;
  /** Octets of the mbox file. */
  fileOctets: number;
  /** Octets of the messages in wire form (CRLF), as RFC822.SIZE and POP3 count them. */
  wireOctets: number;
  sizes: { min: number; median: number; p90: number; max: number; mean: number };
  /** How many messages each search should find. */
  expected: { subject: number; body: number; from: number };
}

function text(rand: () => number, octets: number, extra: string | null): string {
  const lines: string[] = [];
  let line = '';
  let total = 0;
  let placed = extra === null;
  while (total < octets) {
    let w = WORDS[Math.floor(rand() * WORDS.length)];
    if (!placed && rand() < 0.05) {
      w = extra!;
      placed = true;
    }
    if (line.length + w.length + 1 > 72) {
      lines.push(line);
      total += line.length + 2;
      line = '';
    }
    line = line ? `${line} ${w}` : w;
  }
  if (!placed) line += ` ${extra}`;
  lines.push(line);
  return lines.join('\r\n') + '\r\n';
}

function base64Block(rand: () => number, octets: number): string {
  const raw = Buffer.alloc(Math.ceil(octets / 4) * 4);
  for (let i = 0; i < raw.length; i += 4) raw.writeUInt32LE(Math.floor(rand() * 4294967296), i);
  return (raw.subarray(0, octets).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n') + '\r\n';
}

const logUniform = (rand: () => number, lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo))));

/** One message in wire form (CRLF). */
export function makeMessage(i: number, rand: () => number): { wire: Buffer; subject: boolean; body: boolean; from: boolean; date: Date } {
  const date = new Date(Date.UTC(2026, 0, 5) + i * 37 * 60_000 + Math.floor(rand() * 60_000));
  const from = PEOPLE[Math.floor(rand() * PEOPLE.length)];
  const to = PEOPLE[Math.floor(rand() * PEOPLE.length)];
  const hitSubject = rand() < 0.03;
  const hitBody = rand() < 0.02;
  const subjectWords = Array.from({ length: 2 + Math.floor(rand() * 5) }, () => WORDS[Math.floor(rand() * WORDS.length)]);
  if (hitSubject) subjectWords.splice(1, 0, SEARCH.subject);
  const shape = rand();
  const headers = [
    `Return-Path: <${from[1]}>`,
    `Received: from mail.example.org (mail.example.org [192.0.2.${1 + (i % 250)}])\r\n\tby mail.dadali.com with ESMTP id B${i.toString(36).toUpperCase()}\r\n\tfor <siswa1@dadali.com>; ${date.toUTCString().replace('GMT', '+0000')}`,
    `From: ${from[0]} <${from[1]}>`,
    `To: ${to[0]} <${to[1]}>`,
    ...(rand() < 0.3 ? [`Cc: ${PEOPLE[0][0]} <${PEOPLE[0][1]}>, ${PEOPLE[5][0]} <${PEOPLE[5][1]}>`] : []),
    `Subject: ${subjectWords.join(' ').replace(/^./, (c) => c.toUpperCase())}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <bench.${i}.${Math.floor(rand() * 1e9).toString(36)}@example.org>`,
    'MIME-Version: 1.0',
  ];
  const bodyWord = hitBody ? SEARCH.body : null;
  let body: string;
  if (shape < 0.6) {
    headers.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
    body = text(rand, logUniform(rand, 300, 6_000), bodyWord);
  } else if (shape < 0.85) {
    const plain = text(rand, logUniform(rand, 1_500, 10_000), bodyWord);
    headers.push(`Content-Type: multipart/alternative; boundary="alt-${i}"`);
    const html = `<html><body><p>${plain.replace(/\r\n/g, '</p>\r\n<p>')}</p></body></html>\r\n`;
    body = `--alt-${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${plain}--alt-${i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}--alt-${i}--\r\n`;
  } else {
    const big = shape > 0.985;
    const attachment = big ? logUniform(rand, 150_000, 600_000) : logUniform(rand, 12_000, 72_000);
    headers.push(`Content-Type: multipart/mixed; boundary="mix-${i}"`);
    const plain = text(rand, logUniform(rand, 200, 2_000), bodyWord);
    const name = big ? `dokumen-${i}.pdf` : `foto-${i}.jpg`;
    const type = big ? 'application/pdf' : 'image/jpeg';
    body =
      `--mix-${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${plain}` +
      `--mix-${i}\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${base64Block(rand, attachment)}--mix-${i}--\r\n`;
  }
  return { wire: Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, 'utf8'), subject: hitSubject, body: hitBody, from: from[0].startsWith('Dewi'), date };
}

/** Writes `count` messages to `path` as an mbox file. */
export async function writeMailbox(path: string, count: number, seed: number): Promise<GeneratedMailbox> {
  const rand = prng(seed);
  const out = createWriteStream(path);
  const sizes: number[] = [];
  const expected = { subject: 0, body: 0, from: 0 };
  let fileOctets = 0;
  let wireOctets = 0;
  for (let i = 0; i < count; i++) {
    const m = makeMessage(i, rand);
    sizes.push(m.wire.length);
    wireOctets += m.wire.length;
    expected.subject += m.subject ? 1 : 0;
    expected.body += m.body ? 1 : 0;
    expected.from += m.from ? 1 : 0;
    const chunk = Buffer.concat([Buffer.from(separatorLine('bench@example.org', m.date), 'latin1'), toMboxBody(m.wire), Buffer.from('\n')]);
    fileOctets += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  const sorted = [...sizes].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return {
    messages: count,
    fileOctets,
    wireOctets,
    sizes: { min: sorted[0], median: q(0.5), p90: q(0.9), max: sorted[sorted.length - 1], mean: Math.round(wireOctets / Math.max(1, count)) },
    expected,
  };
}
