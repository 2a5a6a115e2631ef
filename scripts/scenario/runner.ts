/**
 * The scenario runner: loads scenarios from lab-scenarios/scenarios/,
 * runs their steps in order against the running lab, shows each step as it
 * happens, and reports pass or fail (the CLI exits non-zero on a failure).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlWithSchema, LabConfigError, formatProblem } from '../../services/core/src/config';
import { repoRoot } from '../lab-docker';
import type { LabTarget } from '../lab-target';
import { scenarioSchema, type Scenario } from './schema';
import { describe, runStep } from './steps';
import { StepFailure, type StepContext } from './step-types';
import { queueProfileUndo } from './queue-steps';
import { messages, pick } from './messages';
import type { Lang } from './lang';
import { dropWorkDir } from './client-steps';
import { reloadUndo } from './reload-steps';
import { markSelfCheck } from './marks';

export const scenarioDir = () => join(repoRoot(), 'lab-scenarios', 'scenarios');

export function loadScenario(file: string): Scenario {
  return parseYamlWithSchema(readFileSync(file, 'utf8'), file, scenarioSchema).data;
}

export function listScenarios(): Scenario[] {
  return readdirSync(scenarioDir())
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => loadScenario(join(scenarioDir(), f)));
}

export interface ScenarioOutcome {
  name: string;
  ok: boolean;
  ms: number;
  failedStep?: string;
  error?: string;
}

/** Runs one scenario, its texts and the runner's messages in `lang` (English by default). */
export async function runScenario(target: LabTarget, scenario: Scenario, out: (l: string) => void, lang: Lang = 'en'): Promise<ScenarioOutcome> {
  const started = Date.now();
  const m = messages(lang);
  const secs = (t0: number) => m.seconds((Date.now() - t0) / 1000);
  const ctx: StepContext = { target, run: Date.now().toString(36).slice(-5), ids: new Map(), values: new Map(), lang };
  await markSelfCheck(target, scenario.name, ctx.run, 'start');
  out(`\n== ${scenario.name}: ${pick(scenario.title, lang)}`);
  for (const line of pick(scenario.explain, lang).trim().split('\n')) out(`   ${line}`);
  const steps = scenario.steps;
  for (const [i, step] of steps.entries()) {
    const what = describe(ctx, step);
    const t0 = Date.now();
    if ('say' in step) {
      const r = await runStep(ctx, step);
      for (const l of r.detail) out(`   » ${l}`);
      continue;
    }
    out(`   [${i + 1}/${steps.length}] ${what} ...`);
    try {
      const r = await runStep(ctx, step);
      for (const l of r.detail) out(`         ${l}`);
      out(`         ${r.status === 'ok' ? m.ok : m.skipped} (${secs(t0)})`);
    } catch (e) {
      const detail = e instanceof StepFailure ? e.detail : [];
      for (const l of detail) out(`         ${l}`);
      out(`         ${m.failed}: ${(e as Error).message}`);
      out(m.failedAt(scenario.name, i + 1, what));
      await undoLeftovers(ctx, steps.slice(0, i + 1), out);
      dropWorkDir(ctx.run);
      await markSelfCheck(target, scenario.name, ctx.run, 'end', false);
      return { name: scenario.name, ok: false, ms: Date.now() - started, failedStep: what, error: (e as Error).message };
    }
  }
  dropWorkDir(ctx.run);
  await markSelfCheck(target, scenario.name, ctx.run, 'end', true);
  out(m.passed(scenario.name, secs(started)));
  return { name: scenario.name, ok: true, ms: Date.now() - started };
}

/**
 * Runs scenarios by name; returns true when all passed. The closing line is
 * always the English `scenarios: N passed, M failed (...)` (CI parses it);
 * in another language its translation comes right before it.
 */
/**
 * A scenario that fails half-way must not leave the lab broken for the
 * next one: heal the links it broke, clear the faults it applied, and put
 * back the queue profiles it switched.
 */
async function undoLeftovers(ctx: StepContext, done: Scenario['steps'], out: (l: string) => void): Promise<void> {
  const undo: Scenario['steps'] = [];
  for (const step of done) {
    if ('break' in step) undo.push({ heal: step.break });
    if ('fault' in step) undo.push({ 'clear-fault': { kind: step.fault.kind, args: step.fault.args } } as Scenario['steps'][number]);
  }
  // Queue profiles it switched go back to what they were before its first switch (run last);
  // a lab definition it changed goes back to the file (after the faults are cleared).
  undo.unshift(...queueProfileUndo(ctx), ...reloadUndo(done));
  for (const step of undo.reverse()) {
    try {
      await runStep(ctx, step);
      out(`         ${messages(ctx.lang ?? 'en').failure.undone(describe(ctx, step))}`);
    } catch (e) {
      out(`         ${messages(ctx.lang ?? 'en').failure.couldNotUndo(describe(ctx, step), (e as Error).message)}`);
    }
  }
}

export async function runScenarios(target: LabTarget, names: string[], out: (l: string) => void, lang: Lang = 'en'): Promise<boolean> {
  const m = messages(lang);
  const outcomes: ScenarioOutcome[] = [];
  for (const name of names) {
    let scenario: Scenario;
    try {
      scenario = loadScenario(join(scenarioDir(), `${name}.yaml`));
    } catch (e) {
      if (e instanceof LabConfigError) for (const p of e.problems) out(formatProblem(p));
      else out(m.noScenario(name));
      outcomes.push({ name, ok: false, ms: 0, error: 'could not load' });
      continue;
    }
    outcomes.push(await runScenario(target, scenario, out, lang));
  }
  const passed = outcomes.filter((o) => o.ok).length;
  const failed = outcomes.length - passed;
  out('');
  if (lang !== 'en') out(m.summary(passed, failed, target.mode));
  out(messages('en').summary(passed, failed, target.mode));
  return passed === outcomes.length;
}
