/**
 * Scenario steps for the instructor's faults: `fault: { kind, args, …options }`
 * applies one as `npx mail-lab fault <kind> <args…> --<option> <value>`
 * would, `clear-fault: { kind, args }` removes it (`kind: all` removes
 * every one). Both show what the CLI shows; applying a fault that is already
 * on is not a failure. slow-link is skipped in the no-Docker lab.
 */
import { clearAllFaults, faultSpec, setFault } from '../commands/fault-control';
import type { LabTarget } from '../lab-target';
import type { Step } from './schema';
import type { StepResult } from './steps';

type FaultStep = Extract<Step, Record<'fault', unknown>> | Extract<Step, Record<'clear-fault', unknown>>;

export async function runFaultStep(target: LabTarget, step: FaultStep): Promise<StepResult> {
  const { kind, args } = 'fault' in step ? step.fault : step['clear-fault'];
  if (kind === 'slow-link' && !target.exec) return { status: 'skipped', detail: ['slow-link needs the Docker lab (tc and iptables inside the mail containers)'] };
  if ('clear-fault' in step) {
    if (kind === 'all') return { status: 'ok', detail: (await clearAllFaults(target)).lines };
    return { status: 'ok', detail: (await setFault(target, faultSpec(target.config, kind, args, {}, true), false)).lines };
  }
  const { kind: _k, args: _a, ...options } = step.fault;
  return { status: 'ok', detail: (await setFault(target, faultSpec(target.config, kind, args, options), true)).lines };
}
