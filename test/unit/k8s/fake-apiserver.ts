/**
 * A tiny Kubernetes API server for the tests, over real HTTPS on 127.0.0.1
 * (a certificate from a CA of its own, which the kubeconfig names, so the
 * client verifies the server as it would a real one):
 * enough of the API for what `--engine k8s` does (version, discovery, and
 * create/read/list/server-side apply/delete of the kinds a lab has), with
 * the checks a real one makes on the requests' shape: the bearer token,
 * the content type of an apply (application/apply-patch+yaml) with its
 * fieldManager, a body whose apiVersion, kind, name and namespace agree with
 * the URL, and a body valid against the Kubernetes schema (kubernetes-models;
 * 422 otherwise, as a real server answers an invalid object). Every request
 * is recorded. It is not Kubernetes: nothing is scheduled; a StatefulSet is
 * reported ready as soon as it is applied, unless `trouble` says otherwise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHostCertificate } from '../../../services/mail-domain/src/tls/pki';
import type { AddressInfo } from 'node:net';
import type { K8sObject } from '../../../scripts/k8s/manifests';
import { schemaProblems } from './k8s-helpers';

interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const RESOURCES: Resource[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true },
];

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body?: K8sObject;
}

export class FakeApiServer {
  readonly token = 'fake-token-for-tests';
  readonly requests: RecordedRequest[] = [];
  /** Objects by `group/version/namespace/plural/name`. */
  readonly objects = new Map<string, K8sObject>();
  /** Pods to report (e.g. one waiting on an image it cannot pull). */
  pods: K8sObject[] = [];
  /** When set, StatefulSets are never ready. */
  notReady = false;
  private server?: Server;
  private caPem = '';

  get url(): string {
    return `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'fake-apiserver-ca-'));
    try {
      const cert = await ensureHostCertificate({ dir, host: 'kubernetes.default' });
      this.caPem = cert.caPem;
      this.server = createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => void this.handle(req, res));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  kubeconfig(server = this.url): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: fake\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${Buffer.from(this.caPem).toString('base64')}`,
      'users:',
      `- name: teacher\n  user:\n    token: ${this.token}`,
      'contexts:',
      '- name: fake\n  context:\n    cluster: fake\n    user: teacher',
      'current-context: fake',
      '',
    ].join('\n');
  }

  /** The stored object (as the server keeps it; `any`, for the tests to look inside). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get(kind: string, namespace: string | undefined, name: string): any {
    const r = RESOURCES.find((x) => x.kind === kind)!;
    return this.objects.get(this.key(r, r.namespaced ? namespace : undefined, name));
  }

  list(kind: string, namespace?: string): K8sObject[] {
    return [...this.objects.values()].filter((o) => o.kind === kind && (namespace === undefined || o.metadata?.namespace === namespace));
  }

  private key(r: Resource, ns: string | undefined, name: string) {
    return `${r.group}/${r.version}/${ns ?? ''}/${r.plural}/${name}`;
  }

  private send(res: ServerResponse, code: number, body: unknown) {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string) {
    this.send(res, code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason, message, code });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const rec: RecordedRequest = { method: req.method!, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'] };
    if (text) {
      try {
        rec.body = JSON.parse(text) as K8sObject;
      } catch {
        this.requests.push(rec);
        return this.status(res, 400, 'BadRequest', `body is not JSON: ${text.slice(0, 80)}`);
      }
    }
    this.requests.push(rec);
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    const p = url.pathname;
    if (p === '/version') return this.send(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0-fake' });
    // Discovery.
    const disc = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p);
    if (disc && req.method === 'GET') {
      const [group, version] = disc[1] ? ['', disc[1]] : [disc[2], disc[3]];
      const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
      if (!resources.length) return this.status(res, 404, 'NotFound', `no API ${p}`);
      return this.send(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: group ? `${group}/${version}` : version,
        resources: resources.map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'] })),
      });
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(p);
    // `/api/v1/namespaces/<name>` is the namespace itself.
    let group: string, version: string, ns: string | undefined, plural: string, name: string | undefined;
    const nsItem = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(p);
    if (nsItem) [group, version, ns, plural, name] = ['', 'v1', undefined, 'namespaces', nsItem[1]];
    else if (m) [group, version, ns, plural, name] = [m[1] ? '' : m[2], m[1] ?? m[3], m[4], m[5], m[6]];
    else return this.status(res, 404, 'NotFound', `no route ${p}`);
    const r = RESOURCES.find((x) => x.group === group && x.version === version && x.plural === plural);
    if (!r) return this.status(res, 404, 'NotFound', `no resource ${plural} in ${group}/${version}`);
    if (r.namespaced !== (ns !== undefined)) return this.status(res, 404, 'NotFound', `${plural} is ${r.namespaced ? '' : 'not '}namespaced`);
    if (ns && r.kind !== 'Namespace' && !this.objects.has(this.key(RESOURCES[0], undefined, ns)) && req.method !== 'GET' && req.method !== 'DELETE') return this.status(res, 404, 'NotFound', `namespaces "${ns}" not found`);
    const apiVersion = group ? `${group}/${version}` : version;

    const checkBody = (wantName?: string): string | undefined => {
      const b = rec.body;
      if (!b) return 'no body';
      if (b.apiVersion !== apiVersion || b.kind !== r.kind) return `body is ${b.apiVersion} ${b.kind}, the URL says ${apiVersion} ${r.kind}`;
      if (wantName && b.metadata?.name !== wantName) return `body names ${b.metadata?.name}, the URL ${wantName}`;
      if ((b.metadata?.namespace ?? undefined) !== ns) return `body's namespace ${b.metadata?.namespace} is not the URL's ${ns}`;
      const problems = schemaProblems(b);
      return problems.length ? problems.join('; ') : undefined;
    };
    const store = (b: K8sObject) => {
      const o = JSON.parse(JSON.stringify(b)) as K8sObject & { data?: Record<string, string>; stringData?: Record<string, string>; spec?: { replicas?: number }; status?: unknown };
      if (o.kind === 'Secret' && o.stringData) {
        o.data = { ...(o.data ?? {}), ...Object.fromEntries(Object.entries(o.stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
        delete o.stringData;
      }
      if (o.kind === 'StatefulSet') o.status = { replicas: o.spec?.replicas ?? 1, readyReplicas: this.notReady ? 0 : (o.spec?.replicas ?? 1) };
      this.objects.set(this.key(r, ns, o.metadata!.name!), o);
      return o;
    };

    if (!name) {
      if (req.method === 'GET') {
        const items = r.kind === 'Pod' ? this.pods.filter((x) => x.metadata?.namespace === ns) : this.list(r.kind, ns);
        return this.send(res, 200, { apiVersion, kind: `${r.kind}List`, metadata: {}, items });
      }
      if (req.method === 'POST') {
        const bad = checkBody();
        if (bad) return this.status(res, 422, 'Invalid', bad);
        if (this.objects.has(this.key(r, ns, rec.body!.metadata!.name!))) return this.status(res, 409, 'AlreadyExists', `${plural} "${rec.body!.metadata!.name}" already exists`);
        return this.send(res, 201, store(rec.body!));
      }
      return this.status(res, 405, 'MethodNotAllowed', req.method!);
    }
    const k = this.key(r, ns, name);
    switch (req.method) {
      case 'GET':
        return this.objects.has(k) ? this.send(res, 200, this.objects.get(k)) : this.status(res, 404, 'NotFound', `${plural} "${name}" not found`);
      case 'PATCH': {
        if (rec.contentType !== 'application/apply-patch+yaml') return this.status(res, 415, 'UnsupportedMediaType', `this fake takes server-side apply only, not ${rec.contentType}`);
        if (!url.searchParams.get('fieldManager')) return this.status(res, 422, 'Invalid', 'fieldManager is required for apply patch');
        const bad = checkBody(name);
        if (bad) return this.status(res, 422, 'Invalid', bad);
        return this.send(res, 200, store(rec.body!));
      }
      case 'DELETE': {
        if (!this.objects.has(k)) return this.status(res, 404, 'NotFound', `${plural} "${name}" not found`);
        this.objects.delete(k);
        if (r.kind === 'Namespace') for (const [key, o] of this.objects) if (o.metadata?.namespace === name) this.objects.delete(key);
        return this.send(res, 200, { apiVersion: 'v1', kind: 'Status', status: 'Success' });
      }
      default:
        return this.status(res, 405, 'MethodNotAllowed', req.method!);
    }
  }
}
