/**
 * The host side of `npx mail-lab check` and `class report`: reads a running
 * lab's records over its admin APIs (services/core/src/check/gather.ts),
 * runs the rules for its students, and works out which labs of this host a
 * class report covers. Also `--since` in the words a teacher types.
 */
import { gatherActivity } from '../../services/core/src/check/gather';
import { checkStudents, type StudentReport } from '../../services/core/src/check/evaluate';
import { buildRecords, type RecordOptions } from '../../services/core/src/check/records';
import type { Student } from '../../services/core/src/check/student';
import { parseDuration } from '../../services/core/src/duration';
import type { LabTarget } from '../lab-target';

export interface CheckOptions extends RecordOptions {
  since?: Date;
  tasks?: string[];
}

/** Every task for `students` of one running lab (one read of its records). */
export async function checkLab(target: LabTarget, students: Student[], o: CheckOptions = {}): Promise<StudentReport[]> {
  const activity = await gatherActivity({ lab: target.lab, config: target.config, mail: (d) => target.mail(d), dns: () => target.dns() }, o.since);
  return checkStudents(buildRecords(activity, o), students, o.tasks);
}

export class SinceError extends Error {
  override readonly name = 'SinceError';
}

/**
 * `--since`: a duration back from now (`3h`, `90m`), a clock time today (`08:00`, local time),
 * or a date and time (`2026-11-26`, `2026-11-26T08:00`).
 */
export function parseSince(text: string, now = new Date()): Date {
  const t = text.trim();
  const clock = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (clock && Number(clock[1]) < 24 && Number(clock[2]) < 60) {
    const d = new Date(now);
    d.setHours(Number(clock[1]), Number(clock[2]), 0, 0);
    return d;
  }
  const ms = parseDuration(t);
  if (ms !== null) return new Date(now.getTime() - ms);
  if (/^\d{4}-\d{2}-\d{2}/.test(t) && !Number.isNaN(Date.parse(t))) return new Date(t);
  throw new SinceError(`--since takes a duration back from now (3h, 90m), a time today (08:00) or a date (2026-11-26), not "${text}"`);
}
