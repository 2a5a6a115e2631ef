/**
 * How `npx mail-lab check` and `class report` print what the check found
 * (services/core/src/check/): one student's tasks with their evidence as
 * text, and the class as a table: text for the terminal or the projector,
 * CSV for a spreadsheet, and a self-contained printable HTML page (a grid,
 * then every student's evidence). Every name and evidence line is escaped
 * in HTML and quoted in CSV. In English or Indonesian (`lang`, the CLI's
 * `--lang`; the frame's words are in scripts/i18n/check-text.ts, the
 * evidence comes from the rules in both languages: `evidenceId`,
 * `missingId`).
 */
import { TASKS, type TaskResult, type TaskState } from '../../services/core/src/check/tasks';
import type { StudentReport } from '../../services/core/src/check/evaluate';
import { clock } from '../../services/core/src/check/words';
import { CHECK_TEXT } from '../i18n/check-text';
import type { Lang } from '../i18n/lang';

/** One row of the class table: the student's label and their results. */
export interface ReportRow {
  /** `lab 03 (Budi)`, `siswa07`. */
  label: string;
  lab: number;
  /** The roster name or the account, when there is one. */
  name?: string;
  report?: StudentReport;
  /** The lab could not be read (not running): said instead of results. */
  error?: string;
}

const MARK: Record<TaskState, string> = { done: '+', partly: '~', 'not-yet': '.' };

const count = (results: TaskResult[], state: TaskState) => results.filter((r) => r.state === state).length;

/** `5 of 17 tasks done, 3 partly`. */
export const tally = (results: TaskResult[], lang: Lang = 'en') => CHECK_TEXT[lang].tally(count(results, 'done'), results.length, count(results, 'partly'));

/** A task's evidence in `lang` (English when the result has no Indonesian). */
export const evidenceOf = (r: TaskResult, lang: Lang = 'en') => (lang === 'id' && r.evidenceId ? r.evidenceId : r.evidence);
/** What a task is missing in `lang` (English when the result has no Indonesian). */
export const missingOf = (r: TaskResult, lang: Lang = 'en') => (lang === 'id' && r.missingId ? r.missingId : r.missing);

/** One task as text: `smtp-by-hand: done — HELO pc-siswa, …`, further evidence, what is missing, the self-checks. */
export function taskLines(r: TaskResult, lang: Lang = 'en'): string[] {
  const w = CHECK_TEXT[lang];
  const evidence = evidenceOf(r, lang);
  const out = [`${r.task}: ${w.state[r.state]}${evidence[0] ? ` — ${evidence[0]}` : ''}`];
  for (const e of evidence.slice(1)) out.push(`  ${e}`);
  for (const m of missingOf(r, lang)) out.push(`  ${w.missing}: ${m}`);
  for (const c of r.selfChecks ?? []) out.push(`  ${w.selfCheck(r.task, clock(c.time), c.passed)}`);
  return out;
}

/** One student's check as text. */
export function studentText(title: string, report: StudentReport, lang: Lang = 'en'): string[] {
  const out = [`${title}: ${tally(report.results, lang)}`];
  for (const p of report.problems) out.push(`  ${CHECK_TEXT[lang].couldNotRead(p)}`);
  for (const r of report.results) out.push(...taskLines(r, lang).map((l) => `  ${l}`));
  return out;
}

/** The class as a text table: + done, ~ partly, . not yet; task numbers as in the guide. */
export function tableText(rows: ReportRow[], tasks = TASKS.map((t) => t.id), lang: Lang = 'en'): string[] {
  const w = CHECK_TEXT[lang];
  const numbers = tasks.map((id) => String(TASKS.find((t) => t.id === id)?.n ?? '?'));
  const width = Math.max(10, ...rows.map((r) => r.label.length));
  const cell = (s: string, i: number) => s.padStart(numbers[i].length);
  const out = [`${''.padEnd(width)}  ${numbers.join(' ')}  ${w.done}`];
  for (const row of rows) {
    if (!row.report) {
      out.push(`${row.label.padEnd(width)}  ${row.error ?? w.noRecords}`);
      continue;
    }
    const marks = row.report.results.map((r, i) => cell(MARK[r.state], i));
    out.push(`${row.label.padEnd(width)}  ${marks.join(' ')}  ${String(count(row.report.results, 'done')).padStart(w.done.length)}`);
  }
  out.push('', w.legend, ...tasks.map((id, i) => `  ${numbers[i].padStart(2)} ${id}`));
  return out;
}

