/**
 * The shape of one task's rule: it reads a student's records (student.ts)
 * and says done / partly / not yet, with the evidence a teacher reads and
 * what is missing. The rules live in rules/, one file per family. A rule
 * writes its words in the language of `w` (words.ts); the check runs it in
 * English and in Indonesian (evaluate.ts).
 */
import type { TaskResult } from './tasks';
import type { StudentView } from './student';
import type { Words } from './words';

export type RuleResult = Pick<TaskResult, 'state' | 'evidence' | 'missing'>;
export type Rule = (v: StudentView, w: Words) => RuleResult;

export const done = (evidence: string[]): RuleResult => ({ state: 'done', evidence, missing: [] });
export const partly = (evidence: string[], missing: string[]): RuleResult => ({ state: 'partly', evidence, missing });
export const notYet = (missing: string[]): RuleResult => ({ state: 'not-yet', evidence: [], missing });

/** The domain of an address, lower case (`''` without one). */
export const domainOf = (address: string) => address.split('@')[1]?.toLowerCase() ?? '';

/** The element with the highest score (the first one on a tie), or undefined. */
export function best<T>(xs: T[], score: (x: T) => number): T | undefined {
  let top: T | undefined;
  let topScore = -Infinity;
  for (const x of xs) {
    const s = score(x);
    if (s > topScore) {
      top = x;
      topScore = s;
    }
  }
  return top;
}
