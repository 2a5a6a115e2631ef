/**
 * What every scenario step shares: the run it belongs to (StepContext), what
 * it reports (StepResult), and how it fails (StepFailure, with the lines
 * worth showing). steps.ts and the step files of each kind (queue-, fault-,
 * reading- and client-steps.ts) import these from here; this file imports
 * none of them.
 */
import type { LabTarget } from '../lab-target';
import type { Lang } from './lang';

export interface StepContext {
  target: LabTarget;
  run: string;
  ids: Map<string, string>;
  /** Numbers saved by steps (e.g. a mailbox file size) for later steps. */
  values: Map<string, number>;
  /** The language of descriptions, notes and short details (messages.ts); English when absent. */
  lang?: Lang;
}

export interface StepResult {
  /** skipped: not possible in this mode (said why in detail). */
  status: 'ok' | 'skipped';
  detail: string[];
}

/** A step that did not do what the scenario expects: the message, and the lines (transcript, headers…) that show why. */
export class StepFailure extends Error {
  constructor(message: string, readonly detail: string[] = []) {
    super(message);
  }
}
