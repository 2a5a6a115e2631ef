/**
 * The one helper that finds where a header section ends
 * (services/mail-domain/src/message-headers.ts): its options on examples,
 * and, for each part of the domain that cuts a header section, that the
 * helper with that caller's options cuts exactly where the caller's own
 * code cut before there was one helper (the references below, kept here
 * as they were written), for any mix of CR, LF and text.
 */
import fc from 'fast-check';
import { headerEnd, headerPart } from '../../../services/mail-domain/src/message-headers';

const B = (s: string) => Buffer.from(s, 'latin1');

describe('headerEnd', () => {
  test('CRLF, LF, the first of either, or any mix', () => {
    expect(headerEnd('A: 1\r\nB: 2\r\n\r\nbody', { breaks: 'crlf' })).toEqual({ fieldsEnd: 10, linesEnd: 12, bodyStart: 14 });
    expect(headerEnd('A: 1\nB: 2\n\nbody', { breaks: 'lf' })).toEqual({ fieldsEnd: 9, linesEnd: 10, bodyStart: 11 });
    expect(headerEnd('A: 1\nB: 2\n\nbody', { breaks: 'crlf' })).toBeNull();
    expect(headerEnd('A: 1\r\n\r\nB\n\nC', { breaks: 'crlf-or-lf' })).toEqual({ fieldsEnd: 4, linesEnd: 6, bodyStart: 8 });
    expect(headerEnd('A: 1\n\nB\r\n\r\nC', { breaks: 'crlf-or-lf' })).toEqual({ fieldsEnd: 4, linesEnd: 5, bodyStart: 6 });
    // A LF line followed by a CRLF empty line: only 'any' takes it.
    expect(headerEnd('A: 1\n\r\nbody', { breaks: 'crlf-or-lf' })).toBeNull();
    expect(headerEnd('A: 1\n\r\nbody', { breaks: 'any' })).toEqual({ fieldsEnd: 4, linesEnd: 5, bodyStart: 7 });
    expect(headerEnd('A: 1\r\n\nbody', { breaks: 'any' })).toEqual({ fieldsEnd: 4, linesEnd: 6, bodyStart: 7 });
    expect(headerEnd('A: 1\r\nB: 2', { breaks: 'any' })).toBeNull();
  });

  test('an empty first line is an empty header section only when asked', () => {
    expect(headerEnd('\r\nbody\r\n\r\nx', { breaks: 'any', emptyFirstLine: true })).toEqual({ fieldsEnd: 0, linesEnd: 0, bodyStart: 2 });
    expect(headerEnd('\nbody', { breaks: 'crlf-or-lf', emptyFirstLine: true })).toEqual({ fieldsEnd: 0, linesEnd: 0, bodyStart: 1 });
    expect(headerEnd('\r\nbody\n\nx', { breaks: 'lf', emptyFirstLine: true })).toEqual({ fieldsEnd: 6, linesEnd: 7, bodyStart: 8 });
    expect(headerEnd('\r\nbody\r\n\r\nx', { breaks: 'any' })).toEqual({ fieldsEnd: 6, linesEnd: 8, bodyStart: 10 });
  });

  test('a Buffer and its latin1 text give the same positions', () => {
    const text = 'Subject: caf\xe9\r\n\tfolded\r\n\r\n\xff';
    for (const breaks of ['crlf', 'lf', 'crlf-or-lf', 'any'] as const) expect(headerEnd(B(text), { breaks })).toEqual(headerEnd(text, { breaks }));
  });
});

describe('headerPart', () => {
  test('fields, lines or with the empty line; all of it without an empty line', () => {
    const text = 'A: 1\r\nB: 2\r\n\r\nbody';
    expect(headerPart(text, { breaks: 'crlf', upTo: 'fields' })).toBe('A: 1\r\nB: 2');
    expect(headerPart(text, { breaks: 'crlf', upTo: 'lines' })).toBe('A: 1\r\nB: 2\r\n');
    expect(headerPart(text, { breaks: 'crlf', upTo: 'blank' })).toBe('A: 1\r\nB: 2\r\n\r\n');
    expect(headerPart(B(text), { breaks: 'crlf', upTo: 'blank' }).equals(B('A: 1\r\nB: 2\r\n\r\n'))).toBe(true);
    expect(headerPart('A: 1\r\nB: 2\r\n', { breaks: 'crlf', upTo: 'fields' })).toBe('A: 1\r\nB: 2\r\n');
  });
});

