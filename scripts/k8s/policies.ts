/**
 * The lab's NetworkPolicies on Kubernetes: its isolation, and the two faults
 * of the fault family that are about the network (services/core/src/
 * faults.ts): `link` (break/heal) and `isolate`.
 *
 * A NetworkPolicy can only allow: a pod selected by some policy accepts
 * (ingress) or sends (egress) only what one of the policies selecting it
 * allows. So the lab has
 *
 *   lab-default-deny    every pod of the namespace, nothing allowed: whatever
 *                       else runs in the namespace is shut off too;
 *   lab-<host>          one per host (dns, mail-<short>, client): in from and
 *                       out to the lab's hosts it may talk to (a podSelector
 *                       listing them, so the same namespace only), and in from
 *                       outside the cluster (every address but the pod CIDR)
 *                       on the ports students reach.
 *
 * Nothing comes in from other namespaces (no namespaceSelector, and the pod
 * CIDR is excepted from the outside rule), and nothing goes out but to the
 * lab's own hosts, the lab DNS among them: the pods use the lab DNS as their
 * only resolver (`dnsPolicy: None`), as the Compose lab does, so the cluster
 * DNS is not needed and not reachable.
 *
 * A fault is a host left out of such a list. "mail.garudayaksa ↮ mail.dadali"
 * (break garudayaksa.com dadali.com): lab-mail-garudayaksa no longer lists
 * mail-dadali, and lab-mail-dadali no longer lists mail-garudayaksa, in
 * either direction; both still reach the DNS and the client. "dadali
 * isolated": lab-mail-dadali lists no lab host at all (only the students'
 * ports from outside stay open, as the published ports do in Compose), and
 * no other host's policy lists mail-dadali. Heal and clear put the lists
 * back. The faults in force are kept on the policies themselves, as
 * annotations (`mail-lab/cut-links`, `mail-lab/isolated`), so `fault list`
 * reads them from the cluster and any copy of the CLI sees the same.
 */
import type { INetworkPolicy as V1NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer as V1NetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { INetworkPolicyPort as V1NetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { labHosts, mailHostOf, type K8sHost, type K8sLab } from './lab';
import { HOST_LABEL, labLabels } from './labels';

export const DEFAULT_DENY = 'lab-default-deny';
export const CUT_ANNOTATION = 'mail-lab/cut-links';
export const ISOLATED_ANNOTATION = 'mail-lab/isolated';

/** The network faults in force: cut links (pairs of domains, sorted) and isolated domains. */
export interface NetworkFaults {
  cuts: [string, string][];
  isolated: string[];
}

export const NO_FAULTS: NetworkFaults = { cuts: [], isolated: [] };

/** The policy of a host. */
export const policyName = (h: Pick<K8sHost, 'name'>) => `lab-${h.name}`;

const pairKey = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);
const samePair = (p: [string, string], a: string, b: string) => {
  const [x, y] = pairKey(a, b);
  return p[0] === x && p[1] === y;
};

/** Whether a and b (domains) may talk: neither is isolated and their link is not cut. */
function linked(faults: NetworkFaults, a: K8sHost, b: K8sHost): boolean {
  const da = a.domain?.name;
  const db = b.domain?.name;
  if ((da && faults.isolated.includes(da)) || (db && faults.isolated.includes(db))) return false;
  if (da && db && faults.cuts.some((p) => samePair(p, da, db))) return false;
  return true;
}

/** The hosts `h` may talk to on the backbone (itself included, for a connection to its own ClusterIP). */
export function peersOf(lab: K8sLab, h: K8sHost, faults: NetworkFaults): K8sHost[] {
  if (h.domain && faults.isolated.includes(h.domain.name)) return [];
  return labHosts(lab).filter((p) => p === h || linked(faults, h, p));
}

const hostsSelector = (hosts: K8sHost[]): V1NetworkPolicyPeer => ({
  podSelector: { matchExpressions: [{ key: HOST_LABEL, operator: 'In', values: hosts.map((x) => x.name) }] },
});

/** The default-deny policy: every pod in the namespace, nothing allowed. */
export function defaultDenyPolicy(lab: K8sLab): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: DEFAULT_DENY, namespace: lab.namespace, labels: labLabels(lab) },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  };
}

