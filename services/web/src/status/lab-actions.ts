/**
 * The instructor's actions on a lab, through its admin APIs, with the fault
 * specs of services/core/src/faults.ts (checked with checkFaultSpec against
 * the lab): apply or clear a fault (a link fault on both sides, an isolation
 * also in the other domains of a no-Docker lab, the others on the API that
 * owns them), clear everything, switch the queue profile; and the same in
 * many labs at once. The CLI does the same in scripts/faults/apply.ts (which
 * the web server may not import); the result says what was done, the page words it.
 */
import { DNS_API, MAIL_API, type FaultChange } from '../../../core/src/admin/api';
import { checkFaultSpec, faultOwner, type FaultSpec } from '../../../core/src/faults';
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

/** docker or local: from the lab source, else as a domain's health says. */
async function modeOf(lab: WebLab): Promise<'docker' | 'local' | undefined> {
  if (lab.mode) return lab.mode;
  return (await lab.mail(lab.config.domains[0].name).call(MAIL_API.health).catch(() => null))?.mode;
}

async function change(lab: WebLab, spec: FaultSpec, on: boolean): Promise<boolean> {
  switch (spec.kind) {
    case 'link': {
      const route = on ? MAIL_API.cutLink : MAIL_API.restoreLink;
      const r = [await lab.mail(spec.a).call(route, { peer: spec.b, reason: 'break' }), await lab.mail(spec.b).call(route, { peer: spec.a, reason: 'break' })];
      return r.some((x) => x.changed);
    }
    case 'slow-link': {
      const r = on
        ? [spec.a, spec.b].map((from, i) => lab.mail(from).call(MAIL_API.slowLink, { peer: i ? spec.a : spec.b, rate: spec.rate, delayMs: spec.delayMs, loss: spec.loss }))
        : [spec.a, spec.b].map((from, i) => lab.mail(from).call(MAIL_API.clearSlowLink, { peer: i ? spec.a : spec.b }));
      return (await Promise.all(r)).some((x) => x.changed);
    }
    case 'isolate': {
      const r = (await lab.mail(spec.domain).call(on ? MAIL_API.applyFault : MAIL_API.clearFault, spec)) as FaultChange;
      let changed = r.changed;
      // A no-Docker lab: the other domains treat the isolated one as unreachable themselves.
      if ((await modeOf(lab)) === 'local') {
        for (const peer of lab.config.domains.filter((p) => p.name !== spec.domain)) {
          changed = (await lab.mail(peer.name).call(on ? MAIL_API.cutLink : MAIL_API.restoreLink, { peer: spec.domain, reason: 'isolate' })).changed || changed;
        }
      }
      return changed;
    }
    default: {
      const owner = faultOwner(spec);
      const r = 'dns' in owner ? await lab.dns().call(on ? DNS_API.applyFault : DNS_API.clearFault, spec) : await lab.mail((owner as { domain: string }).domain).call(on ? MAIL_API.applyFault : MAIL_API.clearFault, spec);
      return (r as FaultChange).changed;
    }
  }
}

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
