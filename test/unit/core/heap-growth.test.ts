/**
 * The services keep their heap close to what is alive (core/src/heap-growth.ts):
 * a process with a live set that turns over garbage holds a smaller heap with
 * the lab's setting than with V8's own, and a service refuses a setting it
 * cannot use, naming it, before it starts anything.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { heapGrowthFlag, HEAP_GROWING_PERCENT } from '../../../services/core/src/heap-growth';

const DIST = join(__dirname, '../../../dist/services');

function node(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

// About 60 MB kept alive, then 400 rounds of 20,000 objects, the last 8 rounds kept
// (what a batch of parsed headers does): the largest heap V8 held on the way.
const CHURN = `
require(${JSON.stringify(join(DIST, 'core/src/heap-growth.js'))}).limitHeapGrowth();
globalThis.live = [];
for (let i = 0; i < 600000; i++) globalThis.live.push({ a: i, b: 'x' + i, c: [i] });
let max = 0;
const ring = new Array(8).fill(null);
for (let r = 0; r < 400; r++) {
  const batch = [];
  for (let i = 0; i < 20000; i++) batch.push({ a: i, b: 'y' + i + r, c: [i, r] });
  ring[r % 8] = batch;
  max = Math.max(max, process.memoryUsage().heapTotal);
}
process.stdout.write(String(Math.round(max / 1048576)));
`;

test('the setting: a default, V8 own choice on request, and a clear refusal of anything else', () => {
  expect(heapGrowthFlag(undefined)).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  expect(heapGrowthFlag('50')).toBe('--heap-growing-percent=50');
  expect(heapGrowthFlag('v8')).toBeNull();
  for (const bad of ['0', '301', '2.5', 'lots']) expect(() => heapGrowthFlag(bad)).toThrow(/MAIL_LAB_HEAP_GROWTH must be a whole percent from 1 to 300, or v8/);
});

test('with the lab setting a process turning over garbage holds far less heap than with V8 own choice', async () => {
  expect(existsSync(join(DIST, 'core/src/heap-growth.js'))).toBe(true);
  const args = ['--max-semi-space-size=8', '-e', CHURN];
  const lab = await node(args, { MAIL_LAB_HEAP_GROWTH: '' });
  const v8own = await node(args, { MAIL_LAB_HEAP_GROWTH: 'v8' });
  expect([lab.code, lab.stderr, v8own.code, v8own.stderr]).toEqual([0, '', 0, '']);
  const [labMiB, v8MiB] = [Number(lab.stdout), Number(v8own.stdout)];
  // Measured here: about 175 against 460 MiB.
  expect(labMiB).toBeGreaterThan(60);
  expect(labMiB).toBeLessThan(v8MiB * 0.6);
}, 60_000);

test.each([
  ['dns', 'dns/src/main.js'],
  ['mail-domain', 'mail-domain/src/main.js'],
])('the %s service refuses a bad MAIL_LAB_HEAP_GROWTH at start, naming it', async (_name, main) => {
  const r = await node([join(DIST, main)], { MAIL_LAB_HEAP_GROWTH: 'lots', MAIL_LAB_CONFIG: '/nonexistent/lab.yaml', MAIL_LAB_DOMAIN: 'dadali.com', MAIL_LAB_MODE: 'local' });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/MAIL_LAB_HEAP_GROWTH must be a whole percent from 1 to 300, or v8 for V8's own choice \(it is "lots"\)/);
}, 30_000);
