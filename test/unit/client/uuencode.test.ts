/** Classic uuencode: known vectors, round trips, tolerant decoding, finding blocks in text. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { findUuencoded, uudecodeLines, uuencode } from '../../../services/client/src/uuencode';

const dataLines = (block: string): string[] => block.split('\n').slice(1, -3);

test('known vectors (the same lines as Python binascii.b2a_uu with backtick)', () => {
  expect(uuencode(Buffer.from('Cat'), 'cat.txt')).toBe('begin 644 cat.txt\n#0V%T\n`\nend\n');
  expect(dataLines(uuencode(Buffer.from('A'), 'a'))).toEqual(['!00``']);
  expect(dataLines(uuencode(Buffer.alloc(3), 'z'))).toEqual(['#````']);
  expect(dataLines(uuencode(Buffer.from(Array.from({ length: 45 }, (_, i) => i)), 'r'))).toEqual([
    'M``$"`P0%!@<("0H+#`T.#Q`1$A,4%187&!D:&QP=\'A\\@(2(C)"4F)R@I*BLL',
  ]);
  expect(uuencode(Buffer.alloc(0), 'empty')).toBe('begin 644 empty\n`\nend\n');
});

test('round trip at every length around the 45-byte line and 3-byte group boundaries', () => {
  for (const n of [0, 1, 2, 3, 4, 44, 45, 46, 89, 90, 91, 1000, 65536]) {
    const data = randomBytes(n);
    const [block] = findUuencoded(uuencode(data, `f${n}.bin`));
    expect(block.name).toBe(`f${n}.bin`);
    expect(block.mode).toBe(0o644);
    expect(block.data.equals(data)).toBe(true);
  }
});

test('round trip (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => {
      const data = Buffer.from(bytes);
      return findUuencoded(uuencode(data, 'x'))[0].data.equals(data);
    }),
  );
});

test('data lines are at most 61 characters of printable ASCII without spaces', () => {
  const lines = dataLines(uuencode(randomBytes(4000), 'r.bin'));
  expect(lines).toHaveLength(Math.ceil(4000 / 45));
  for (const line of lines) {
    expect(line.length).toBeLessThanOrEqual(61);
    expect(line).toMatch(/^[\x21-\x60]+$/);
  }
});

test('the same lines as Python binascii.b2a_uu, when python3 is there', () => {
  const data = randomBytes(1000);
  const py = spawnSync('python3', ['-c', 'import sys,binascii\nd=sys.stdin.buffer.read()\nfor i in range(0,len(d),45): sys.stdout.write(binascii.b2a_uu(d[i:i+45],backtick=True).decode())'], { input: data });
  if (py.error || py.status !== 0) return; // no python3 here: the vectors above still hold
  expect(dataLines(uuencode(data, 'r')).join('\n') + '\n').toBe(py.stdout.toString());
});

test('decoding tolerates spaces for zero, stripped trailing spaces and CRLF', () => {
  // Old encoders wrote zero as a space; mail systems stripped trailing spaces.
  expect(uudecodeLines(['#    \r']).equals(Buffer.alloc(3))).toBe(true);
  expect(uudecodeLines(['#']).equals(Buffer.alloc(3))).toBe(true);
  expect(uudecodeLines(['#0V%T\r', '`\r']).toString()).toBe('Cat');
  expect(uudecodeLines(['#0V%T', ' ']).toString()).toBe('Cat');
});

test('finds several blocks inside a letter, with their places, and skips an unfinished one', () => {
  const a = randomBytes(100);
  const b = randomBytes(7);
  const text = `Halo Joko,\r\n\r\nini filenya:\r\n\r\n${uuencode(a, 'laporan.pdf').replace(/\n/g, '\r\n')}\r\nsatu lagi\n${uuencode(b, 'nama dengan spasi.txt')}salam\nbegin 644 broken.bin\nM0V%T\n`;
  const blocks = findUuencoded(text);
  expect(blocks.map((x) => x.name)).toEqual(['laporan.pdf', 'nama dengan spasi.txt']);
  expect(blocks[0].data.equals(a)).toBe(true);
  expect(blocks[1].data.equals(b)).toBe(true);
  expect(text.slice(blocks[0].start, blocks[0].start + 21)).toBe('begin 644 laporan.pdf');
  expect(text.slice(blocks[1].end)).toMatch(/^salam\n/);
  expect(text.slice(blocks[0].end)).toMatch(/^\r\nsatu lagi/);
});
