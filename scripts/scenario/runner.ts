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
import { describe, runStep, StepFailure, type StepContext } from './steps';

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

export async function runScenario(target: LabTarget, scenario: Scenario, out: (l: string) => void): Promise<ScenarioOutcome> {
  const started = Date.now();
  const ctx: StepContext = { target, run: Date.now().toString(36).slice(-5), ids: new Map(), values: new Map() };
  out(`\n== ${scenario.name}: ${scenario.title}`);
  for (const line of scenario.explain.trim().split('\n')) out(`   ${line}`);
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
      out(`         ${r.status === 'ok' ? 'ok' : 'skipped'} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      const detail = e instanceof StepFailure ? e.detail : [];
      for (const l of detail) out(`         ${l}`);
      out(`         FAILED: ${(e as Error).message}`);
      out(`== ${scenario.name}: FAILED at step ${i + 1} (${what})`);
      return { name: scenario.name, ok: false, ms: Date.now() - started, failedStep: what, error: (e as Error).message };
    }
  }
  out(`== ${scenario.name}: passed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return { name: scenario.name, ok: true, ms: Date.now() - started };
}

/** Runs scenarios by name; returns true when all passed. */
export async function runScenarios(target: LabTarget, names: string[], out: (l: string) => void): Promise<boolean> {
  const outcomes: ScenarioOutcome[] = [];
  for (const name of names) {
    let scenario: Scenario;
    try {
      scenario = loadScenario(join(scenarioDir(), `${name}.yaml`));
    } catch (e) {
      if (e instanceof LabConfigError) for (const p of e.problems) out(formatProblem(p));
      else out(`no scenario "${name}" (see \`npx mail-lab scenario --list\`)`);
      outcomes.push({ name, ok: false, ms: 0, error: 'could not load' });
      continue;
    }
    outcomes.push(await runScenario(target, scenario, out));
  }
  const passed = outcomes.filter((o) => o.ok).length;
  out(`\nscenarios: ${passed} passed, ${outcomes.length - passed} failed (${target.mode === 'local' ? 'no-Docker' : 'Docker'} lab)`);
  return passed === outcomes.length;
}
