/**
 * Which pages go into the students' printed worksheets, and in what order:
 * the worksheet table of docs/guide/README.md (its "#" column is the order of
 * the lesson), then any worksheet of en/ or id/ that the table does not list
 * yet (with a warning, so a new worksheet is printed, not lost), then the
 * glossary. The teacher's pages (answer keys, class plan) are never listed:
 * they are not in en/ or id/, and they are named here so that a table row
 * pointing at one is refused rather than printed for the class.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export type GuideLang = 'en' | 'id';
export const GUIDE_LANGS: readonly GuideLang[] = ['en', 'id'];

/** For the teacher only: never in a students' print. */
export const TEACHER_ONLY = ['answer-keys.md', 'kunci-jawaban.md', 'class-plan.md', 'rencana-kelas.md'] as const;

export interface GuidePage {
  /** The place in the README table (1, 2, …); undefined for a worksheet the table does not list, and for the glossary. */
  n?: number;
  /** The scenario of the worksheet (`smtp-by-hand`), or `glossary`. */
  scenario: string;
  /** Absolute path of the Markdown file. */
  file: string;
}

export interface GuideContents {
  pages: GuidePage[];
  /** Things the teacher should know (a worksheet missing from the table, a table row without a file). */
  warnings: string[];
}

export class GuideContentsError extends Error {
  override name = 'GuideContentsError';
}

const ROW = /^\|\s*(\d+)\s*\|\s*`([^`]+)`\s*\|/;

/** The pages of one language's print, in order; throws when the README has no worksheet table. */
export function guideContents(guideDir: string, lang: GuideLang): GuideContents {
  const readme = join(guideDir, 'README.md');
  if (!existsSync(readme)) throw new GuideContentsError(`no ${readme}: the worksheet table (the order of the print) is read from it`);
  const pages: GuidePage[] = [];
  const warnings: string[] = [];
  const listed = new Set<string>();
  const link = new RegExp(`\\]\\((${lang}/[^)\\s]+\\.md)\\)`);
  for (const line of readFileSync(readme, 'utf8').split('\n')) {
    const row = ROW.exec(line);
    if (!row) continue;
    const target = link.exec(line)?.[1];
    if (!target) {
      warnings.push(`README.md row ${row[1]} (${row[2]}) has no ${lang}/ worksheet link: left out`);
      continue;
    }
    if ((TEACHER_ONLY as readonly string[]).includes(basename(target))) {
      throw new GuideContentsError(`README.md row ${row[1]} points at ${target}, a page for the teacher only: not printed for students`);
    }
    const file = join(guideDir, target);
    if (!existsSync(file)) {
      warnings.push(`README.md row ${row[1]} (${row[2]}): ${target} does not exist: left out`);
      continue;
    }
    listed.add(basename(target));
    pages.push({ n: Number(row[1]), scenario: row[2], file });
  }
  if (pages.length === 0) throw new GuideContentsError(`${readme} has no worksheet table with ${lang}/ links`);
  const dir = join(guideDir, lang);
  const extra = readdirSync(dir)
    .filter((f) => f.endsWith('.md') && !listed.has(f) && !(TEACHER_ONLY as readonly string[]).includes(f))
    .sort();
  for (const f of extra) {
    warnings.push(`${lang}/${f} is not in the README table yet: printed after the listed worksheets`);
    pages.push({ scenario: f.replace(/\.md$/, ''), file: join(dir, f) });
  }
  const glossary = join(guideDir, 'glossary.md');
  if (existsSync(glossary)) pages.push({ scenario: 'glossary', file: glossary });
  else warnings.push('no glossary.md: printed without it');
  return { pages, warnings };
}
