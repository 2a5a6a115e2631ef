/**
 * `--engine k8s` (scripts/k8s/engine.ts, commands.ts) against a fake API
 * server of our own over real HTTP (fake-apiserver.ts), through the real CLI
 * (dist/, so `npm run build` first) and the real @kubernetes/client-node.
 * It checks the requests the client makes: server-side apply of exactly the
 * rendered objects (what the server receives equals what `render k8s`
 * writes: the library dropped no field it does not know), Secrets created
 * once and kept, the NetworkPolicies switched by break/heal/isolate, what
 * down deletes and keeps, and the words for a cluster that cannot be
 * reached. No Kubernetes cluster ran: scheduling, the CNI's enforcement of
 * the policies and the pods themselves are not tested here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { k8sLab } from '../../../scripts/k8s/lab';
import { labObjects } from '../../../scripts/k8s/manifests';
import { FakeApiServer } from './fake-apiserver';
import { LAB_FILE, labText, root } from './k8s-helpers';

jest.setTimeout(90_000);

const CLI = join(root, 'dist/scripts/cli.js');
const api = new FakeApiServer();
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/scripts/k8s/engine.js'))) throw new Error('dist/ is missing or old: run `npm run build` first');
  await api.start();
  dir = mkdtempSync(join(tmpdir(), 'mail-lab-kube-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfig());
});

afterAll(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], kc = kubeconfig): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const k of ['MAIL_LAB_ENGINE', 'MAIL_LAB_LAB', 'MAIL_LAB_CONFIG', 'KUBECONFIG']) delete env[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, '--engine', 'k8s', '--kubeconfig', kc, ...args], { cwd: root, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const lab = k8sLab(labText(), LAB_FILE, 3);
const json = (o: unknown) => JSON.parse(JSON.stringify(o));

test('up --engine k8s: server-side apply of exactly the rendered objects; the Secrets created once and then kept', async () => {
  const r = await cli(['--lab', '3', 'up', '--timeout', '20']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('deploying lab 3 in namespace mail-lab-03');
  expect(r.stdout).toContain('secrets lab-admin (admin token) and lab-ca (lab CA): made');
  expect(r.stdout).toMatch(/lab 3 is up on Kubernetes \(namespace mail-lab-03\)/);
  expect(r.stdout).toContain('dadali.com: smtp 30068');
  // Every object but the Secrets went as an apply patch with the field manager, forced, and arrived unchanged.
  const applies = api.requests.filter((q) => q.method === 'PATCH');
  for (const q of applies) {
    expect(q.contentType).toBe('application/apply-patch+yaml');
    expect(q.query.get('fieldManager')).toBe('mail-lab');
    expect(q.query.get('force')).toBe('true');
  }
  const rendered = labObjects(lab);
  expect(applies.map((q) => `${q.body!.kind}/${q.body!.metadata!.name}`)).toEqual(rendered.map((o) => `${o.kind}/${o.metadata!.name}`));
  for (const o of rendered) expect(applies.find((q) => q.body!.kind === o.kind && q.body!.metadata!.name === o.metadata!.name)!.body).toEqual(json(o));
  expect(applies.find((q) => q.path === '/apis/networking.k8s.io/v1/namespaces/mail-lab-03/networkpolicies/lab-mail-dadali')).toBeDefined();
  expect(applies.find((q) => q.path === '/api/v1/namespaces/mail-lab-03')).toBeDefined();
  // The Secrets: POSTed (created), with a token and a CA.
  const posts = api.requests.filter((q) => q.method === 'POST');
  expect(posts.map((q) => q.path)).toEqual(['/api/v1/namespaces/mail-lab-03/secrets', '/api/v1/namespaces/mail-lab-03/secrets']);
  const admin = api.get('Secret', 'mail-lab-03', 'lab-admin') as { data: Record<string, string> };
  const token = Buffer.from(admin.data.token, 'base64').toString();
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(Buffer.from((api.get('Secret', 'mail-lab-03', 'lab-ca') as { data: Record<string, string> }).data['ca.crt'], 'base64').toString()).toContain('BEGIN CERTIFICATE');
  // Again: the same lab number is updated in place, its Secrets kept.
  const before = api.requests.length;
  const again = await cli(['--lab', '3', 'up', '--timeout', '20']);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('lab 3 is already deployed in namespace mail-lab-03');
  expect(again.stdout).toContain('secrets lab-admin and lab-ca: kept');
  expect(api.requests.slice(before).filter((q) => q.method === 'POST' || q.method === 'DELETE')).toEqual([]);
  expect(Buffer.from((api.get('Secret', 'mail-lab-03', 'lab-admin') as { data: Record<string, string> }).data.token, 'base64').toString()).toBe(token);
});

test('break, isolate, heal, fault list, clear all --engine k8s switch the NetworkPolicies', async () => {
  const policy = (h: string) => api.get('NetworkPolicy', 'mail-lab-03', `lab-${h}`) as { metadata: { annotations?: Record<string, string> }; spec: { egress: { to: { podSelector: { matchExpressions: { values: string[] }[] } }[] }[] } };
  const peers = (h: string) => policy(h).spec.egress[0]?.to[0].podSelector.matchExpressions[0].values ?? [];
  expect(peers('mail-garudayaksa')).toEqual(['dns', 'mail-garudayaksa', 'mail-dadali', 'client']);

  const br = await cli(['--lab', '3', 'break', 'garudayaksa.com', 'dadali.com']);
  expect(br.code).toBe(0);
  expect(br.stdout).toMatch(/^link garudayaksa\.com <-> dadali\.com BROKEN \(NetworkPolicies/);
  expect(peers('mail-garudayaksa')).toEqual(['dns', 'mail-garudayaksa', 'client']);
  expect(peers('mail-dadali')).toEqual(['dns', 'mail-dadali', 'client']);
  expect(policy('mail-dadali').metadata.annotations).toEqual({ 'mail-lab/cut-links': 'garudayaksa.com' });
  expect((await cli(['--lab', '3', 'break', 'dadali.com', 'garudayaksa.com'])).stdout).toContain('already broken; nothing changed');

  const iso = await cli(['--lab', '3', 'fault', 'isolate', 'dadali.com']);
  expect(iso.stdout).toContain('fault isolate dadali.com applied');
  expect(policy('mail-dadali').spec.egress).toEqual([]);
  expect(peers('client')).toEqual(['dns', 'mail-garudayaksa', 'client']);

  const list = await cli(['--lab', '3', 'fault', 'list', '--json']);
  expect(JSON.parse(list.stdout)).toEqual({ cuts: [['dadali.com', 'garudayaksa.com']], isolated: ['dadali.com'] });

  const heal = await cli(['--lab', '3', 'heal', 'garudayaksa.com', 'dadali.com']);
  expect(heal.stdout).toContain('healed');
  const clear = await cli(['--lab', '3', 'fault', 'clear', 'all']);
  expect(clear.stdout).toContain('cleared 1 network fault(s)');
  expect(peers('mail-dadali')).toEqual(['dns', 'mail-garudayaksa', 'mail-dadali', 'client']);
  // Policies back to the rendered ones.
  for (const p of labObjects(lab).filter((o) => o.kind === 'NetworkPolicy')) expect(api.get('NetworkPolicy', 'mail-lab-03', p.metadata!.name!)).toEqual(json(p));

  // A fault the servers make themselves, and a command that needs an admin API: said, exit 2.
  const grey = await cli(['--lab', '3', 'fault', 'greylist', 'dadali.com']);
  expect(grey.code).toBe(2);
  expect(grey.stderr).toMatch(/fault greylist is made by the lab's servers through their admin APIs/);
  const queue = await cli(['--lab', '3', 'queue', 'dadali.com']);
  expect(queue.code).toBe(2);
  expect(queue.stderr).toContain('kubectl -n mail-lab-NN port-forward');
  const unknown = await cli(['--lab', '3', 'break', 'garudayaksa.com', 'example.com']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('unknown domain "example.com"');
});

test('status, then down keeps the namespace, Secrets and volumes; down --volumes deletes the namespace', async () => {
  const st = await cli(['--lab', '3', 'status']);
  expect(st.code).toBe(0);
  expect(st.stdout).toContain('lab 3 on Kubernetes v1.33.0-fake');
  expect(st.stdout).toContain('mail-dadali: 1/1 ready');
  expect(st.stdout).toContain('network faults: none');

  const down = await cli(['--lab', '3', 'down']);
  expect(down.code).toBe(0);
  expect(down.stdout).toMatch(/lab 3 stopped: 17 objects deleted; namespace mail-lab-03 keeps/);
  expect(api.list('StatefulSet', 'mail-lab-03')).toEqual([]);
  expect(api.list('NetworkPolicy', 'mail-lab-03')).toEqual([]);
  expect(api.list('Secret', 'mail-lab-03')).toHaveLength(2);
  expect(api.get('Namespace', undefined, 'mail-lab-03')).toBeDefined();

  const gone = await cli(['--lab', '3', 'down', '--volumes']);
  expect(gone.stdout).toContain('namespace mail-lab-03 deleted');
  expect(api.get('Namespace', undefined, 'mail-lab-03')).toBeUndefined();
  expect(api.list('Secret', 'mail-lab-03')).toEqual([]);
  expect((await cli(['--lab', '3', 'down'])).stdout).toContain('lab 3 is not deployed on this cluster (no namespace mail-lab-03)');
});

test('a pod whose image the node cannot pull is named', async () => {
  api.notReady = true;
  api.pods = [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'mail-dadali-0', namespace: 'mail-lab-04' },
      spec: { nodeName: 'node-b', containers: [] },
      status: { phase: 'Pending', containerStatuses: [{ name: 'mail', image: 'mail-lab/app:latest', ready: false, restartCount: 0, imageID: '', state: { waiting: { reason: 'ImagePullBackOff' } } }] },
    },
  ];
  try {
    const r = await cli(['--lab', '4', 'up', '--timeout', '20']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pod mail-dadali-0 on node node-b: the image mail-lab/app:latest is not on that node and cannot be pulled (ImagePullBackOff)');
  } finally {
    api.notReady = false;
    api.pods = [];
  }
});

test('a kubeconfig that cannot connect: a clear message, exit 1, nothing changed', async () => {
  // A port that was free a moment ago and is closed now.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const closed = join(dir, 'closed-kubeconfig');
  writeFileSync(closed, api.kubeconfig(`https://127.0.0.1:${port}`));
  const r = await cli(['--lab', '5', 'up'], closed);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`mail-lab: cannot reach the Kubernetes API server https://127.0.0.1:${port} (kubeconfig ${closed}, context fake): connect ECONNREFUSED 127.0.0.1:${port}. Is the cluster running, and is this the kubeconfig and context you meant?`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  // No kubeconfig at all.
  const none = await cli(['--lab', '5', 'status'], join(dir, 'missing'));
  expect(none.code).toBe(1);
  expect(none.stderr).toContain(`no kubeconfig at ${join(dir, 'missing')}: give one with --kubeconfig FILE`);
  // Wrong credentials.
  const wrong = join(dir, 'wrong-kubeconfig');
  writeFileSync(wrong, api.kubeconfig().replace(api.token, 'not-the-token'));
  const denied = await cli(['--lab', '5', 'status'], wrong);
  expect(denied.code).toBe(1);
  expect(denied.stderr).toMatch(/refused the kubeconfig's credentials \(HTTP 401/);
});
