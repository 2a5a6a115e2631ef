/** Property tests for the framing and the parser, and store-level surprises under a selected mailbox. */
import fc from 'fast-check';
import { parseCommand } from '../../../services/mail-domain/src/imap/parser';
import { CommandReader, type ReaderItem } from '../../../services/mail-domain/src/imap/reader';
import { message, RawClient, startLab, type Lab } from './harness';

function frames(chunks: Buffer[]): { items: ReaderItem[]; continuations: number } {
  const items: ReaderItem[] = [];
  let continuations = 0;
  const reader = new CommandReader({ maxLineLength: 200, maxLiteral: 100, continuation: () => continuations++, emit: (i) => items.push(i) });
  for (const c of chunks) reader.push(c);
  return { items, continuations };
}

test('framing does not depend on how the bytes are split into packets', () => {
  const input = Buffer.from('a1 LOGIN {3}\r\nabc "x y"\r\na2 APPEND INBOX {5+}\r\nhello\r\na3 NOOP\r\n' + 'z'.repeat(300) + '\r\na4 X {500}\r\na5 NOOP\r\n');
  const whole = frames([input]);
  expect(whole.items.map((i) => i.kind)).toEqual(['frame', 'frame', 'frame', 'error', 'error', 'frame']);
  expect(whole.continuations).toBe(1);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: input.length - 1 }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set(cuts)].sort((x, y) => x - y);
      const chunks = [0, ...points].map((start, i) => input.subarray(start, i < points.length ? points[i] : input.length));
      expect(frames(chunks)).toEqual(whole);
    }),
  );
});

test('the parser never throws, whatever the line', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), fc.constantFrom('', 'a ', 'a UID ', 'a FETCH 1 ', 'a SEARCH ', 'a STORE 1 '), (tail, head) => {
      const result = parseCommand({ texts: [head + tail], literals: [] });
      expect(typeof result.ok).toBe('boolean');
    }),
  );
});

describe('store changes under a selected mailbox', () => {
  let lab: Lab;
  let c: RawClient;
  beforeEach(async () => {
    lab = await startLab();
    await lab.store.append('mbrain', 'INBOX', message({ subject: 'one' }));
    c = await RawClient.connect(lab.port);
    await c.login();
  });
  afterEach(async () => {
    c.close();
    await lab.close();
  });

  test('the selected folder deleted by another session: BYE and close', async () => {
    await lab.store.createFolder('mbrain', 'Work');
    await c.command('a1', 'SELECT Work');
    await lab.store.deleteFolder('mbrain', 'Work');
    c.write('a2 NOOP\r\n'); // reported at the next command
    expect(await c.readUntil(/^\* BYE .*deleted/m)).toMatch(/\* BYE .*deleted/);
    await c.waitClosed();
  });

  test('renaming INBOX moves its messages; a session on INBOX sees them expunged', async () => {
    await c.command('a1', 'SELECT INBOX');
    const d = await RawClient.connect(lab.port);
    await d.login();
    expect(await d.command('b1', 'RENAME INBOX Old')).toMatch(/^b1 OK/m);
    d.close();
    expect(await c.command('a2', 'NOOP')).toMatch(/^\* 1 EXPUNGE\r\n/m);
    expect(await c.command('a3', 'STATUS Old (MESSAGES)')).toMatch(/MESSAGES 1/);
  });

  test('mailbox names with wildcards are refused', async () => {
    expect(await c.command('a1', 'CREATE "we*rd"')).toMatch(/^a1 NO \[CANNOT\]/m);
  });
});

test('an idling client sees a message appended to the mbox file by hand (IDLE polls the store)', async () => {
  const lab = await startLab();
  try {
    const c = await RawClient.connect(lab.port);
    await c.login();
    await c.command('a1', 'SELECT INBOX');
    c.write('i1 IDLE\r\n');
    await c.readUntil(/^\+ idling/m);
    await new Promise((r) => setTimeout(r, 300)); // after IDLE's first look at the store
    const { appendFile } = await import('node:fs/promises');
    await appendFile(lab.store.mboxPath('mbrain', 'INBOX'), 'From someone@example.org Thu Nov 26 07:00:00 2026\nSubject: by hand\n\nedited with an editor\n\n');
    expect(await c.readUntil(/^\* 1 EXISTS\r\n/m, 8000)).toBeTruthy();
    c.write('DONE\r\n');
    await c.readUntil(/^i1 OK/m);
    expect(await c.command('a2', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]')).toContain('Subject: by hand\r\n');
    c.close();
  } finally {
    await lab.close();
  }
}, 15_000);
