/**
 * `npx mail-lab check` and `npx mail-lab class report`: which of the
 * lesson's tasks a student has done, from the lab servers' own records
 * (never from the student's machine); the rules are in
 * services/core/src/check/, the records in each server's trace journal and
 * the lab DNS's query log (docs/architecture.md, "npx mail-lab check").
 *
 *   check [account] [--lab N]   one student: an account of a shared lab (siswa07, or
 *                               siswa07@dadali.com), or with no account the whole lab
 *                               (a lab per student: the lab is the student)
 *   check --all [--lab N]       every student account of the lab, as a table
 *   class report                every lab of the class (class up), as a table
 *
 * Options: --since (3h, 08:00, 2026-11-26), --task a,b, --json, --csv FILE,
 * --html FILE. An unknown account, task or lab is a usage error (exit 2)
 * that names what exists. `class report` is added to the `class` command
 * made by commands/class.ts. Its words, in English or Indonesian (`--lang`),
 * are in scripts/i18n/check-text.ts; the evidence and missing lines come
 * from the rules in both languages. `--json` keeps `evidence` and `missing`
 * in English whatever the language and carries the Indonesian alongside
 * (`evidenceId`, `missingId`, line for line).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AdminUnreachableError } from '../../services/core/src/admin/client';
import type { StudentReport } from '../../services/core/src/check/evaluate';
import { accountStudent, sharedLabStudents, UnknownAccountError, type Student } from '../../services/core/src/check/student';
import { TASKS } from '../../services/core/src/check/tasks';
import { LabNotRunningError } from '../admin-token';
import { existingLabs, inPool } from '../class/labs';
import { loadRoster, studentOf } from '../class/roster';
import { LabSelectionError, selectLab, type LabChoice } from '../lab-select';
import { labTarget, type LabTarget } from '../lab-target';
import { checkLab, parseSince, SinceError, type CheckOptions } from '../check/run';
import { studentText, tableCsv, tableHtml, tableText, type ReportRow } from '../check/format';
import type { CommandHelpers } from './helpers';
import { CHECK_TEXT } from '../i18n/check-text';
import { translateErrorText } from '../i18n/errors';

export interface CheckCommandHelpers extends CommandHelpers {
  /** `--lab` and `--config` as given. */
  choice: () => LabChoice;
}

