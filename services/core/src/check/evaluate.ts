/**
 * `npx mail-lab check` without the network: every task's rule (rules/)
 * run on one student's records, in the order of the guide, each result
 * with the self-checks of that task that ran in the lab (their records are
 * left out of the evidence, records.ts). What counts as done for each task
 * is written in the rule files and in docs/architecture.md ("npx mail-lab
 * check"). Each rule runs twice, for its English words and its
 * Indonesian ones (the same records, so the same state).
 */
import type { Rule } from './rule';
import { crossDomainDelivery, delayWarning, dnsOutage, queueRetry, returnedMail } from './rules/queue';
import { mxLookup } from './rules/dns';
import { changeTheLab } from './rules/lab';
import { mailClientSetup } from './rules/client';
import { attachments, imapFoldersSearch, pop3ByHand, pop3Download, pop3VsImap } from './rules/mailbox';
import { earlyTalker, greylisting, mailLoop, openRelayRefused, simplestMailServer, smtpByHand } from './rules/smtp';
import { addressOwners, studentView, type Student } from './student';
import type { LabRecords } from './records';
import { TASKS, type TaskResult } from './tasks';
import { wordsFor } from './words';

const EN = wordsFor('en');
const ID = wordsFor('id');

export const RULES: Record<string, Rule> = {
  'simplest-mail-server': simplestMailServer,
  'smtp-by-hand': smtpByHand,
  'cross-domain-delivery': crossDomainDelivery,
  'mx-lookup': mxLookup,
  'open-relay-refused': openRelayRefused,
  'mail-loop': mailLoop,
  'queue-retry': queueRetry,
  'returned-mail': returnedMail,
  'delay-warning': delayWarning,
  'dns-outage': dnsOutage,
  greylisting,
  'early-talker': earlyTalker,
  'pop3-by-hand': pop3ByHand,
  'pop3-download': pop3Download,
  'imap-folders-search': imapFoldersSearch,
  'pop3-vs-imap': pop3VsImap,
  'mail-client-setup': mailClientSetup,
  attachments,
  'change-the-lab': changeTheLab,
};

export interface StudentReport {
  student: Student;
  results: TaskResult[];
  /** Sources of the lab that could not be read. */
  problems: string[];
}

/** Every task for each student of one lab (the records read once). */
export function checkStudents(records: LabRecords, students: Student[], tasks: string[] = TASKS.map((t) => t.id)): StudentReport[] {
  const owners = students.some((s) => s.kind === 'account') ? addressOwners(records) : undefined;
  return students.map((student) => {
    const view = studentView(records, student, owners);
    const results = tasks.map((task): TaskResult => {
      const r = RULES[task](view, EN);
      const id = RULES[task](view, ID);
      const runs = records.selfChecks.filter((c) => c.scenario === task).map((c) => ({ time: new Date(c.start).toISOString(), ...(c.passed !== undefined ? { passed: c.passed } : {}) }));
      return { task, ...r, evidenceId: id.evidence, missingId: id.missing, ...(runs.length ? { selfChecks: runs } : {}) };
    });
    return { student, results, problems: records.problems };
  });
}
