/**
 * The services' log on standard output (what `docker logs` shows the class):
 * lines are written a turn of the event loop at a time, and still every line
 * arrives, in order, when the process exits on purpose, crashes, or logs more
 * than the batch holds. Runs the built logger (dist/, as the services do) in a
 * child process and reads its real standard output.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const LOGGER = join(__dirname, '../../../dist/services/core/src/logger.js');

function run(body: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `const { createLogger } = require(${JSON.stringify(LOGGER)}); const log = createLogger({}, 'test');\n${body}`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

const messages = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => l.replace(/^\S+ \S+\s+test /, ''));

beforeAll(() => {
  if (!existsSync(LOGGER)) throw new Error(`${LOGGER} is missing: run npm run build first`);
});

test('lines logged just before process.exit are all written, in order', async () => {
  const r = await run(`log.info('one'); log.warn('two', { n: 2 }); log.debug('not at the info level'); log.error('three'); process.exit(3);`);
  expect(r.code).toBe(3);
  expect(messages(r.stdout)).toEqual(['one', 'two n=2', 'three']);
});

test("a crash does not swallow the lines logged before it in the same turn", async () => {
  const r = await run(`log.info('before the crash'); throw new Error('boom');`);
  expect(r.code).toBe(1);
  expect(messages(r.stdout)).toEqual(['before the crash']);
  expect(r.stderr).toContain('boom');
});

test('lines of later turns arrive after earlier ones, and a long burst is complete and in order', async () => {
  const r = await run(`
    for (let i = 0; i < 20000; i++) log.info('burst ' + i);
    setTimeout(() => { log.info('later'); }, 20);
  `);
  expect(r.code).toBe(0);
  const got = messages(r.stdout);
  expect(got).toHaveLength(20001);
  expect(got.slice(0, 3)).toEqual(['burst 0', 'burst 1', 'burst 2']);
  expect(got[19999]).toBe('burst 19999');
  expect(got[20000]).toBe('later');
  expect(got.every((m, i) => i === 20000 || m === `burst ${i}`)).toBe(true);
});