/** How each caller cut a header section before the helper (the code as it was), and the helper with its options now. */
const callers: { name: string; before: (data: Buffer) => string; now: (data: Buffer) => string }[] = [
  {
    name: 'store/mbox-store.ts readMany(…, "header") (headerOf)',
    before: (stored) => {
      if (stored.length > 0 && stored[0] === 0x0a) return stored.subarray(0, 1).toString('latin1');
      const end = stored.indexOf('\n\n');
      return (end < 0 ? stored : stored.subarray(0, end + 2)).toString('latin1');
    },
    now: (stored) => headerPart(stored, { breaks: 'lf', emptyFirstLine: true, upTo: 'blank' }).toString('latin1'),
  },
  {
    name: 'queue DSN, local delivery, admin mailbox headers (headerBlock of queue/dsn.ts)',
    before: (message) => {
      const text = message.toString('latin1');
      const end = text.search(/\r?\n\r?\n/);
      return end < 0 ? text : text.slice(0, end);
    },
    now: (message) => headerPart(message.toString('latin1'), { breaks: 'any', upTo: 'fields' }),
  },
  {
    name: 'admin mailbox headers on the Buffer itself',
    before: (message) => {
      const text = message.toString('latin1');
      const end = text.search(/\r?\n\r?\n/);
      return end < 0 ? text : text.slice(0, end);
    },
    now: (message) => headerPart(message, { breaks: 'any', upTo: 'fields' }).toString('latin1'),
  },
  {
    name: 'trace/journal.ts messageIdentity',
    before: (message) => {
      const head = message.subarray(0, 16 * 1024).toString('latin1');
      const end = head.search(/\r?\n\r?\n/);
      return end < 0 ? head : head.slice(0, end);
    },
    now: (message) => headerPart(message.subarray(0, 16 * 1024).toString('latin1'), { breaks: 'any', upTo: 'fields' }),
  },
  {
    name: 'queue/dedupe.ts relayIdentity (headerText)',
    before: (data) => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      return end >= 0 ? text.slice(0, end + 2) : text;
    },
    now: (data) => headerPart(data.toString('latin1'), { breaks: 'crlf', upTo: 'lines' }),
  },
  {
    name: 'smtp/message.ts headerSection (found)',
    before: (message) => {
      const text = message.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      return end >= 0 ? text.slice(0, end + 2) : '<none>';
    },
    now: (message) => {
      const text = message.toString('latin1');
      const end = headerEnd(text, { breaks: 'crlf' });
      return end ? text.slice(0, end.linesEnd) : '<none>';
    },
  },
  {
    name: 'imap/mime.ts splitHeader',
    before: (data) => {
      const split = (): { header: Buffer; body: Buffer } => {
        if (data.length >= 2 && data[0] === 0x0d && data[1] === 0x0a) return { header: data.subarray(0, 2), body: data.subarray(2) };
        if (data.length >= 1 && data[0] === 0x0a) return { header: data.subarray(0, 1), body: data.subarray(1) };
        const crlf = data.indexOf('\r\n\r\n');
        const lf = data.indexOf('\n\n');
        if (crlf >= 0 && (lf < 0 || crlf < lf)) return { header: data.subarray(0, crlf + 4), body: data.subarray(crlf + 4) };
        if (lf >= 0) return { header: data.subarray(0, lf + 2), body: data.subarray(lf + 2) };
        return { header: data, body: Buffer.alloc(0) };
      };
      const { header, body } = split();
      return `${header.toString('latin1')}|${body.toString('latin1')}`;
    },
    now: (data) => {
      const at = headerEnd(data, { breaks: 'crlf-or-lf', emptyFirstLine: true })?.bodyStart ?? data.length;
      return `${data.subarray(0, at).toString('latin1')}|${data.subarray(at).toString('latin1')}`;
    },
  },
  {
    name: 'pop3/transaction.ts topOfMessage (end of the header)',
    before: (raw) => {
      const blank = /^\r?\n|\r?\n\r?\n/.exec(raw.toString('latin1'));
      return blank ? String(blank.index + blank[0].length) : 'none';
    },
    now: (raw) => {
      const blank = headerEnd(raw.toString('latin1'), { breaks: 'any', emptyFirstLine: true });
      return blank ? String(blank.bodyStart) : 'none';
    },
  },
];

/** Short messages of header-like text, CR, LF, tabs and 8-bit octets: every way an empty line can (nearly) appear. */
const messageLike = fc
  .array(fc.constantFrom('\r', '\n', '\r\n', '\r\n\r\n', '\n\n', '\n\r\n', '\r\n\n', 'A: 1', 'Received: x', '\t', ' ', 'b', '\xe9', '\xff'), { maxLength: 14 })
  .map((parts) => B(parts.join('')));

describe.each(callers)('$name', ({ before, now }) => {
  test('cuts where it cut before', () => {
    for (const s of ['', '\n', '\r\n', '\r', 'A: 1', 'A: 1\r\n\r\n', 'A: 1\n\n', '\nA', '\r\nA\n\nB', 'A\n\r\nB', 'A\r\n\nB', 'A\r\r\n\r\nB']) expect(now(B(s))).toBe(before(B(s)));
    fc.assert(
      fc.property(messageLike, (data) => now(data) === before(data)),
      { numRuns: 2000 },
    );
  });
});
