/**
 * The lab guide (docs/guide) keeps up with the scenarios: a worksheet per
 * scenario in both languages, each naming its lesson section and its
 * self-check command, and the index linking them all.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { scenarioDir } from '../../../scripts/scenario/runner';

const guide = join(__dirname, '../../../docs/guide');
const scenarios = readdirSync(scenarioDir())
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

describe.each(scenarios)('worksheet for %s', (name) => {
  test.each([
    ['en', /^\*Lesson: \*\*[123]/m],
    ['id', /^\*Materi: \*\*[123]/m],
  ] as const)('%s: lesson section and self-check', (lang, section) => {
    const file = join(guide, lang, `${name}.md`);
    expect(existsSync(file)).toBe(true);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(section);
    expect(text).toContain(`npx mail-lab scenario ${name} --lang ${lang}`);
  });
});

test('the index links every worksheet in both languages, and every link resolves', () => {
  const index = readFileSync(join(guide, 'README.md'), 'utf8');
  for (const name of scenarios) for (const lang of ['en', 'id']) expect(index).toContain(`(${lang}/${name}.md)`);
  const files = [join(guide, 'README.md'), ...['en', 'id'].flatMap((l) => readdirSync(join(guide, l)).map((f) => join(guide, l, f)))];
  for (const file of files) {
    for (const [, target] of readFileSync(file, 'utf8').matchAll(/\]\(([^)#\s]+\.md)\)/g)) {
      expect([file, existsSync(resolve(dirname(file), target))]).toEqual([file, true]);
    }
  }
});
