/**
 * Which lab a command is about: `--lab N` (or MAIL_LAB_LAB) and `--config
 * FILE` (or MAIL_LAB_CONFIG; default lab-scenarios/lab.yaml). The lab
 * definition is read and checked (every problem with its place), then made
 * into lab N of it (services/core/src/labs.ts).
 */
import { join, relative } from 'node:path';
import { formatProblem, LabConfigError, loadLabConfig, type LabConfig } from '../services/core/src/config';
import { deriveLab, LabNumberError, labProject, parseLabNumber } from '../services/core/src/labs';
import { repoRoot } from './lab-docker';

export interface SelectedLab {
  n: number;
  /** The lab definition file. */
  file: string;
  /** The definition as written (lab 0's addresses and ports). */
  base: LabConfig;
  /** Lab N of it: its addresses and host ports. */
  config: LabConfig;
  project: string;
  /** How the Docker lab runs: `compose` (the default) or `swarm` (a stack; scripts/swarm/). */
  engine: Engine;
}

export interface LabChoice {
  lab?: string;
  config?: string;
  /** `--engine compose|swarm` (or MAIL_LAB_ENGINE). */
  engine?: string;
}

export type Engine = 'compose' | 'swarm';
export const ENGINES: readonly Engine[] = ['compose', 'swarm'];

/** The engine asked for (option, else MAIL_LAB_ENGINE, else compose). */
export function chosenEngine(choice: LabChoice): Engine {
  const text = (choice.engine ?? process.env.MAIL_LAB_ENGINE ?? '').trim() || 'compose';
  if (!(ENGINES as readonly string[]).includes(text)) throw new LabSelectionError(`${choice.engine !== undefined ? '--engine' : 'MAIL_LAB_ENGINE'} must be ${ENGINES.join(' or ')} (got "${text}")`);
  return text as Engine;
}

/** Bad `--lab` or an invalid definition: the CLI prints it and exits 2. */
export class LabSelectionError extends Error {
  override readonly name = 'LabSelectionError';
}

export const defaultLabFile = () => process.env.MAIL_LAB_CONFIG ?? join(repoRoot(), 'lab-scenarios', 'lab.yaml');

/** The lab number asked for (option, else MAIL_LAB_LAB, else 0). */
export function chosenLabNumber(choice: LabChoice): number {
  try {
    return choice.lab !== undefined ? parseLabNumber(choice.lab) : parseLabNumber(process.env.MAIL_LAB_LAB, 'MAIL_LAB_LAB');
  } catch (e) {
    if (e instanceof LabNumberError) throw new LabSelectionError(e.message);
    throw e;
  }
}

/** Reads the definition and makes lab N of it; warnings go to `warn`. */
export function selectLab(choice: LabChoice, warn: (line: string) => void = (l) => process.stderr.write(l + '\n')): SelectedLab {
  const n = chosenLabNumber(choice);
  const engine = chosenEngine(choice);
  const file = choice.config ?? defaultLabFile();
  let base: LabConfig;
  try {
    const loaded = loadLabConfig(file);
    for (const w of loaded.warnings) warn(formatProblem(w));
    base = loaded.config;
  } catch (e) {
    if (e instanceof LabConfigError) {
      for (const p of e.problems) warn(formatProblem(p));
      throw new LabSelectionError(`${relative(process.cwd(), file) || file}: ${e.problems.filter((p) => p.severity === 'error').length} problem(s); nothing was started`);
    }
    throw e;
  }
  let config: LabConfig;
  try {
    config = deriveLab(base, n);
  } catch (e) {
    throw new LabSelectionError((e as Error).message);
  }
  return { n, file, base, config, project: labProject(n), engine };
}
