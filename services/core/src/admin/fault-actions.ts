/**
 * The fault family applied through the admin APIs, once for every caller
 * (the CLI's scripts/faults/ and the web pages): a link fault on both sides
 * of the link, an isolation on the isolated domain (and, in a no-Docker lab,
 * also in the other domains, which then treat it as unreachable), every other
 * fault on the one server that owns it (the lab DNS, or a mail domain). The
 * callers word the outcome themselves.
 */
import type { LabConfig } from '../config';
import { faultOwner, type FaultSpec } from '../faults';
import { DNS_API, MAIL_API, type FaultChange, type LinkChange } from './api';
import type { AdminClient } from './client';

/** A lab as seen through its admin APIs. */
export interface FaultTarget {
  config: LabConfig;
  /** docker or local; when unknown, a domain's /health says. */
  mode?: 'docker' | 'local';
  mail(domain: string): AdminClient;
  dns(): AdminClient;
}

export interface FaultOutcome {
  spec: FaultSpec;
  on: boolean;
  changed: boolean;
  /** The owning server's answer (every fault but link and slow-link; for isolate, the isolated domain's). */
  change?: FaultChange;
  /** link and slow-link: the first domain's side, then the second's. */
  sides?: LinkChange[];
}

async function modeOf(t: FaultTarget): Promise<'docker' | 'local' | undefined> {
  return t.mode ?? (await t.mail(t.config.domains[0].name).call(MAIL_API.health).catch(() => null))?.mode;
}

/** Applies (on) or clears (off) one fault of the family. */
export async function setFaultThroughApis(t: FaultTarget, spec: FaultSpec, on: boolean): Promise<FaultOutcome> {
  switch (spec.kind) {
    case 'link': {
      const route = on ? MAIL_API.cutLink : MAIL_API.restoreLink;
      const sides = [await t.mail(spec.a).call(route, { peer: spec.b, reason: 'break' }), await t.mail(spec.b).call(route, { peer: spec.a, reason: 'break' })];
      return { spec, on, changed: sides.some((s) => s.changed), sides };
    }
    case 'slow-link': {
      const side = (from: string, peer: string) => (on ? t.mail(from).call(MAIL_API.slowLink, { peer, rate: spec.rate, delayMs: spec.delayMs, loss: spec.loss }) : t.mail(from).call(MAIL_API.clearSlowLink, { peer }));
      const sides = [await side(spec.a, spec.b), await side(spec.b, spec.a)];
      return { spec, on, changed: sides.some((s) => s.changed), sides };
    }
    case 'isolate': {
      const change = (await t.mail(spec.domain).call(on ? MAIL_API.applyFault : MAIL_API.clearFault, spec)) as FaultChange;
      let changed = change.changed;
      // No-Docker lab: no network to cut, so the other servers treat the isolated domain as unreachable themselves.
      if ((await modeOf(t)) === 'local') {
        for (const peer of t.config.domains.filter((p) => p.name !== spec.domain)) {
          changed = (await t.mail(peer.name).call(on ? MAIL_API.cutLink : MAIL_API.restoreLink, { peer: spec.domain, reason: 'isolate' })).changed || changed;
        }
      }
      return { spec, on, changed, change };
    }
    default: {
      const owner = faultOwner(spec);
      const answer = 'dns' in owner ? await t.dns().call(on ? DNS_API.applyFault : DNS_API.clearFault, spec) : await t.mail((owner as { domain: string }).domain).call(on ? MAIL_API.applyFault : MAIL_API.clearFault, spec);
      const change = answer as FaultChange;
      return { spec, on, changed: change.changed, change };
    }
  }
}
