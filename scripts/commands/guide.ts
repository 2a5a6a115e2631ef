/**
 * `npx mail-lab guide print [--out DIR] [--pdf]` (with the program's `--lang en|id`: that
 * language only; without it both): the
 * students' worksheets (docs/guide, in the order of its README table, the
 * glossary last; never the answer keys nor the class plan) as one
 * print-ready HTML file per language, with blanks for the name and for the
 * answers (scripts/guide/render.ts); `--pdf` also prints each to PDF with
 * Chromium (scripts/guide/pdf.ts). The files written go to standard output,
 * progress and warnings to standard error. Needs no lab.
 */
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CommandHelpers } from './helpers';
import { GUIDE_LANGS, GuideContentsError, type GuideLang } from '../guide/contents';
import { GuideRenderError, printFileName, writeGuide } from '../guide/render';
import { ChromiumMissingError, printPdfs } from '../guide/pdf';
import { repoRoot } from '../lab-docker';

export type GuideCommandHelpers = Pick<CommandHelpers, 'out' | 'UsageError'> & {
  /** The program's own `--lang` when it was given (en or id), else undefined: then both languages are printed. */
  givenLang?: () => string | undefined;
};

export interface GuidePrintOptions {
  lang: 'en' | 'id' | 'both';
  out: string;
  pdf?: boolean;
  /** The guide folder. @default docs/guide of the repository */
  guideDir?: string;
}

/** Default output folder (git-ignored `build/`). */
export const DEFAULT_GUIDE_OUT = join('build', 'guide');

/** What `guide print` does, callable without commander (tests). Returns the files written. */
export async function guidePrint(opts: GuidePrintOptions, h: GuideCommandHelpers, progress: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<string[]> {
  const langs: readonly GuideLang[] = opts.lang === 'both' ? GUIDE_LANGS : [opts.lang];
  const guideDir = opts.guideDir ?? join(repoRoot(), 'docs', 'guide');
  const outDir = resolve(opts.out);
  let written;
  try {
    written = writeGuide(guideDir, langs, outDir);
  } catch (e) {
    if (e instanceof GuideContentsError || e instanceof GuideRenderError) throw new h.UsageError(e.message);
    throw e;
  }
  const files: string[] = [];
  for (const { file, guide } of written) {
    for (const w of guide.warnings) progress(`guide print (${guide.lang}): warning: ${w}`);
    files.push(file);
    const worksheets = guide.pages.filter((p) => p.scenario !== 'glossary').length;
    h.out(`${shown(file)}  (${guide.lang}: ${worksheets} worksheets${worksheets < guide.pages.length ? ' and the glossary' : ''})`);
  }
  if (opts.pdf) {
    const jobs = written.map(({ file, guide }) => ({ html: file, pdf: join(outDir, printFileName(guide.lang, 'pdf')) }));
    let pages: number[];
    try {
      pages = await printPdfs(jobs, progress);
    } catch (e) {
      if (e instanceof ChromiumMissingError) throw new h.UsageError(e.message);
      throw e;
    }
    jobs.forEach((j, i) => {
      files.push(j.pdf);
      h.out(`${shown(j.pdf)}  (${pages[i]} A4 pages)`);
    });
  }
  return files;
}

const shown = (file: string) => {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
};

export function registerGuideCommands(program: Command, h: GuideCommandHelpers): void {
  const guide = program.command('guide').description('the lab guide (docs/guide) for the classroom');
  guide
    .command('print')
    .description('the students\' worksheets as print-ready HTML (A4, one worksheet per page, blanks for name, class, lab number and answers; no answer keys), one file per language; --pdf also makes PDFs with Chromium')
    .option('--out <dir>', 'output folder', DEFAULT_GUIDE_OUT)
    .option('--pdf', `also print each HTML file to PDF (needs Chromium: apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core)`)
    // The language is the program's --lang (one language); without it both are printed.
    .action(async (opts: Omit<GuidePrintOptions, 'lang'>) => {
      const given = h.givenLang?.();
      await guidePrint({ ...opts, lang: given === 'en' || given === 'id' ? given : 'both' }, h);
    });
}
