/** What the scenario test files share: run scenarios and keep every line the runner printed, as a class would see it. */
import type { LabTarget } from '../../../scripts/lab-target';
import { runScenarios } from '../../../scripts/scenario/runner';

export async function runCollect(target: LabTarget, names: string[], lang?: 'en' | 'id'): Promise<{ ok: boolean; lines: string[]; text: string }> {
  const lines: string[] = [];
  const ok = await runScenarios(target, names, (l) => lines.push(...l.split('\n')), lang);
  return { ok, lines, text: lines.join('\n') };
}
