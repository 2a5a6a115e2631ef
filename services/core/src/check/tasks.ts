/**
 * The lesson's tasks as `npx mail-lab check` knows them: one per worksheet
 * (docs/guide/en/<id>.md, scenario lab-scenarios/scenarios/<id>.yaml), in
 * the order of the guide's index, with their titles in both languages. A
 * test keeps this list and the worksheets in step.
 */

export interface TaskInfo {
  /** The worksheet's (and scenario's) name. */
  id: string;
  /** Its number in the guide's suggested order (1 …). */
  n: number;
  title: { en: string; id: string };
}

const list: [string, string, string][] = [
  ['simplest-mail-server', 'The simplest mail server', 'Server e-mail paling sederhana'],
  ['smtp-by-hand', 'SMTP typed by hand', 'Sesi SMTP diketik sendiri'],
  ['cross-domain-delivery', 'Cross-domain delivery', 'Pengiriman antar-domain'],
  ['mx-lookup', 'DNS MX lookup', 'Pencarian MX di DNS'],
  ['open-relay-refused', 'No open relay', 'Tidak menjadi open relay'],
  ['mail-loop', 'A mail loop is stopped', 'Surat berputar-putar dihentikan'],
  ['queue-retry', 'The queue retries', 'Antrian mencoba lagi'],
  ['returned-mail', 'Returned mail', 'Surat dikembalikan'],
  ['delay-warning', 'The delay warning', 'Peringatan keterlambatan'],
  ['dns-outage', 'DNS outage', 'DNS bermasalah'],
  ['greylisting', 'Greylisting', 'Greylisting'],
  ['early-talker', 'Early talkers', 'Early talker'],
  ['pop3-by-hand', 'POP3 typed by hand', 'Sesi POP3 diketik sendiri'],
  ['pop3-download', 'POP3 downloads', 'POP3 mengunduh'],
  ['imap-folders-search', 'IMAP folders and search', 'Folder dan pencarian IMAP'],
  ['pop3-vs-imap', 'POP3 vs IMAP', 'POP3 dan IMAP'],
  ['mail-client-setup', 'A mail program set up by yourself', 'Program e-mail disetel sendiri'],
  ['attachments', 'Attachments', 'Lampiran'],
  ['change-the-lab', 'Change the lab itself', 'Mengubah lab itu sendiri'],
];

export const TASKS: readonly TaskInfo[] = list.map(([id, en, idn], i) => ({ id, n: i + 1, title: { en, id: idn } }));

export type TaskState = 'done' | 'partly' | 'not-yet';

/** What the check found for one task of one student. */
export interface TaskResult {
  task: string;
  state: TaskState;
  /** What the server's records show, in words a teacher reads (the first line is the summary). */
  evidence: string[];
  /** What is still missing (partly, not yet). */
  missing: string[];
  /** The evidence in Indonesian (`--lang id`), line for line. */
  evidenceId?: string[];
  /** What is missing in Indonesian, line for line. */
  missingId?: string[];
  /** Self-checks of this task that ran (`npx mail-lab scenario <task>`); their records are not counted. */
  selfChecks?: { time: string; passed?: boolean }[];
}

export const taskById = (id: string) => TASKS.find((t) => t.id === id);
