/**
 * The words of `npx mail-lab check` and `class report` (scripts/check/format.ts,
 * scripts/commands/check.ts) in English and Indonesian: task states, the
 * tally, the class table's headers and legend (text, CSV, HTML), the
 * commands' own lines and usage errors. The task titles are the check's own
 * (services/core/src/check/tasks.ts); the English text is the one the CLI
 * has always printed.
 */
import type { TaskState } from '../../services/core/src/check/tasks';
import type { Lang } from './lang';

const en = {
  html: 'en',
  state: { done: 'done', partly: 'partly', 'not-yet': 'not yet' } as Record<TaskState, string>,
  tally: (done: number, all: number, partly: number) => `${done} of ${all} tasks done, ${partly} partly`,
  missing: 'missing',
  selfCheck: (task: string, time: string, passed: boolean | undefined) =>
    `self-check \`npx mail-lab scenario ${task}\` ran at ${time}${passed === undefined ? '' : passed ? ' and passed' : ' and failed'} (its own sessions are not counted)`,
  selfCheckShort: (time: string, passed: boolean | undefined) => `self-check ran at ${time}${passed === undefined ? '' : passed ? ' and passed' : ' and failed'} (not counted)`,
  couldNotRead: (what: string) => `(could not read ${what})`,
  done: 'done',
  noRecords: 'no records',
  legend: '+ done, ~ partly, . not yet; tasks:',
  csvHeader: (tasks: string[]) => ['lab', 'student', ...tasks, 'done', 'partly', 'note'],
  student: 'student',
  made: (day: string, time: string, students: number, tasks: number) => `made ${day} ${time} from the lab servers' own records (npx mail-lab check); ${students} student(s), ${tasks} task(s)`,
  /** A task's title in the HTML: both languages. */
  title: (t: { en: string; id: string }) => `${t.en} / ${t.id}`,
  // commands/check.ts
  unknownTask: (unknown: string, all: string) => `unknown task ${unknown}; the tasks are the worksheets: ${all}`,
  badSince: (text: string) => `--since takes a duration back from now (3h, 90m), a time today (08:00) or a date (2026-11-26), not "${text}"`,
  notAnswering: (lab: number, why: string, labs: number[]) =>
    `lab ${lab} does not answer, so there are no records to check (${why}); ${labs.length ? `numbered labs on this host: ${labs.join(', ')}` : 'no numbered lab runs on this host'} (\`npx mail-lab class status\`, \`npx mail-lab status --lab N\`)`,
  wroteCsv: (file: string, rows: number) => `wrote ${file} (CSV, ${rows} row(s))`,
  wroteHtml: (file: string) => `wrote ${file} (HTML, printable)`,
  accountOrAll: 'give an account or --all, not both',
  labTable: (lab: number, students: number, tasks: number) => `lab ${lab}: ${students} student account(s) × ${tasks} tasks, from the servers' records`,
  detailsAccount: (lab: number) => `details of one student: npx mail-lab check <account>${lab ? ` --lab ${lab}` : ''}`,
  inLab: (account: string, lab: number) => `${account} in lab ${lab}`,
  labTitle: (lab: number) => `mail-lab: lab ${lab}, the lesson's tasks`,
  noLabs: 'no numbered labs on this host (start them with `npx mail-lab class up --roster FILE`); for one shared lab use `npx mail-lab check --all --lab N`',
  notAnsweringRow: (why: string) => `not answering: ${why}`,
  classTable: (labs: number, tasks: number) => `class report: ${labs} lab(s) × ${tasks} tasks, from each lab's own records`,
  detailsLab: 'details of one student: npx mail-lab check --lab N',
  classTitle: "mail-lab: the class, the lesson's tasks",
};

export type CheckText = typeof en;

const id: CheckText = {
  html: 'id',
  state: { done: 'selesai', partly: 'sebagian', 'not-yet': 'belum' },
  tally: (done, all, partly) => `${done} dari ${all} tugas selesai, ${partly} sebagian`,
  missing: 'kurang',
  selfCheck: (task, time, passed) =>
    `cek mandiri \`npx mail-lab scenario ${task}\` dijalankan pukul ${time}${passed === undefined ? '' : passed ? ' dan lulus' : ' dan gagal'} (sesi-sesinya sendiri tidak dihitung)`,
  selfCheckShort: (time, passed) => `cek mandiri dijalankan pukul ${time}${passed === undefined ? '' : passed ? ' dan lulus' : ' dan gagal'} (tidak dihitung)`,
  couldNotRead: (what) => `(tidak dapat membaca ${what})`,
  done: 'selesai',
  noRecords: 'tidak ada catatan',
  legend: '+ selesai, ~ sebagian, . belum; tugas:',
  csvHeader: (tasks) => ['lab', 'siswa', ...tasks, 'selesai', 'sebagian', 'catatan'],
  student: 'siswa',
  made: (day, time, students, tasks) => `dibuat ${day} ${time} dari catatan server lab sendiri (npx mail-lab check); ${students} siswa, ${tasks} tugas`,
  title: (t) => t.id,
  unknownTask: (unknown, all) => `tugas ${unknown} tidak dikenal; tugas-tugasnya adalah lembar kerja: ${all}`,
  badSince: (text) => `--since menerima lama waktu ke belakang dari sekarang (3h, 90m), jam hari ini (08:00) atau tanggal (2026-11-26), bukan "${text}"`,
  notAnswering: (lab, why, labs) =>
    `lab ${lab} tidak menjawab, jadi tidak ada catatan untuk diperiksa (${why}); ${labs.length ? `lab bernomor di host ini: ${labs.join(', ')}` : 'tidak ada lab bernomor yang berjalan di host ini'} (\`npx mail-lab class status\`, \`npx mail-lab status --lab N\`)`,
  wroteCsv: (file, rows) => `${file} ditulis (CSV, ${rows} baris)`,
  wroteHtml: (file) => `${file} ditulis (HTML, siap cetak)`,
  accountOrAll: 'sebutkan satu akun atau --all, jangan keduanya',
  labTable: (lab, students, tasks) => `lab ${lab}: ${students} akun siswa × ${tasks} tugas, dari catatan server`,
  detailsAccount: (lab) => `rincian satu siswa: npx mail-lab check <akun>${lab ? ` --lab ${lab}` : ''}`,
  inLab: (account, lab) => `${account} di lab ${lab}`,
  labTitle: (lab) => `mail-lab: lab ${lab}, tugas-tugas materi`,
  noLabs: 'tidak ada lab bernomor di host ini (jalankan dengan `npx mail-lab class up --roster FILE`); untuk satu lab bersama pakai `npx mail-lab check --all --lab N`',
  notAnsweringRow: (why) => `tidak menjawab: ${why}`,
  classTable: (labs, tasks) => `laporan kelas: ${labs} lab × ${tasks} tugas, dari catatan setiap lab`,
  detailsLab: 'rincian satu siswa: npx mail-lab check --lab N',
  classTitle: 'mail-lab: kelas, tugas-tugas materi',
};

export const CHECK_TEXT: Record<Lang, CheckText> = { en, id };
