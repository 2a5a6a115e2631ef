/**
 * The architecture rule of services/web (docs/architecture.md): it imports
 * services/core and packages only, never scripts/ nor another service; it
 * reaches the labs over their admin APIs, IMAP and SMTP (the injected lab source).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const webSrc = join(root, 'services/web/src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(f) ? [p] : [];
  });
}

test('services/web imports services/core and packages only', () => {
  const bad: string[] = [];
  const all = files(webSrc);
  expect(all.length).toBeGreaterThan(15);
  for (const file of all) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
      const spec = m[1];
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(file), spec));
      if (!target.startsWith('services/web/') && !target.startsWith('services/core/')) bad.push(`${relative(root, file)} imports ${spec}`);
    }
  }
  expect(bad).toEqual([]);
});
