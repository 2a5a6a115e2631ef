/**
 * What is broken in the running lab, asked of every admin API: the DNS's
 * faults, each domain's faults, and the links (cut by `break`, slowed by
 * `slow-link`), which each domain reports for its side. `fault list` and
 * `status` print these lines; `fault clear all` clears all of it.
 */
import { DNS_API, MAIL_API, type ActiveFault, type LinksView } from '../../services/core/src/admin/api';
import { describeSlowLink } from '../../services/core/src/faults';
import type { LabTarget } from '../lab-target';
import { setFault, type FaultResult } from './apply';

export interface FaultListing {
  faults: ActiveFault[];
  /** Parts that could not be asked (unreachable), in words. */
  unknown: string[];
}

export interface LinkState {
  a: string;
  b: string;
  broken: boolean;
  how: string;
}

const firstPart = (e: unknown) => (e as Error).message.split(' (')[0];

/** Each domain's view of its links; a domain that does not answer is named in `unknown`. */
async function linkViews(target: LabTarget, unknown: string[]): Promise<LinksView[]> {
  const views: LinksView[] = [];
  for (const d of target.config.domains) {
    try {
      views.push(await target.mail(d.name).call(MAIL_API.links));
    } catch (e) {
      unknown.push(`links of ${d.name} (${firstPart(e)})`);
    }
  }
  return views;
}

/** Every pair of lab domains, once. */
const pairs = (target: LabTarget) => target.config.domains.flatMap((a, i) => target.config.domains.slice(i + 1).map((b) => [a.name, b.name] as const));

/** The cut and slowed links as faults: a pair is cut when either side cuts it. */
function linkFaults(target: LabTarget, views: LinksView[]): ActiveFault[] {
  const out: ActiveFault[] = [];
  const side = (from: string, to: string) => views.find((v) => v.domain === from)?.peers.find((p) => p.domain === to);
  for (const [a, b] of pairs(target)) {
    const ab = side(a, b);
    const ba = side(b, a);
    if (ab?.cut || ba?.cut) {
      const method = views.find((v) => v.domain === a)?.method === 'iptables' ? 'iptables DROP between the two mail containers: connections time out' : 'outbound SMTP between the two servers is blocked in the servers (no-Docker lab)';
      out.push({ kind: 'link', target: `${a} <-> ${b}`, detail: `cut (${method})`, spec: { kind: 'link', a, b } });
    }
    const slow = ab?.slow ?? ba?.slow;
    if (slow) {
      const how = [...slow.methods.map((m) => m.replace(/ on \S+ for [\d.]+/, '').replace(/ \(this kernel.*\)$/, '')), ...slow.missing.map((m) => m.replace(/:.*$/, ''))].join('; ');
      out.push({
        kind: 'slow-link',
        target: `${a} <-> ${b}`,
        detail: `${describeSlowLink(slow)} (${how})${slow.stale ? ' STALE: tc shaping is gone (container restarted?); clear it' : ''}`,
        since: slow.since,
        spec: { kind: 'slow-link', a, b },
      });
    }
  }
  return out;
}

/** The active faults, and what could not be asked. */
export async function listFaults(target: LabTarget): Promise<FaultListing> {
  const faults: ActiveFault[] = [];
  const unknown: string[] = [];
  try {
    faults.push(...(await target.dns().call(DNS_API.faults)).faults);
  } catch (e) {
    unknown.push(`lab DNS (${firstPart(e)})`);
  }
  for (const d of target.config.domains) {
    try {
      faults.push(...(await target.mail(d.name).call(MAIL_API.faults)).faults);
    } catch (e) {
      unknown.push(`${d.name} (${firstPart(e)})`);
    }
  }
  faults.push(...linkFaults(target, await linkViews(target, unknown)));
  return { faults, unknown };
}

/** The state of every link, for `status`. */
export async function linkStates(target: LabTarget): Promise<LinkState[]> {
  const unknown: string[] = [];
  const views = await linkViews(target, unknown);
  if (unknown.length) throw new Error(unknown.join('; '));
  const cut = linkFaults(target, views).filter((f) => f.kind === 'link');
  return pairs(target).map(([a, b]) => {
    const f = cut.find((x) => x.target === `${a} <-> ${b}`);
    return { a, b, broken: !!f, how: f?.detail ?? '' };
  });
}

/** Lines for `status` and `fault list`. */
export function faultLines(r: FaultListing): string[] {
  const lines = r.faults.map((f) => `fault ${f.kind} ${f.target}: ${f.detail}${f.since ? ` (since ${f.since.slice(11, 19)})` : ''}`);
  if (!r.faults.length) lines.push(`faults: none${r.unknown.length ? ' known' : ''}`);
  if (r.unknown.length) lines.push(`faults unknown for: ${r.unknown.join('; ')}`);
  return lines;
}

/** Clears every fault, cut links included (`fault clear all`). */
export async function clearAllFaults(target: LabTarget): Promise<FaultResult> {
  const { faults, unknown } = await listFaults(target);
  if (unknown.length) throw new Error(`cannot ask every part of the lab, so not everything can be cleared: ${unknown.join('; ')}`);
  let n = 0;
  // Each through the family, so a no-Docker isolation also releases the other domains.
  for (const f of faults) if ((await setFault(target, f.spec, false)).changed) n++;
  // No-Docker lab: a domain still told that a peer is isolated although it no longer is (the peer restarted).
  for (const v of await linkViews(target, [])) {
    for (const p of v.peers.filter((x) => x.peerIsolated)) await target.mail(v.domain).call(MAIL_API.restoreLink, { peer: p.domain, reason: 'isolate' });
  }
  return { changed: n > 0, lines: [n ? `cleared ${n} fault(s); the lab is back to normal` : 'no fault was active; nothing changed'] };
}
