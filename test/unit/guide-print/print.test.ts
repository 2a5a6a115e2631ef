/**
 * `npx mail-lab guide print`: the real worksheets of docs/guide rendered as
 * the teacher will print them: every worksheet of the README table, in its
 * order, the glossary last, no answer keys nor class plan; a name line and
 * ruled answer lines after every question; code blocks kept whole; images
 * inside the file. Plus a small guide of its own for images and errors.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { renderGuide } from '../../../scripts/guide/render';
import { GuideRenderError } from '../../../scripts/guide/render';
import { guidePrint } from '../../../scripts/commands/guide';

const guideDir = join(__dirname, '../../../docs/guide');
const readme = readFileSync(join(guideDir, 'README.md'), 'utf8');

/** The README table as a reader sees it: number, scenario, the en and id links. */
const table = readme
  .split('\n')
  .map((l) => /^\|\s*(\d+)\s*\|\s*`([^`]+)`.*\]\((en\/[^)]+)\).*\]\((id\/[^)]+)\)/.exec(l))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ n: Number(m[1]), scenario: m[2]!, en: m[3]!, id: m[4]! }));

/** The sections of the printed HTML, each with its scenario. */
function sections(html: string): Array<{ scenario: string; html: string }> {
  return html
    .split('<section class="page" data-scenario="')
    .slice(1)
    .map((s) => ({ scenario: s.slice(0, s.indexOf('"')), html: s.slice(0, s.indexOf('</section>')) }));
}

/** The questions of a worksheet's Markdown: the top-level numbered items under its questions heading. */
function questions(markdown: string, heading: RegExp): number {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) return 0;
  let n = 0;
  for (const l of lines.slice(start + 1)) {
    if (/^#{1,2} /.test(l)) break;
    if (/^\d+\. /.test(l)) n++;
  }
  return n;
}

const escape = (s: string) => new MarkdownIt().utils.escapeHtml(s);

describe.each([
  { lang: 'en' as const, heading: /^## Questions/, labels: ['Name:', 'Class:', 'Lab number:'] },
  { lang: 'id' as const, heading: /^## Pertanyaan/, labels: ['Nama:', 'Kelas:', 'Nomor lab:'] },
])('the printed worksheets ($lang)', ({ lang, heading, labels }) => {
  const guide = renderGuide(guideDir, lang);
  const printed = sections(guide.html);

  test('every worksheet of the README table, in its order, then the glossary', () => {
    expect(table.length).toBeGreaterThanOrEqual(18);
    const listed = printed.map((s) => s.scenario).filter((s) => table.some((t) => t.scenario === s));
    expect(listed).toEqual(table.map((t) => t.scenario));
    expect(printed[printed.length - 1]!.scenario).toBe('glossary');
    // Each section is the page the table links to: its title is that file's first heading.
    for (const t of table) {
      const title = /^# (.+)$/m.exec(readFileSync(join(guideDir, t[lang]), 'utf8'))![1]!;
      const section = printed.find((s) => s.scenario === t.scenario)!;
      expect(section.html).toContain(`<h1>${escape(title).replace(/`([^`]+)`/g, '<code>$1</code>')}</h1>`);
    }
    // The contents page lists them all.
    expect(guide.html.indexOf('<section class="cover">')).toBeLessThan(guide.html.indexOf('<section class="page"'));
  });

  test('the answer keys and the class plan are not in the students\' print', () => {
    for (const teacherOnly of ['answer-keys.md', 'kunci-jawaban.md', 'class-plan.md', 'rencana-kelas.md']) {
      const title = /^# (.+)$/m.exec(readFileSync(join(guideDir, teacherOnly), 'utf8'))![1]!;
      expect(guide.html).not.toContain(escape(title));
    }
    expect(guide.pages.map((p) => p.file)).not.toContainEqual(expect.stringMatching(/answer-keys|kunci-jawaban|class-plan|rencana-kelas/));
  });

  test('a Name / Class / Lab number line on every worksheet, ruled lines after every question', () => {
    for (const t of table) {
      const section = printed.find((s) => s.scenario === t.scenario)!;
      for (const label of labels) expect(section.html).toContain(label);
      // The name line comes before the title.
      expect(section.html.indexOf('class="name-line"')).toBeLessThan(section.html.indexOf('<h1>'));
      const asked = questions(readFileSync(join(guideDir, t[lang]), 'utf8'), heading);
      expect(asked).toBeGreaterThan(0);
      const blanks = section.html.split('class="answer"').length - 1;
      expect({ scenario: t.scenario, blanks }).toEqual({ scenario: t.scenario, blanks: asked });
      // Each set of lines closes a question: it stands right before the end of a list item,
      // all of them after the questions heading.
      const questionsAt = section.html.search(/<h2>(Questions|Pertanyaan)/);
      expect(questionsAt).toBeGreaterThan(0);
      const answers = [...section.html.matchAll(/<div class="answer"[^>]*>(?:<div class="rule"><\/div>)+<\/div>\n<\/li>/g)];
      expect(answers).toHaveLength(asked);
      for (const a of answers) expect(a.index).toBeGreaterThan(questionsAt);
    }
    // The glossary is a reference: no name line, no answer lines.
    const glossary = printed.find((s) => s.scenario === 'glossary')!;
    expect(glossary.html).not.toContain('class="name-line"');
    expect(glossary.html).not.toContain('class="answer"');
  });

  test('every code block of a worksheet is printed whole, and wraps instead of running off the page', () => {
    for (const t of table) {
      const markdown = readFileSync(join(guideDir, t[lang]), 'utf8');
      const section = printed.find((s) => s.scenario === t.scenario)!;
      const blocks = [...markdown.matchAll(/^( *)```[a-z]*\n([^]*?)^\1```$/gm)].map((m) =>
        m[2]!
          .split('\n')
          .map((l) => l.slice(m[1]!.length))
          .join('\n'),
      );
      expect(section.html.split('<pre>').length - 1).toBe(blocks.length);
      for (const b of blocks) expect(section.html).toContain(escape(b));
    }
    expect(guide.html).toMatch(/pre \{[^}]*white-space: pre-wrap/);
    expect(guide.html).toMatch(/@page \{ size: A4/);
    expect(guide.html).toMatch(/section\.page \{ break-before: page; \}/);
  });

  test('the file stands alone: no link to follow, nothing loaded from elsewhere, images inside it', () => {
    expect(guide.html).not.toMatch(/<(link|script)\b/);
    expect(guide.html).not.toMatch(/href=/);
    for (const m of guide.html.matchAll(/<img src="([^"]*)"/g)) expect(m[1]).toMatch(/^data:image\//);
  });
});