/** The policy of one host with the faults in force. */
export function hostPolicy(lab: K8sLab, h: K8sHost, faults: NetworkFaults): V1NetworkPolicy {
  const peers = peersOf(lab, h, faults);
  const domain = h.domain?.name;
  const cut = domain ? faults.cuts.filter((p) => p.includes(domain)).map((p) => (p[0] === domain ? p[1] : p[0])) : [];
  const annotations: Record<string, string> = {};
  if (cut.length) annotations[CUT_ANNOTATION] = cut.sort().join(',');
  if (domain && faults.isolated.includes(domain)) annotations[ISOLATED_ANNOTATION] = 'true';
  const publicPorts: V1NetworkPolicyPort[] = h.nodePorts.map((p) => ({ protocol: p.protocol, port: p.port }));
  const ingress = [
    ...(peers.length ? [{ from: [hostsSelector(peers)] }] : []),
    // From outside the cluster (students, via the node ports with externalTrafficPolicy Local, which keeps their address).
    ...(publicPorts.length ? [{ from: [{ ipBlock: { cidr: '0.0.0.0/0', except: [lab.options.podCidr] } }], ports: publicPorts }] : []),
  ];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: policyName(h), namespace: lab.namespace, labels: labLabels(lab, h), annotations },
    spec: {
      podSelector: { matchLabels: { [HOST_LABEL]: h.name } },
      policyTypes: ['Ingress', 'Egress'],
      ingress,
      egress: peers.length ? [{ to: [hostsSelector(peers)] }] : [],
    },
  };
}

/** Every NetworkPolicy of the lab with the faults in force. */
export function labPolicies(lab: K8sLab, faults: NetworkFaults = NO_FAULTS): V1NetworkPolicy[] {
  return [defaultDenyPolicy(lab), ...labHosts(lab).map((h) => hostPolicy(lab, h, faults))];
}

/** The faults recorded on the hosts' policies as read from the cluster (missing policies count as no fault). */
export function faultsFromPolicies(lab: K8sLab, policies: (V1NetworkPolicy | undefined)[]): NetworkFaults {
  const cuts: [string, string][] = [];
  const isolated: string[] = [];
  for (const h of lab.mail) {
    const p = policies.find((x) => x?.metadata?.name === policyName(h));
    const a = p?.metadata?.annotations ?? {};
    if (a[ISOLATED_ANNOTATION] === 'true') isolated.push(h.domain!.name);
    for (const peer of (a[CUT_ANNOTATION] ?? '').split(',').filter(Boolean)) {
      if (!lab.mail.some((m) => m.domain!.name === peer)) continue;
      if (!cuts.some((c) => samePair(c, h.domain!.name, peer))) cuts.push(pairKey(h.domain!.name, peer));
    }
  }
  return { cuts: cuts.sort(), isolated: isolated.sort() };
}

/** The faults after applying (on) or clearing (off) a link cut or an isolation; `changed` says whether anything did. */
export function withNetworkFault(lab: K8sLab, faults: NetworkFaults, fault: { kind: 'link'; a: string; b: string } | { kind: 'isolate'; domain: string }, on: boolean): { faults: NetworkFaults; changed: boolean } {
  if (fault.kind === 'link') {
    mailHostOf(lab, fault.a);
    mailHostOf(lab, fault.b);
    const has = faults.cuts.some((p) => samePair(p, fault.a, fault.b));
    if (has === on) return { faults, changed: false };
    const cuts = on ? [...faults.cuts, pairKey(fault.a, fault.b)] : faults.cuts.filter((p) => !samePair(p, fault.a, fault.b));
    return { faults: { ...faults, cuts: cuts.sort() }, changed: true };
  }
  mailHostOf(lab, fault.domain);
  const has = faults.isolated.includes(fault.domain);
  if (has === on) return { faults, changed: false };
  const isolated = on ? [...faults.isolated, fault.domain] : faults.isolated.filter((d) => d !== fault.domain);
  return { faults: { ...faults, isolated: isolated.sort() }, changed: true };
}
