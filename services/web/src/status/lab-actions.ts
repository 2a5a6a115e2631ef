/**
 * The instructor's actions on a lab, through its admin APIs, with the fault
 * specs of services/core/src/faults.ts (checked with checkFaultSpec against
 * the lab): apply or clear a fault (a link fault on both sides, an isolation
 * also in the other domains of a no-Docker lab, the others on the API that
 * owns them), clear everything, switch the queue profile; and the same in
 * many labs at once. The faults go through services/core/src/admin/
 * fault-actions.ts, as the CLI's do; the result says what was done, the page
 * words it.
 */
import { MAIL_API } from '../../../core/src/admin/api';
import { setFaultThroughApis } from '../../../core/src/admin/fault-actions';
import { checkFaultSpec, type FaultSpec } from '../../../core/src/faults';
import type { WebLab } from '../labs';
import { labStatus } from './lab-status';

export interface ActionResult {
  lab: number;
  ok: boolean;
  /** Something changed (false: it already was so). */
  changed: boolean;
  op: 'apply' | 'clear' | 'clear-all' | 'profile';
  spec?: FaultSpec;
  /** clear-all: how many faults were cleared. */
  count?: number;
  profile?: string;
  /** What went wrong (the admin API's words). */
  error?: string;
}

/** A spec from form fields (`kind`, `a`, `b`, `domain`, `address`, `rate`, `loss`, `delayMs`, `code`, `text`), checked against the lab. */
export function specFromForm(lab: WebLab, f: Record<string, string | undefined>, clearing: boolean): FaultSpec {
  const num = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : Number(s.replace(/%$/, '')));
  const input: Record<string, unknown> = { kind: f.kind };
  for (const k of ['a', 'b', 'domain', 'address'] as const) if (f[k]) input[k] = f[k];
  if (!clearing) {
    if (f.rate) input.rate = f.rate;
    if (num(f.loss) !== undefined) input.loss = num(f.loss);
    if (num(f.delayMs) !== undefined) input.delayMs = num(f.delayMs);
    if (num(f.code) !== undefined) input.code = num(f.code);
    if (f.text) input.text = f.text;
    if (f.kind === 'slow-link' && input.rate === undefined && input.loss === undefined && input.delayMs === undefined) input.rate = '64kbit';
  }
  return checkFaultSpec(lab.config, input);
}

/** One fault through the admin APIs (services/core/src/admin/fault-actions.ts, as the CLI does it): did anything change? */
const change = async (lab: WebLab, spec: FaultSpec, on: boolean): Promise<boolean> => (await setFaultThroughApis(lab, spec, on)).changed;

const failure = (lab: WebLab, op: ActionResult['op'], e: unknown, extra: Partial<ActionResult> = {}): ActionResult => ({ lab: lab.n, ok: false, changed: false, op, error: (e as Error).message, ...extra });

/** Applies (on) or clears a fault in one lab. */
export async function setFault(lab: WebLab, spec: FaultSpec, on: boolean): Promise<ActionResult> {
  const op = on ? 'apply' : 'clear';
  try {
    return { lab: lab.n, ok: true, changed: await change(lab, spec, on), op, spec };
  } catch (e) {
    return failure(lab, op, e, { spec });
  }
}

/** Clears every fault of a lab: cut and slow links, isolations, the DNS's and the domains' faults. */
export async function clearAll(lab: WebLab): Promise<ActionResult> {
  try {
    const s = await labStatus(lab);
    if (s.unknown.length) throw new Error(`cannot ask every part of the lab: ${s.unknown.join('; ')}`);
    const specs: FaultSpec[] = [
      ...s.faults.map((f) => f.spec),
      ...s.links.filter((l) => l.cut).map((l): FaultSpec => ({ kind: 'link', a: l.a, b: l.b })),
      ...s.links.filter((l) => l.slow).map((l): FaultSpec => ({ kind: 'slow-link', a: l.a, b: l.b })),
    ];
    let n = 0;
    for (const spec of specs) if (await change(lab, spec, false)) n++;
    return { lab: lab.n, ok: true, changed: n > 0, op: 'clear-all', count: n };
  } catch (e) {
    return failure(lab, 'clear-all', e);
  }
}

/** Switches every domain of a lab to a queue profile. */
export async function setQueueProfile(lab: WebLab, profile: string): Promise<ActionResult> {
  if (!Object.hasOwn(lab.config.profiles, profile)) return failure(lab, 'profile', new Error(`unknown queue profile "${profile}"`), { profile });
  try {
    const r = await Promise.all(lab.config.domains.map((d) => lab.mail(d.name).call(MAIL_API.setQueueProfile, { name: profile })));
    return { lab: lab.n, ok: true, changed: r.some((x) => x.changed), op: 'profile', profile };
  } catch (e) {
    return failure(lab, 'profile', e, { profile });
  }
}

/** Runs `fn` in every lab, at most `limit` at once; results in lab order. */
export async function inEveryLab(labs: WebLab[], fn: (lab: WebLab) => Promise<ActionResult>, limit = 8): Promise<ActionResult[]> {
  const out = new Array<ActionResult>(labs.length);
  let next = 0;
  const worker = async () => {
    while (next < labs.length) {
      const i = next++;
      out[i] = await fn(labs[i]).catch((e) => failure(labs[i], 'apply', e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, labs.length) }, worker));
  return out;
}
