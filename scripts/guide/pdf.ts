/**
 * The printed worksheets' HTML (render.ts) to PDF, with Debian's Chromium
 * headless shell driven by playwright-core (which downloads no browser):
 * A4 from the page's own @page CSS, backgrounds printed, a page number at
 * the foot of every page. Without a Chromium it fails with the line that
 * installs one; MAIL_LAB_CHROMIUM names another browser binary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where Debian puts Chromium (the headless shell first; /usr/bin/chromium-headless-shell is a wrapper script). */
export const CHROMIUM_CANDIDATES = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium-headless-shell', '/usr/lib/chromium/chromium', '/usr/bin/chromium'];
export const CHROMIUM_INSTALL = 'apt-get install -y --no-install-recommends chromium-headless-shell fonts-dejavu-core';

export class ChromiumMissingError extends Error {
  override name = 'ChromiumMissingError';
}

/** The Chromium binary to print with: MAIL_LAB_CHROMIUM if set, else the first Debian path that exists; throws with the install line. */
export function findChromium(env: NodeJS.ProcessEnv = process.env, candidates = CHROMIUM_CANDIDATES): string {
  const wanted = env.MAIL_LAB_CHROMIUM;
  const found = wanted ? (existsSync(wanted) ? wanted : undefined) : candidates.find((p) => existsSync(p));
  if (!found) {
    throw new ChromiumMissingError(
      `--pdf needs Chromium, and none was found (looked at ${wanted ?? candidates.join(', ')}). Install it with: ${CHROMIUM_INSTALL} (or set MAIL_LAB_CHROMIUM to a Chromium binary). The HTML files were written: print them from any browser.`,
    );
  }
  return found;
}

/** Pages of a PDF as Chromium writes it (one `/Type /Page` object each, not compressed). */
export function countPdfPages(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
}

/** playwright-core, loaded only for --pdf: it is a dev dependency, which the rest of the CLI does without. */
function loadPlaywright(): typeof import('playwright-core') {
  try {
    return require('playwright-core') as typeof import('playwright-core');
  } catch {
    throw new ChromiumMissingError('--pdf drives Chromium with playwright-core, which is not installed: run `npm ci` (with the dev dependencies) in the mail-lab folder');
  }
}

export interface PdfJob {
  html: string;
  pdf: string;
}

/** Prints each HTML file to its PDF in one browser; progress lines go to `progress` (stderr in the CLI). Returns page counts. */
export async function printPdfs(jobs: PdfJob[], progress: (line: string) => void = () => undefined): Promise<number[]> {
  const executablePath = findChromium();
  const { chromium } = loadPlaywright();
  progress(`guide print: starting Chromium (${executablePath})`);
  const profile = await mkdtemp(join(tmpdir(), 'mail-lab-guide-pdf-'));
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    env: { ...process.env, HOME: profile },
  });
  const pages: number[] = [];
  try {
    for (const job of jobs) {
      const started = Date.now();
      progress(`guide print: ${job.html} -> ${job.pdf} ...`);
      const page = await browser.newPage();
      // The HTML is self-contained: nothing but the file itself is loaded.
      await page.route(/^(?!file:|data:)/, (route) => route.abort());
      await page.goto(pathToFileURL(resolve(job.html)).href, { waitUntil: 'load' });
      await page.pdf({
        path: job.pdf,
        preferCSSPageSize: true,
        printBackground: true,
        displayHeaderFooter: true,
        headerTemplate: '<span></span>',
        footerTemplate: '<div style="font-size:8px;width:100%;text-align:center;font-family:sans-serif"><span class="pageNumber"></span> / <span class="totalPages"></span></div>',
      });
      await page.close();
      const n = countPdfPages(readFileSync(job.pdf));
      pages.push(n);
      progress(`guide print: ${job.pdf}: ${n} pages (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await browser.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
  }
  return pages;
}
