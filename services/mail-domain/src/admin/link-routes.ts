/**
 * The links of a mail domain on its admin API: this server's side of the
 * `link` fault (break/heal) and of `slow-link`, made by the domain's link
 * control (iptables and tc inside its own container in the Docker lab, the
 * queue's reachability in the no-Docker lab). The CLI's fault family calls
 * both sides of a link.
 *
 *   GET  /links                    every peer: cut, slowed; is this domain isolated
 *   POST /links/:peer/cut          { reason: break | isolate }  (isolate: that peer is isolated, no-Docker lab)
 *   POST /links/:peer/restore      the same
 *   POST /links/:peer/slow         { rate, delayMs, loss }
 *   POST /links/:peer/slow/clear
 */
import { MAIL_API, type LabEventType, type LinkChange } from '../../../core/src/admin/api';
import type { EventHub } from '../../../core/src/admin/events';
import { ApiError } from '../../../core/src/admin/errors';
import type { AdminRouter } from '../../../core/src/admin/router';
import { requireDomain, type DomainConfig, type LabConfig } from '../../../core/src/config';
import { checkFaultSpec, FaultArgumentError } from '../../../core/src/faults';
import type { LinkControl } from '../links/types';

export function linkRoutes(router: AdminRouter, o: { domain: string; config: LabConfig; links: LinkControl; events?: EventHub }): void {
  /** Tells the event stream about a change (link.cut, …) and answers it. */
  const told = (type: LabEventType, c: LinkChange, extra: Record<string, unknown> = {}): LinkChange => {
    if (c.changed) o.events?.publish(type, { domain: o.domain, peer: c.peer, how: c.how, ...extra, ...(c.slow ? { slow: c.slow } : {}) });
    return c;
  };
  const peerOf = (name: string): DomainConfig => {
    let d: DomainConfig;
    try {
      d = requireDomain(o.config, name);
    } catch (e) {
      throw new ApiError(400, 'unknown-domain', (e as Error).message, 'peer');
    }
    if (d.name === o.domain) throw new ApiError(400, 'bad-argument', `a link joins two different domains; ${o.domain} is this one`, 'peer');
    return d;
  };
  router
    .on(MAIL_API.links, () => o.links.view())
    .on(MAIL_API.cutLink, async ({ peer, reason }) => told('link.cut', await o.links.cut(peerOf(peer), reason), { reason }))
    .on(MAIL_API.restoreLink, async ({ peer, reason }) => told('link.restored', await o.links.restore(peerOf(peer), reason), { reason }))
    .on(MAIL_API.slowLink, async ({ peer, rate, delayMs, loss }) => {
      const p = peerOf(peer);
      // The same rules as `npx mail-lab fault slow-link` (services/core/src/faults.ts).
      try {
        checkFaultSpec(o.config, { kind: 'slow-link', a: o.domain, b: p.name, rate, delayMs, loss });
      } catch (e) {
        if (e instanceof FaultArgumentError) throw new ApiError(400, 'bad-argument', e.message, e.field);
        throw e;
      }
      return told('link.slowed', await o.links.slow(p, { rate, delayMs, loss }));
    })
    .on(MAIL_API.clearSlowLink, async ({ peer }) => told('link.unslowed', await o.links.unslow(peerOf(peer))));
}
