/**
 * The scenario runner tells the lab when a self-check starts and ends
 * (POST /activity/mark on every mail domain), so that `npx mail-lab check`
 * does not count the runner's own sessions, messages and DNS questions as a
 * student's work, and can say that the self-check ran and whether it
 * passed. Best effort: a lab that does not answer (or an older server
 * without the route) does not stop the scenario.
 */
import { MAIL_API } from '../../services/core/src/admin/api';
import type { LabTarget } from '../lab-target';

export async function markSelfCheck(target: LabTarget, scenario: string, run: string, phase: 'start' | 'end', passed?: boolean): Promise<void> {
  await Promise.all(
    target.config.domains.map((d) =>
      target
        .mail(d.name)
        .call(MAIL_API.markActivity, { label: 'self-check', scenario, run, phase, ...(passed !== undefined ? { passed } : {}) })
        .catch(() => undefined),
    ),
  );
}
