/**
 * `npx mail-lab guide print --pdf`: the real worksheets printed to PDF by
 * Debian's Chromium. A teacher gets one A4 PDF per language with a page
 * count that fits the guide: at least the contents page and one page per
 * worksheet (each starts on a new page), and not more than a few pages each.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guidePrint } from '../../scripts/commands/guide';
import { countPdfPages } from '../../scripts/guide/pdf';
import { renderGuide } from '../../scripts/guide/render';
import { requireBrowser, root } from './harness';

jest.setTimeout(120_000);

const out = mkdtempSync(join(tmpdir(), 'guide-print-pdf-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('a Chromium to print with is installed', () => {
  expect(requireBrowser()).toBeTruthy();
});

test('guide print --pdf makes an A4 PDF per language with a plausible number of pages', async () => {
  const lines: string[] = [];
  const progress: string[] = [];
  const files = await guidePrint({ lang: 'both', out, pdf: true }, { out: (l = '') => void lines.push(l), UsageError: Error }, (l) => void progress.push(l));
  const pdfs = files.filter((f) => f.endsWith('.pdf'));
  expect(pdfs).toEqual([join(out, 'mail-lab-worksheets-en.pdf'), join(out, 'mail-lab-worksheets-id.pdf')]);
  for (const [i, pdf] of pdfs.entries()) {
    const bytes = readFileSync(pdf);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    // Every page A4: 210 x 297 mm, 595 x 842 points (Chromium writes 594.96 x 841.92).
    const boxes = [...bytes.toString('latin1').matchAll(/\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/g)].map((m) => [Math.round(Number(m[1])), Math.round(Number(m[2]))]);
    expect(boxes.length).toBe(countPdfPages(bytes));
    for (const box of boxes) expect(box).toEqual([595, 842]);
    const printed = renderGuide(join(root, 'docs/guide'), i === 0 ? 'en' : 'id').pages.length;
    const pages = countPdfPages(bytes);
    expect(pages).toBeGreaterThanOrEqual(printed + 1);
    expect(pages).toBeLessThanOrEqual(printed * 6);
    expect(lines).toContain(`${pdf}  (${pages} A4 pages)`);
  }
  // The slow part says what it does.
  expect(progress[0]).toMatch(/^guide print: starting Chromium/);
  expect(progress.filter((l) => / pages \(\d+\.\d s\)$/.test(l))).toHaveLength(2);
});