interface OutputOptions {
  since?: string;
  task?: string;
  json?: boolean;
  csv?: string;
  html?: string;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

export function registerCheckCommands(program: Command, h: CheckCommandHelpers): void {
  /** The words of this run's language. */
  const words = () => CHECK_TEXT[h.lang()];
  /** An English message of another module, in this run's language where it is known (thrown errors: the CLI's last catch does it). */
  const say = (text: string) => translateErrorText(text, h.lang());
  /** --since and --task, checked; a mistake is a usage error. */
  const checkOptions = (o: OutputOptions): CheckOptions => {
    const out: CheckOptions = {};
    try {
      if (o.since) out.since = parseSince(o.since);
    } catch (e) {
      throw e instanceof SinceError ? new h.UsageError(h.lang() === 'en' ? e.message : words().badSince(o.since ?? '')) : e;
    }
    if (o.task) {
      const ids = o.task.split(',').map((t) => t.trim()).filter(Boolean);
      const unknown = ids.filter((id) => !TASKS.some((t) => t.id === id));
      if (unknown.length) throw new h.UsageError(words().unknownTask(unknown.map((u) => `"${u}"`).join(', '), TASKS.map((t) => t.id).join(', ')));
      out.tasks = ids;
    }
    return out;
  };

  /** The lab did not answer: say which labs this host has (exit 2). */
  const notRunning = async (lab: number, e: unknown): Promise<Error> => {
    if (!(e instanceof AdminUnreachableError || e instanceof LabNotRunningError)) return e as Error;
    const labs = await existingLabs().catch(() => [] as number[]);
    return new h.UsageError(words().notAnswering(lab, (e as Error).message.split('\n')[0], labs));
  };

  const writeTables = (rows: ReportRow[], o: OutputOptions, title: string, tasks?: string[]) => {
    // With --json the standard output is the JSON alone.
    const tell = o.json ? (l: string) => process.stderr.write(l + '\n') : h.out;
    if (o.csv) {
      writeFileSync(o.csv, tableCsv(rows, tasks, h.lang()));
      tell(words().wroteCsv(o.csv, rows.length));
    }
    if (o.html) {
      writeFileSync(o.html, tableHtml(rows, title, new Date(), tasks, h.lang()));
      tell(words().wroteHtml(o.html));
    }
  };

  const json = (reports: StudentReport[]) =>
    JSON.stringify(
      reports.map((r) => ({ lab: r.student.lab, student: r.student.label, ...(r.student.kind === 'account' ? { addresses: r.student.addresses } : {}), problems: r.problems, tasks: r.results })),
      null,
      2,
    );

  const withOutput = (c: Command) =>
    c
      .option('--since <when>', 'only records from then on: a duration back (3h), a time today (08:00) or a date (2026-11-26)')
      .option('--task <ids>', `only these tasks (comma-separated worksheet names: ${TASKS.map((t) => t.id).join(', ')})`)
      .option('--json', 'machine-readable: every task with its state, evidence and what is missing (English; evidenceId and missingId: Indonesian)')
      .option('--csv <file>', 'also write the table as CSV (a column per task)')
      .option('--html <file>', 'also write a self-contained printable HTML page (the table, then every student’s evidence)');

  withOutput(
    program
      .command('check')
      .argument('[account]', 'a student account of a shared lab: siswa07 (every domain) or siswa07@dadali.com; without it, the whole lab (a lab per student)')
      .option('--all', 'every student account of the lab (the generated students: accounts, else the named ones), as a table'),
  )
    .description("which of the lesson's tasks a student has done, each with its evidence from the lab servers' own records")
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .action(async (account: string | undefined, o: OutputOptions & { all?: boolean }) => {
      const w = words();
      if (account && o.all) throw new h.UsageError(w.accountOrAll);
      const opts = checkOptions(o);
      const t: LabTarget = h.target();
      const roster = loadRoster();
      let students: Student[];
      try {
        students = o.all ? sharedLabStudents(t.config, t.lab) : account ? [accountStudent(t.config, t.lab, account)] : [{ kind: 'lab', lab: t.lab, label: `lab ${t.lab}${studentOf(roster, t.lab) ? ` (${studentOf(roster, t.lab)})` : ''}` }];
      } catch (e) {
        throw e instanceof UnknownAccountError ? new h.UsageError(e.message) : e;
      }
      let reports: StudentReport[];
      try {
        reports = await checkLab(t, students, opts);
      } catch (e) {
        throw await notRunning(t.lab, e);
      }
      if (o.json) h.out(json(reports));
      else if (o.all) {
        h.out(w.labTable(t.lab, reports.length, reports[0]?.results.length ?? 0));
        for (const l of tableText(reports.map((r) => ({ label: r.student.label, lab: t.lab, report: r })), opts.tasks, h.lang())) h.out(l);
        h.out(w.detailsAccount(t.lab));
      } else for (const l of studentText(reports[0].student.kind === 'lab' ? reports[0].student.label : w.inLab(reports[0].student.label, t.lab), reports[0], h.lang())) h.out(l);
      writeTables(
        reports.map((r) => ({ label: r.student.label, lab: t.lab, name: r.student.label, report: r })),
        o,
        w.labTitle(t.lab),
        opts.tasks,
      );
    });

  const cls = program.commands.find((c) => c.name() === 'class');
  if (!cls) throw new Error('registerCheckCommands: register the class commands first');
  withOutput(cls.command('report'))
    .option('--parallel <n>', 'labs read at once', '6')
    .description("every lab of the class × the lesson's tasks, from each lab's own records: a table (text, --csv, --html)")
    .action(async (o: OutputOptions & { parallel: string }) => {
      const w = words();
      const opts = checkOptions(o);
      const roster = loadRoster();
      const labs = [...new Set([...(await existingLabs()), ...roster.map((r) => r.lab)])].sort((a, b) => a - b);
      if (!labs.length) throw new h.UsageError(w.noLabs);
      const rows = await inPool(labs, Math.max(1, Number(o.parallel) || 6), async (n): Promise<ReportRow> => {
        const name = studentOf(roster, n);
        const label = `lab ${pad2(n)}${name ? ` (${name})` : ''}`;
        try {
          const sel = selectLab({ ...h.choice(), lab: String(n) }, () => undefined);
          const [report] = await checkLab(labTarget(sel.config, undefined, { lab: n }), [{ kind: 'lab', lab: n, label }], opts);
          return { label, lab: n, name, report };
        } catch (e) {
          if (e instanceof LabSelectionError) throw new h.UsageError(e.message);
          return { label, lab: n, name, error: w.notAnsweringRow(say((e as Error).message.split('\n')[0])) };
        }
      });
      if (o.json) h.out(json(rows.flatMap((r) => (r.report ? [r.report] : []))));
      else {
        h.out(w.classTable(labs.length, opts.tasks?.length ?? TASKS.length));
        for (const l of tableText(rows, opts.tasks, h.lang())) h.out(l);
        h.out(w.detailsLab);
      }
      writeTables(rows, o, w.classTitle, opts.tasks);
      if (rows.some((r) => r.error)) process.exitCode = 1;
    });
}
