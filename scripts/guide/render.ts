/**
 * The students' worksheets as one print-ready HTML file per language
 * (`npx mail-lab guide print`): the pages of contents.ts in order, each
 * Markdown file rendered by markdown-it with the blanks of blanks.ts, a
 * contents page first, every worksheet on a new page, A4 CSS for print,
 * code blocks that wrap instead of running off the page, images read from
 * disk into data URIs (the file needs nothing beside it), links printed as
 * plain text. pdf.ts prints the file to PDF.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import MarkdownIt from 'markdown-it';
import { worksheetBlanks } from './blanks';
import { guideContents, type GuideLang, type GuidePage } from './contents';

export class GuideRenderError extends Error {
  override name = 'GuideRenderError';
}

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
};

const TEXT: Record<GuideLang, { title: string; contents: string; lang: string }> = {
  en: { title: 'mail-lab worksheets: Konfigurasi Server e-Mail', contents: 'Contents', lang: 'en' },
  id: { title: 'Lembar kerja mail-lab: Konfigurasi Server e-Mail', contents: 'Daftar isi', lang: 'id' },
};

/** The print's CSS: A4, a worksheet per page, code that wraps, blanks with room to write. */
export const PRINT_CSS = `
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
:root { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10.5pt; line-height: 1.4; color: #000; }
body { margin: 0; }
.cover h1 { font-size: 20pt; margin-top: 30mm; }
.cover ol { font-size: 11pt; line-height: 1.8; }
section.page { break-before: page; }
h1 { font-size: 15pt; margin: 0.4em 0 0.3em; }
h2 { font-size: 12pt; margin: 1em 0 0.3em; break-after: avoid; border-bottom: 0.5pt solid #999; }
h3 { font-size: 11pt; break-after: avoid; }
p, li { orphans: 3; widows: 3; }
a { color: inherit; text-decoration: none; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.86em; background: #f2f2f2; padding: 0 0.15em; overflow-wrap: anywhere; }
pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8.3pt; line-height: 1.3; background: #f6f6f6;
      border: 0.5pt solid #bbb; padding: 2mm 3mm; white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
      tab-size: 8; break-inside: avoid; overflow: visible; }
pre code { background: none; padding: 0; font-size: inherit; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th, td { border: 0.5pt solid #999; padding: 1mm 1.5mm; vertical-align: top; overflow-wrap: anywhere; }
tr { break-inside: avoid; }
img { max-width: 100%; break-inside: avoid; }
.name-line { display: flex; gap: 6mm; font-size: 10pt; margin-bottom: 4mm; padding-bottom: 1mm; border-bottom: 1pt solid #000; }
.name-line .field { display: flex; align-items: flex-end; white-space: nowrap; }
.name-line .name { flex: 3; } .name-line .class { flex: 1.2; } .name-line .lab { flex: 1; }
.name-line .blank { flex: 1; border-bottom: 0.6pt dotted #000; margin-left: 1.5mm; min-width: 12mm; height: 1.2em; }
.answer { margin: 1mm 0 3mm; break-inside: avoid; }
.answer .rule { height: 8mm; border-bottom: 0.6pt solid #777; }
@media screen { body { max-width: 190mm; margin: 0 auto; padding: 10mm; } section.page { border-top: 2px dashed #ccc; margin-top: 10mm; } }
`;

export interface RenderedGuide {
  lang: GuideLang;
  html: string;
  /** The printed pages in order, with the title each has in the print. */
  pages: Array<GuidePage & { title: string }>;
  warnings: string[];
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A markdown-it for one language's worksheets: blanks, images inlined from the page's folder, links as text. */
function markdown(lang: GuideLang, nameLine: boolean): MarkdownIt.MarkdownIt {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  md.use(worksheetBlanks, { lang, nameLine });
  md.renderer.rules.image = (tokens, idx, _options, env) => {
    const t = tokens[idx]!;
    const src = String(t.attrGet('src') ?? '');
    const dir = typeof env?.dir === 'string' ? env.dir : '.';
    const file = typeof env?.file === 'string' ? env.file : '(markdown)';
    const alt = escapeHtml(t.content);
    if (/^(data:|https?:)/i.test(src)) return `<img src="${escapeHtml(src)}" alt="${alt}">`;
    const path = resolve(dir, decodeURIComponent(src.replace(/[?#].*$/, '')));
    const type = IMAGE_TYPES[extname(path).toLowerCase()];
    if (!existsSync(path)) throw new GuideRenderError(`${file}: image ${src} not found (looked at ${path})`);
    if (!type) throw new GuideRenderError(`${file}: image ${src}: not an image type a browser prints (${Object.keys(IMAGE_TYPES).join(' ')})`);
    return `<img src="data:${type};base64,${readFileSync(path).toString('base64')}" alt="${alt}">`;
  };
  // A printed link cannot be followed: its text stays, the address goes.
  md.renderer.rules.link_open = () => '<a>';
  return md;
}

/** The title of a Markdown page: its first `# ` heading, else its file name. */
function titleOf(source: string, fallback: string): string {
  const m = /^#\s+(.+)$/m.exec(source);
  return m ? m[1]!.replace(/[*_`]/g, '').trim() : fallback;
}

/** One language's worksheets from guideDir (docs/guide) as one self-contained HTML document. */
export function renderGuide(guideDir: string, lang: GuideLang): RenderedGuide {
  const { pages, warnings } = guideContents(guideDir, lang);
  const text = TEXT[lang];
  const worksheetMd = markdown(lang, true);
  // The glossary is a reference, not a worksheet: no name line to fill in.
  const glossaryMd = markdown(lang, false);
  const titled: RenderedGuide['pages'] = [];
  const sections: string[] = [];
  for (const p of pages) {
    const source = readFileSync(p.file, 'utf8');
    const title = titleOf(source, p.scenario);
    titled.push({ ...p, title });
    const md = p.scenario === 'glossary' ? glossaryMd : worksheetMd;
    const body = md.render(source, { dir: dirname(p.file), file: p.file });
    sections.push(`<section class="page" data-scenario="${escapeHtml(p.scenario)}">\n${body}</section>`);
  }
  const contents = titled.map((p) => `<li>${escapeHtml(p.title)}</li>`).join('\n');
  const html = `<!doctype html>
<html lang="${text.lang}">
<head>
<meta charset="utf-8">
<title>${escapeHtml(text.title)}</title>
<style>${PRINT_CSS}</style>
</head>
<body>
<section class="cover">
<h1>${escapeHtml(text.title)}</h1>
<h2>${escapeHtml(text.contents)}</h2>
<ol>
${contents}
</ol>
</section>
${sections.join('\n')}
</body>
</html>
`;
  return { lang, html, pages: titled, warnings };
}

/** The file name of one language's print in the output folder. */
export const printFileName = (lang: GuideLang, ext: 'html' | 'pdf') => `mail-lab-worksheets-${lang}.${ext}`;

/** Renders and writes each language's HTML into outDir; returns the files written, with their renders. */
export function writeGuide(guideDir: string, langs: readonly GuideLang[], outDir: string): Array<{ file: string; guide: RenderedGuide }> {
  mkdirSync(outDir, { recursive: true });
  return langs.map((lang) => {
    const guide = renderGuide(guideDir, lang);
    const file = join(outDir, printFileName(lang, 'html'));
    writeFileSync(file, guide.html);
    return { file, guide };
  });
}
