/**
 * The instructor's faults on one mail domain, on its admin API (the fault
 * family and its argument rules: services/core/src/faults.ts; the state:
 * faults/state.ts; isolation: the domain's link control).
 *
 *   GET  /faults           the active faults of this domain
 *   POST /faults/apply     a spec: server-down, greylist, greet-delay, reject, isolate
 *   POST /faults/clear     the same spec, or { kind: 'all' }
 *
 * A cut or slowed link is a fault too, but each side of it is set on
 * /links/:peer (link-routes.ts), so these routes refuse `link` and
 * `slow-link` saying so. Applying a fault that is on, or clearing one that
 * is off, answers `changed: false`.
 */
import { MAIL_API, type ActiveFault, type FaultChange } from '../../../core/src/admin/api';
import { ApiError } from '../../../core/src/admin/errors';
import type { AdminRouter } from '../../../core/src/admin/router';
import type { LabConfig } from '../../../core/src/config';
import { formatDuration } from '../../../core/src/duration';
import { checkFaultSpec, FaultArgumentError, faultOwner, GREET_DELAY_DEFAULT_MS, GREYLIST_DEFAULT_MS, rejectReply, type FaultSpec } from '../../../core/src/faults';
import type { MailFaults } from '../faults/state';
import type { LinkControl } from '../links/types';
import type { EventHub } from '../../../core/src/admin/events';

export interface FaultRoutesOptions {
  domain: string;
  config: LabConfig;
  faults: MailFaults;
  /** The domain's link control: isolation is one of its faults. */
  links: LinkControl;
  /** Where a fault that changed is told (fault.applied, fault.cleared). */
  events?: EventHub;
}

/** The spec, checked against the lab and meant for this domain. */
function ownSpec(o: FaultRoutesOptions, input: FaultSpec): FaultSpec {
  let spec: FaultSpec;
  try {
    spec = checkFaultSpec(o.config, input);
  } catch (e) {
    if (e instanceof FaultArgumentError) throw new ApiError(400, 'bad-argument', e.message, e.field);
    throw e;
  }
  const owner = faultOwner(spec);
  if ('dns' in owner) throw new ApiError(400, 'unsupported', `${spec.kind} is a fault of the lab DNS: ask its admin API, not ${o.domain}'s`);
  if ('pair' in owner) throw new ApiError(400, 'unsupported', `${spec.kind} is set on each side of the link: POST /links/<peer>/${spec.kind === 'link' ? 'cut' : 'slow'} on both domains`);
  if (owner.domain !== o.domain) throw new ApiError(400, 'unknown-domain', `${spec.kind} for ${owner.domain} goes to ${owner.domain}'s admin API; this is ${o.domain}`, 'domain');
  return spec;
}

async function setFault(o: FaultRoutesOptions, spec: FaultSpec, on: boolean): Promise<FaultChange> {
  const r = await changeFault(o, spec, on);
  if (r.changed) o.events?.publish(on ? 'fault.applied' : 'fault.cleared', { spec, target: o.domain, how: r.how });
  return r;
}

async function changeFault(o: FaultRoutesOptions, spec: FaultSpec, on: boolean): Promise<FaultChange> {
  const f = o.faults;
  switch (spec.kind) {
    case 'server-down':
      return { spec, active: on, changed: await f.setServerDown(on, spec.all === true) };
    case 'greylist': {
      if (!on) return { spec, active: false, changed: f.clearGreylist() };
      const delayMs = spec.delayMs ?? GREYLIST_DEFAULT_MS;
      return { spec, active: true, delayMs, changed: f.setGreylist(delayMs) };
    }
    case 'greet-delay': {
      if (!on) return { spec, active: false, changed: f.clearGreetDelay() };
      const delayMs = spec.delayMs ?? GREET_DELAY_DEFAULT_MS;
      return { spec, active: true, delayMs, changed: f.setGreetDelay(delayMs) };
    }
    case 'reject': {
      if (!on) return { spec, active: false, changed: f.clearReject(spec.address) };
      const r = rejectReply(spec);
      return { spec, active: true, ...r, changed: f.setReject(spec.address, r.code, r.text) };
    }
    case 'isolate': {
      const r = await o.links.isolate(on);
      return { spec, active: on, changed: r.changed, how: r.how };
    }
    default:
      throw new ApiError(400, 'unsupported', `${spec.kind} is not a fault of a mail domain`);
  }
}

/** The domain's active faults, in words, each with the spec that clears it. */
export async function activeFaults(o: FaultRoutesOptions): Promise<ActiveFault[]> {
  const out: ActiveFault[] = [];
  for (const f of o.faults.list()) {
    if (f.kind === 'server-down') {
      const detail = f.all ? 'no mail port listening (connection refused): 25, 587, 465, POP3, IMAP; the queue and the admin API work' : 'port 25 not listening (connection refused)';
      out.push({ kind: f.kind, target: o.domain, detail, since: f.since, spec: { kind: 'server-down', domain: o.domain, ...(f.all ? { all: true } : {}) } });
    }
    else if (f.kind === 'greylist') out.push({ kind: f.kind, target: o.domain, detail: `delay ${formatDuration(f.delayMs ?? 0)}, ${f.triplets ?? 0} triplet(s) seen, ${f.passed ?? 0} accepted`, since: f.since, spec: { kind: 'greylist', domain: o.domain } });
    else if (f.kind === 'greet-delay') out.push({ kind: f.kind, target: o.domain, detail: `port 25 waits ${formatDuration(f.delayMs ?? 0)} before its greeting, ${f.refused ?? 0} early talker(s) cut off`, since: f.since, spec: { kind: 'greet-delay', domain: o.domain } });
    else if (f.kind === 'reject') out.push({ kind: f.kind, target: f.address!, detail: `RCPT answers ${f.code} ${f.text}`, since: f.since, spec: { kind: 'reject', address: f.address! } });
  }
  const iso = (await o.links.view()).isolated;
  if (iso) out.push({ kind: 'isolate', target: o.domain, detail: `cut off from the backbone (${iso.how})`, since: iso.since, spec: { kind: 'isolate', domain: o.domain } });
  return out;
}

export function faultRoutes(router: AdminRouter, o: FaultRoutesOptions): void {
  router
    .on(MAIL_API.faults, async () => ({ domain: o.domain, faults: await activeFaults(o) }))
    .on(MAIL_API.applyFault, (input) => setFault(o, ownSpec(o, input), true))
    .on(MAIL_API.clearFault, async (input) => {
      if (input.kind !== 'all') return setFault(o, ownSpec(o, input), false);
      let cleared = 0;
      for (const f of await activeFaults(o)) if ((await setFault(o, f.spec, false)).changed) cleared++;
      return { cleared };
    });
}