/** A CSV field: quoted when needed (RFC 4180); a leading = + - @ gets a ' so a spreadsheet shows it as text. */
function csvField(text: string): string {
  const s = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The class as CSV: one row per student, a column per task (done / partly / not yet), the count of done. */
export function tableCsv(rows: ReportRow[], tasks = TASKS.map((t) => t.id), lang: Lang = 'en'): string {
  const w = CHECK_TEXT[lang];
  const lines = [w.csvHeader(tasks).map(csvField).join(',')];
  for (const row of rows) {
    const results = row.report?.results ?? [];
    lines.push(
      [String(row.lab), row.name ?? row.label, ...tasks.map((id) => (row.report ? w.state[results.find((r) => r.task === id)?.state ?? 'not-yet'] : '')), row.report ? String(count(results, 'done')) : '', row.report ? String(count(results, 'partly')) : '', row.error ?? '']
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const CSS = `
body { font: 13px/1.4 system-ui, "DejaVu Sans", sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.2em 0 .3em; }
.meta { color: #555; margin-bottom: 1em; }
table.grid { border-collapse: collapse; }
table.grid th, table.grid td { border: 1px solid #bbb; padding: 2px 5px; text-align: center; }
table.grid th.name, table.grid td.name { text-align: left; white-space: nowrap; }
table.grid thead th { background: #eee; font-weight: 600; }
td.done { background: #b9e4b9; } td.partly { background: #fbe7a1; } td.not-yet { background: #fff; color: #999; }
td.error { text-align: left; color: #a00; }
.legend span { display: inline-block; padding: 0 .6em; margin-right: .5em; border: 1px solid #bbb; }
ol.tasks { columns: 2; font-size: .9em; }
section.student { page-break-inside: avoid; border-top: 1px solid #ccc; }
section.student li { margin: .15em 0; } .state { font-weight: 600; } .missing { color: #8a5a00; } .selfcheck { color: #555; }
@media print { body { margin: 0; } section.student { page-break-inside: avoid; } .grid { page-break-after: always; } }
`;

/** The class as one HTML page (no script, nothing loaded from elsewhere): the grid, then each student's evidence. */
export function tableHtml(rows: ReportRow[], title: string, generated: Date, tasks = TASKS.map((t) => t.id), lang: Lang = 'en'): string {
  const w = CHECK_TEXT[lang];
  const info = tasks.map((id) => TASKS.find((t) => t.id === id)!);
  const head = info.map((t) => `<th title="${esc(t.id)}: ${esc(w.title(t.title))}">${t.n}</th>`).join('');
  const body = rows
    .map((row) => {
      if (!row.report) return `<tr><td class="name">${esc(row.label)}</td><td class="error" colspan="${tasks.length + 1}">${esc(row.error ?? w.noRecords)}</td></tr>`;
      const cells = row.report.results.map((r) => `<td class="${r.state}" title="${esc(`${r.task}: ${w.state[r.state]}${evidenceOf(r, lang)[0] ? ` — ${evidenceOf(r, lang)[0]}` : ''}`)}">${MARK[r.state] === '.' ? '·' : MARK[r.state] === '+' ? '✓' : '~'}</td>`);
      return `<tr><td class="name">${esc(row.label)}</td>${cells.join('')}<td>${count(row.report.results, 'done')}</td></tr>`;
    })
    .join('\n');
  const sections = rows
    .filter((row) => row.report)
    .map((row) => {
      const items = row.report!.results.map((r) => {
        const t = TASKS.find((x) => x.id === r.task)!;
        const evidence = evidenceOf(r, lang);
        const sub = [
          ...evidence.slice(1).map((e) => `<li>${esc(e)}</li>`),
          ...missingOf(r, lang).map((m) => `<li class="missing">${w.missing}: ${esc(m)}</li>`),
          ...(r.selfChecks ?? []).map((c) => `<li class="selfcheck">${esc(w.selfCheckShort(clock(c.time), c.passed))}</li>`),
        ];
        return `<li><span class="state">${t.n}. ${esc(r.task)}: ${w.state[r.state]}</span>${evidence[0] ? ` — ${esc(evidence[0])}` : ''}${sub.length ? `<ul>${sub.join('')}</ul>` : ''}</li>`;
      });
      return `<section class="student"><h2>${esc(row.label)} — ${esc(tally(row.report!.results, lang))}</h2><ul>${items.join('\n')}</ul></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="${w.html}"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<div class="meta">${esc(w.made(generated.toISOString().slice(0, 10), clock(generated.getTime()), rows.length, tasks.length))}</div>
<p class="legend"><span style="background:#b9e4b9">✓ ${w.state.done}</span><span style="background:#fbe7a1">~ ${w.state.partly}</span><span>· ${w.state['not-yet']}</span></p>
<table class="grid"><thead><tr><th class="name">${w.student}</th>${head}<th>${w.done}</th></tr></thead><tbody>
${body}
</tbody></table>
<ol class="tasks">${info.map((t) => `<li value="${t.n}">${esc(t.id)}: ${esc(w.title(t.title))}</li>`).join('')}</ol>
${sections}
</body></html>
`;
}
