/**
 * `--engine k8s`: lab N on a Kubernetes cluster through its API, with the
 * maintained client library @kubernetes/client-node (1.4.0: the 2.x line
 * needs Node 22). The objects are the rendered ones (manifests.ts), sent as
 * they are written (the library's loadYaml, then server-side apply with the
 * field manager `mail-lab`, as `kubectl apply --server-side` does), so
 * `render k8s` and `up --engine k8s` cannot drift apart.
 *
 *   up      Secrets created when the cluster has none (a token or CA in use
 *           is never replaced), everything else applied; then waits for the
 *           StatefulSets to be ready, naming a pod whose image cannot be
 *           pulled or that keeps crashing.
 *   down    the StatefulSets, Services, NetworkPolicies and ConfigMap go; the
 *           namespace with the Secrets and the data volumes stays (`down
 *           --volumes` deletes the namespace and all of it).
 *   faults  link (break/heal) and isolate: the hosts' NetworkPolicies
 *           (policies.ts) read, changed, applied.
 *
 * The options the lab was deployed with (Service CIDR, pod CIDR, node ports,
 * image) are kept on its namespace, so `down`, `status` and the faults
 * compute the same objects without being told again.
 *
 * The library is an ES module: it is loaded with import() (Node 20 loads it
 * from this CommonJS code); the types come from it too.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { labObjects, labStatefulSets, type K8sObject } from './manifests';
import { faultsFromPolicies, labPolicies, policyName, withNetworkFault, type NetworkFaults } from './policies';
import { ADMIN_SECRET, CA_SECRET, makeLabSecrets, secretObjects, secretsFromObjects } from './secrets';
import { labHosts, OPTIONS_ANNOTATION, type K8sLab, type K8sOptions } from './lab';
import { LAB_LABEL } from './labels';

export const FIELD_MANAGER = 'mail-lab';
const CONNECT_TIMEOUT_MS = 10_000;

/** What the CLI says and exits 1 with (no stack trace). */
export class K8sEngineError extends Error {
  override readonly name = 'K8sEngineError';
}

export interface K8sConnection {
  k8s: typeof K8s;
  api: K8s.KubernetesObjectApi;
  /** The kubeconfig file, its context and the API server, for messages. */
  file: string;
  context: string;
  server: string;
  version: string;
}

type Log = (line: string) => void;

/** The kubeconfig to use: --kubeconfig, else the first file of KUBECONFIG, else ~/.kube/config. */
export function kubeconfigFile(given?: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = given ?? (env.KUBECONFIG ? env.KUBECONFIG.split(':').find(Boolean) : undefined) ?? join(homedir(), '.kube', 'config');
  if (!existsSync(file)) throw new K8sEngineError(`no kubeconfig at ${file}: give one with --kubeconfig FILE (or KUBECONFIG); it names the cluster's API server and your credentials`);
  return file;
}

/** Why a request failed, in a few words (an HTTP status with the API's message, or the socket error). */
function reason(e: unknown): string {
  const x = e as { code?: unknown; body?: unknown; message?: string; cause?: { code?: string } };
  if (typeof x.code === 'number') {
    let message = '';
    try {
      message = (typeof x.body === 'string' ? JSON.parse(x.body) : (x.body as { message?: string }))?.message ?? '';
    } catch {
      message = String(x.body ?? '').slice(0, 200);
    }
    return `HTTP ${x.code}${message ? `: ${message}` : ''}`;
  }
  return (x.message ?? String(e)).replace(/^request to \S+ failed, reason: /, '');
}

const httpStatus = (e: unknown) => (typeof (e as { code?: unknown }).code === 'number' ? ((e as { code: number }).code as number) : undefined);

/**
 * Loads the kubeconfig and asks the API server for its version: a cluster
 * that cannot be reached, or that refuses the credentials, is said here in
 * words, before anything is changed.
 */
