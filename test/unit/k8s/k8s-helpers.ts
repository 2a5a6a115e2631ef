/**
 * What the Kubernetes tests share: the rendered labs, the schema check of
 * kubernetes-models (the OpenAPI schema of Kubernetes 1.33, generated, not
 * written here), label-selector matching as the API server does it, and a
 * small evaluator of NetworkPolicies (who may open a connection to whom).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { K8sObject } from '../../../scripts/k8s/manifests';

export const root = join(__dirname, '../../..');
export const LAB_FILE = join(root, 'lab-scenarios/lab.yaml');
export const labText = () => readFileSync(LAB_FILE, 'utf8');

/** The model class of each kind the lab renders; any other kind fails the test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace as never,
  'v1/ConfigMap': ConfigMap as never,
  'v1/Secret': Secret as never,
  'v1/Service': Service as never,
  'apps/v1/StatefulSet': StatefulSet as never,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as never,
};

/** Validates an object against the schema of its kind; returns the problems (empty: valid). */
export function schemaProblems(o: K8sObject): string[] {
  const M = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!M) return [`no schema for ${o.apiVersion} ${o.kind}`];
  try {
    new M(JSON.parse(JSON.stringify(o)) as never).validate();
    return [];
  } catch (e) {
    return [`${o.kind} ${o.metadata?.name}: ${(e as Error).message}`];
  }
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether labels match a selector (matchLabels and matchExpressions ANDed, as the API server does). */
export function matches(selector: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values!.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && e.values!.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown operator ${e.operator}`);
    }
  }
  return true;
}

/** A pod as the policies see it: its namespace, labels and address (pod CIDR or outside). */
export interface Endpoint {
  namespace?: string;
  labels?: Record<string, string>;
  /** An address outside the cluster (a student), or a pod's address. */
  ip: string;
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { protocol?: string; port?: number | string }[];
}
type Policy = K8sObject & { spec: { podSelector: LabelSelector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] } };

const ipInt = (ip: string) => ip.split('.').reduce((a, x) => a * 256 + Number(x), 0);
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipInt(ip) / size) === Math.floor(ipInt(base) / size);
}

function peerMatches(peer: Peer, policyNs: string, other: Endpoint): boolean {
  if (peer.ipBlock) return !other.namespace && inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
  if (!other.namespace) return false;
  // No namespaceSelector: the policy's own namespace only.
  if (!peer.namespaceSelector && other.namespace !== policyNs) return false;
  if (peer.namespaceSelector && !matches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': other.namespace })) return false;
  return peer.podSelector ? matches(peer.podSelector, other.labels) : true;
}

function ruleAllows(rule: Rule, peers: Peer[] | undefined, policyNs: string, other: Endpoint, port: number, protocol: string): boolean {
  const portOk = !rule.ports?.length || rule.ports.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port));
  const peerOk = !peers?.length || peers.some((p) => peerMatches(p, policyNs, other));
  return portOk && peerOk;
}

/**
 * Whether `from` may open a connection to `to` on port/protocol under the
 * policies (of every namespace): egress of `from` (if it is a pod selected by
 * an egress policy) and ingress of `to` must both allow it.
 */
export function allowed(policies: Policy[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
  const side = (self: Endpoint, other: Endpoint, type: 'Ingress' | 'Egress') => {
    if (!self.namespace) return true; // outside the cluster: no policy applies
    const selecting = policies.filter((p) => p.metadata!.namespace === self.namespace && matches(p.spec.podSelector, self.labels) && (p.spec.policyTypes ?? ['Ingress']).includes(type));
    if (!selecting.length) return true;
    return selecting.some((p) =>
      (type === 'Ingress' ? p.spec.ingress : p.spec.egress)?.some((r) => ruleAllows(r, type === 'Ingress' ? r.from : r.to, p.metadata!.namespace!, other, port, protocol)),
    );
  };
  return side(from, to, 'Egress') && side(to, from, 'Ingress');
}

export type { Policy };