describe('images and errors, on a guide of its own', () => {
  let dir: string;
  // A 1x1 PNG.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
  const worksheet = (image: string) => `# Worksheet: pictures\n\n![the lab](${image})\n\n## Questions\n\n1. What is it?\n2. Why?\n`;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'guide-print-'));
    mkdirSync(join(dir, 'en', 'img'), { recursive: true });
    mkdirSync(join(dir, 'id'), { recursive: true });
    writeFileSync(join(dir, 'README.md'), '| # | scenario |\n| --- | --- |\n| 1 | `pictures` | [Pictures](en/pictures.md) | [Gambar](id/pictures.md) |\n');
    writeFileSync(join(dir, 'en', 'img', 'lab.png'), png);
    writeFileSync(join(dir, 'id', 'pictures.md'), '# Lembar kerja: gambar\n\n## Pertanyaan\n\n1. Apa?\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('an image next to the worksheet is inlined as a data URI', () => {
    writeFileSync(join(dir, 'en', 'pictures.md'), worksheet('img/lab.png'));
    const { html, warnings } = renderGuide(dir, 'en');
    expect(html).toContain(`<img src="data:image/png;base64,${png.toString('base64')}" alt="the lab">`);
    expect(html.split('class="answer"').length - 1).toBe(2);
    expect(warnings).toContain('no glossary.md: printed without it');
  });

  test('a missing image stops the print and names the worksheet and the image', () => {
    writeFileSync(join(dir, 'en', 'pictures.md'), worksheet('img/gone.png'));
    expect(() => renderGuide(dir, 'en')).toThrow(GuideRenderError);
    expect(() => renderGuide(dir, 'en')).toThrow(/pictures\.md: image img\/gone\.png not found/);
  });

  test('a worksheet the table does not list yet is printed after the listed ones, with a warning', () => {
    writeFileSync(join(dir, 'en', 'pictures.md'), worksheet('img/lab.png'));
    writeFileSync(join(dir, 'en', 'zz-new.md'), '# Worksheet: new\n');
    const { pages, warnings } = renderGuide(dir, 'en');
    expect(pages.map((p) => p.scenario)).toEqual(['pictures', 'zz-new']);
    expect(warnings).toContain('en/zz-new.md is not in the README table yet: printed after the listed worksheets');
  });

  test('guide print --lang both writes one HTML file per language and says where; --pdf without Chromium says what to install', async () => {
    writeFileSync(join(dir, 'en', 'pictures.md'), worksheet('img/lab.png'));
    const out = join(dir, 'print');
    const lines: string[] = [];
    const h = { out: (l = '') => void lines.push(l), UsageError: class extends Error {} };
    const files = await guidePrint({ lang: 'both', out, guideDir: dir }, h, () => undefined);
    expect(files).toEqual([join(out, 'mail-lab-worksheets-en.html'), join(out, 'mail-lab-worksheets-id.html')]);
    expect(readFileSync(files[1]!, 'utf8')).toContain('<html lang="id">');
    expect(lines).toEqual([expect.stringContaining('mail-lab-worksheets-en.html  (en: 1 worksheets)'), expect.stringContaining('mail-lab-worksheets-id.html  (id: 1 worksheets)')]);

    const saved = process.env.MAIL_LAB_CHROMIUM;
    process.env.MAIL_LAB_CHROMIUM = join(dir, 'no-such-chromium');
    try {
      await expect(guidePrint({ lang: 'en', out, guideDir: dir, pdf: true }, h, () => undefined)).rejects.toThrow(
        /apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core/,
      );
      await expect(guidePrint({ lang: 'en', out, guideDir: dir, pdf: true }, h, () => undefined)).rejects.toBeInstanceOf(h.UsageError);
    } finally {
      if (saved === undefined) delete process.env.MAIL_LAB_CHROMIUM;
      else process.env.MAIL_LAB_CHROMIUM = saved;
    }
  });
});