export async function connect(kubeconfig?: string): Promise<K8sConnection> {
  const file = kubeconfigFile(kubeconfig);
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (e) {
    throw new K8sEngineError(`cannot read the kubeconfig ${file}: ${(e as Error).message}`);
  }
  const context = kc.getCurrentContext();
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new K8sEngineError(`the kubeconfig ${file} has no cluster for its current context "${context || '(none)'}"`);
  const where = `the Kubernetes API server ${server} (kubeconfig ${file}, context ${context})`;
  let timer: NodeJS.Timeout | undefined;
  try {
    const version = await Promise.race([
      kc.makeApiClient(k8s.VersionApi).getCode(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
    return { k8s, api: k8s.KubernetesObjectApi.makeApiClient(kc), file, context, server, version: version.gitVersion };
  } catch (e) {
    const status = httpStatus(e);
    if (status === 401 || status === 403) throw new K8sEngineError(`${where} refused the kubeconfig's credentials (${reason(e)})`);
    throw new K8sEngineError(`cannot reach ${where}: ${reason(e)}. Is the cluster running, and is this the kubeconfig and context you meant? (--kubeconfig FILE, KUBECONFIG; \`kubectl config current-context\`)`);
  } finally {
    clearTimeout(timer);
  }
}

/** A rendered object as the library's model (what `kubectl apply -f` reads from a file). */
const model = <T extends K8s.KubernetesObject>(c: K8sConnection, o: object): T => c.k8s.loadYaml<T>(JSON.stringify(o));

/** Server-side apply of one object (created when missing, made to match when present). */
async function apply(c: K8sConnection, o: K8sObject): Promise<void> {
  try {
    await c.api.patch(model(c, o), undefined, undefined, FIELD_MANAGER, true, c.k8s.PatchStrategy.ServerSideApply);
  } catch (e) {
    throw new K8sEngineError(`applying ${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}: ${reason(e)}`);
  }
}

/** The object, or undefined when the cluster has none. */
async function read<T extends K8s.KubernetesObject>(c: K8sConnection, apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> {
  try {
    return (await c.api.read({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } })) as T;
  } catch (e) {
    if (httpStatus(e) === 404) return undefined;
    throw new K8sEngineError(`reading ${kind} ${namespace ? `${namespace}/` : ''}${name}: ${reason(e)}`);
  }
}

async function remove(c: K8sConnection, o: K8sObject): Promise<boolean> {
  try {
    await c.api.delete(model(c, { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata!.name, namespace: o.metadata!.namespace } }), undefined, undefined, undefined, undefined, 'Background');
    return true;
  } catch (e) {
    if (httpStatus(e) === 404) return false;
    throw new K8sEngineError(`deleting ${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}: ${reason(e)}`);
  }
}

/** The lab's namespace as the cluster has it: missing, ours (with the options it was deployed with), or someone else's. */
export async function deployedNamespace(c: K8sConnection, lab: Pick<K8sLab, 'n' | 'namespace'>): Promise<{ state: 'missing' } | { state: 'ours'; options: Partial<K8sOptions> } | { state: 'foreign' }> {
  const ns = await read<K8s.V1Namespace>(c, 'v1', 'Namespace', lab.namespace);
  if (!ns) return { state: 'missing' };
  if (ns.metadata?.labels?.[LAB_LABEL] !== String(lab.n)) return { state: 'foreign' };
  let options: Partial<K8sOptions> = {};
  try {
    options = JSON.parse(ns.metadata?.annotations?.[OPTIONS_ANNOTATION] ?? '{}') as Partial<K8sOptions>;
  } catch {
    // an annotation edited by hand: the defaults
  }
  return { state: 'ours', options };
}

/** Deploys (or updates) lab N; returns when every StatefulSet is ready. */
export async function deployLab(c: K8sConnection, lab: K8sLab, o: { timeoutMs: number; log: Log }): Promise<{ elapsedMs: number; updated: boolean }> {
  const started = Date.now();
  const ns = await deployedNamespace(c, lab);
  if (ns.state === 'foreign') throw new K8sEngineError(`the namespace ${lab.namespace} exists on this cluster and is not mail-lab's lab ${lab.n} (no label ${LAB_LABEL}=${lab.n}); delete it or pick another --lab`);
  const updated = ns.state === 'ours';
  o.log(updated ? `lab ${lab.n} is already deployed in namespace ${lab.namespace}: bringing its objects up to date (its token, CA and data are kept)` : `deploying lab ${lab.n} in namespace ${lab.namespace} (${c.server}, Kubernetes ${c.version})`);
  const faults = updated ? await readNetworkFaults(c, lab) : undefined;
  const objects = labObjects(lab, faults);
  const [namespace, ...rest] = objects;
  await apply(c, namespace);
  // The Secrets: kept when there (a running lab's token and CA must not change), else made now.
  const existing = [await read<K8s.V1Secret>(c, 'v1', 'Secret', ADMIN_SECRET, lab.namespace), await read<K8s.V1Secret>(c, 'v1', 'Secret', CA_SECRET, lab.namespace)];
  if (existing.every(Boolean) && secretsFromObjects(existing as never[])) o.log('  secrets lab-admin and lab-ca: kept');
  else {
    for (const s of existing) if (s) await remove(c, s as K8sObject);
    for (const s of secretObjects(lab, await makeLabSecrets())) {
      try {
        await c.api.create(model(c, s), undefined, undefined, FIELD_MANAGER);
      } catch (e) {
        throw new K8sEngineError(`creating Secret ${lab.namespace}/${s.metadata?.name}: ${reason(e)}`);
      }
    }
    o.log('  secrets lab-admin (admin token) and lab-ca (lab CA): made');
  }
  for (const obj of rest) await apply(c, obj);
  o.log(`  applied ${objects.length} objects: ${[...new Set(objects.map((x) => x.kind))].join(', ')}`);
  await waitReady(c, lab, started + o.timeoutMs, o.log);
  return { elapsedMs: Date.now() - started, updated };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why a pod of the lab cannot become ready, when it says so (image not on the node, crashing). */
async function podTrouble(c: K8sConnection, lab: K8sLab): Promise<string[]> {
  const pods = await c.api.list<K8s.V1Pod>('v1', 'Pod', lab.namespace).catch(() => ({ items: [] as K8s.V1Pod[] }));
  const out: string[] = [];
  for (const p of pods.items) {
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
      const w = s.state?.waiting;
      if (!w?.reason) continue;
      if (['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull'].includes(w.reason)) out.push(`pod ${p.metadata?.name} on node ${p.spec?.nodeName ?? '?'}: the image ${s.image} is not on that node and cannot be pulled (${w.reason}); load it there (docs/cluster.md) or give --image from a registry the nodes reach`);
      else if (w.reason === 'CrashLoopBackOff' || w.reason.startsWith('Create')) out.push(`pod ${p.metadata?.name} (${s.name}): ${w.reason}${w.message ? `: ${w.message}` : ''}; \`kubectl -n ${lab.namespace} logs ${p.metadata?.name} -c ${s.name}\``);
    }
  }
  return out;
}

async function waitReady(c: K8sConnection, lab: K8sLab, deadline: number, log: Log): Promise<void> {
  const names = labStatefulSets(lab).map((s) => s.metadata!.name!);
  for (;;) {
    const sets = await c.api.list<K8s.V1StatefulSet>('apps/v1', 'StatefulSet', lab.namespace);
    const waiting = names.filter((n) => {
      const s = sets.items.find((x) => x.metadata?.name === n);
      return !s || (s.status?.readyReplicas ?? 0) < (s.spec?.replicas ?? 1);
    });
    if (!waiting.length) return;
    const trouble = await podTrouble(c, lab);
    if (trouble.some((t) => t.includes('cannot be pulled') || t.includes('CrashLoopBackOff'))) throw new K8sEngineError(`lab ${lab.n} cannot start:\n  ${trouble.join('\n  ')}`);
    if (Date.now() > deadline) throw new K8sEngineError(`lab ${lab.n}: not ready in time: ${waiting.join(', ')}${trouble.length ? `\n  ${trouble.join('\n  ')}` : ''} (\`kubectl -n ${lab.namespace} get pods\`)`);
    await sleep(2000);
    void log;
  }
}

/** Takes lab N down: its workloads, Services, policies and ConfigMap; with volumes, the whole namespace. */
export async function removeLab(c: K8sConnection, lab: K8sLab, o: { volumes?: boolean; log: Log }): Promise<string> {
  const ns = await deployedNamespace(c, lab);
  if (ns.state === 'missing') return `lab ${lab.n} is not deployed on this cluster (no namespace ${lab.namespace}); nothing to do`;
  if (ns.state === 'foreign') throw new K8sEngineError(`the namespace ${lab.namespace} is not mail-lab's lab ${lab.n}; not touching it`);
  if (o.volumes) {
    await remove(c, labObjects(lab)[0]);
    return `lab ${lab.n} removed: namespace ${lab.namespace} deleted with its data volumes, admin token and CA`;
  }
  let n = 0;
  for (const obj of labObjects(lab).slice(1).reverse()) if (await remove(c, obj)) n++;
  return `lab ${lab.n} stopped: ${n} objects deleted; namespace ${lab.namespace} keeps its data volumes, admin token and CA (\`down --volumes\` deletes them too)`;
}

/** The network faults in force, read from the hosts' NetworkPolicies. */
export async function readNetworkFaults(c: K8sConnection, lab: K8sLab): Promise<NetworkFaults> {
  const policies = [];
  for (const h of lab.mail) policies.push(await read<K8s.V1NetworkPolicy>(c, 'networking.k8s.io/v1', 'NetworkPolicy', policyName(h), lab.namespace));
  return faultsFromPolicies(lab, policies as never[]);
}

/** Applies (on) or clears a link cut or an isolation by switching the NetworkPolicies; says whether anything changed. */
export async function setNetworkFault(c: K8sConnection, lab: K8sLab, fault: { kind: 'link'; a: string; b: string } | { kind: 'isolate'; domain: string }, on: boolean): Promise<{ changed: boolean; faults: NetworkFaults }> {
  const ns = await deployedNamespace(c, lab);
  if (ns.state !== 'ours') throw new K8sEngineError(`lab ${lab.n} is not deployed on this cluster (no namespace ${lab.namespace} of mail-lab): \`npx mail-lab up --engine k8s --lab ${lab.n}\``);
  const r = withNetworkFault(lab, await readNetworkFaults(c, lab), fault, on);
  if (!r.changed) return r;
  // Every host's policy: a cut or an isolation changes the peer lists of several.
  for (const p of labPolicies(lab, r.faults).slice(1)) await apply(c, p as K8sObject);
  return r;
}

export interface LabStatus {
  sets: { name: string; ready: number; wanted: number }[];
  pods: { name: string; node: string; phase: string }[];
  faults: NetworkFaults;
}

export async function labStatus(c: K8sConnection, lab: K8sLab): Promise<LabStatus | undefined> {
  const ns = await deployedNamespace(c, lab);
  if (ns.state !== 'ours') return undefined;
  const sets = await c.api.list<K8s.V1StatefulSet>('apps/v1', 'StatefulSet', lab.namespace);
  const pods = await c.api.list<K8s.V1Pod>('v1', 'Pod', lab.namespace);
  return {
    sets: labHosts(lab).map((h) => {
      const s = sets.items.find((x) => x.metadata?.name === h.name);
      return { name: h.name, ready: s?.status?.readyReplicas ?? 0, wanted: s?.spec?.replicas ?? 0 };
    }),
    pods: pods.items.map((p) => ({ name: p.metadata?.name ?? '?', node: p.spec?.nodeName ?? '-', phase: p.status?.phase ?? '?' })),
    faults: await readNetworkFaults(c, lab),
  };
}
