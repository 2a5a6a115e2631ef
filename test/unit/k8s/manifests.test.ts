/**
 * The Kubernetes manifests of the labs (issue 14; scripts/k8s/): rendered,
 * never run here (no cluster can be installed on these machines). Every
 * object of labs 0 to 90 is validated against the Kubernetes OpenAPI schema
 * (kubernetes-models 4.5.1: Kubernetes 1.33), and the tests check what the
 * schema cannot: labels and selectors tie together, no two labs share a
 * namespace, an address or a node port, the security contexts are as the
 * docs say, and the NetworkPolicies isolate the lab and express break/heal
 * and isolate.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseLabConfig } from '../../../services/core/src/config';
import { deriveLab, MAX_LAB } from '../../../services/core/src/labs';
import { K8sLabError, k8sLab, K8S_DEFAULTS, MAIL_LAB_UID, type K8sLab } from '../../../scripts/k8s/lab';
import { labObjects, toYaml, type K8sObject } from '../../../scripts/k8s/manifests';
import { faultsFromPolicies, labPolicies, NO_FAULTS, withNetworkFault, type NetworkFaults } from '../../../scripts/k8s/policies';
import { makeLabSecrets, secretObjects, type LabSecrets } from '../../../scripts/k8s/secrets';
import { renderK8sLab, secretsOfFile } from '../../../scripts/k8s/render';
import { HOST_LABEL } from '../../../scripts/k8s/labels';
import { allowed, inCidr, labText, LAB_FILE, matches, schemaProblems, type Endpoint, type Policy } from './k8s-helpers';

const text = labText();
const labs: K8sLab[] = Array.from({ length: MAX_LAB + 1 }, (_, n) => k8sLab(text, LAB_FILE, n));
let secrets: LabSecrets;
const objectsOf = (lab: K8sLab) => [...labObjects(lab), ...secretObjects(lab, secrets)] as K8sObject[];

beforeAll(async () => {
  secrets = await makeLabSecrets();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind) as Any[];

test('every object of labs 0 to 90 is valid against the Kubernetes OpenAPI schema, as objects and as the YAML written', async () => {
  const problems: string[] = [];
  for (const lab of labs) for (const o of objectsOf(lab)) problems.push(...schemaProblems(o));
  expect(problems).toEqual([]);
  // What `render k8s` writes, read back from the files.
  const dir = mkdtempSync(join(tmpdir(), 'mail-lab-k8s-'));
  try {
    const r = await renderK8sLab(text, LAB_FILE, 7, dir);
    const docs = [...parseAllDocuments(readFileSync(r.manifest, 'utf8')), ...parseAllDocuments(readFileSync(r.secretsFile, 'utf8'))].map((d) => d.toJSON() as K8sObject);
    // The secrets file repeats the Namespace, so either file may be applied first.
    expect(docs.map((d) => d.kind).sort()).toEqual([...objectsOf(labs[7]).map((o) => o.kind), 'Namespace'].sort());
    expect(docs.flatMap(schemaProblems)).toEqual([]);
    // A broken object is caught (the check is not a no-op).
    const svc = docs.find((d) => d.kind === 'Service') as Any;
    expect(schemaProblems({ ...svc, spec: { ...svc.spec, externalTrafficPolicy: 'Everywhere', ports: [{ port: '25' }] } }).join()).toMatch(/externalTrafficPolicy.*allowed values.*port must be integer|port must be integer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('labels and selectors tie together: StatefulSets, Services, ports, volumes, NetworkPolicies', () => {
  for (const lab of labs) {
    const objects = objectsOf(lab);
    expect(new Set(objects.map((o) => o.metadata!.namespace ?? o.metadata!.name))).toEqual(new Set([lab.namespace]));
    const sets = byKind(objects, 'StatefulSet');
    const services = byKind(objects, 'Service');
    const configMaps = byKind(objects, 'ConfigMap').map((c) => c.metadata.name);
    const secretNames = byKind(objects, 'Secret').map((s) => s.metadata.name);
    const templates = sets.map((s) => s.spec.template);
    for (const s of sets) {
      // The selector matches its own template, and no other StatefulSet's.
      expect(matches(s.spec.selector, s.spec.template.metadata.labels)).toBe(true);
      expect(sets.filter((o) => matches(s.spec.selector, o.spec.template.metadata.labels))).toEqual([s]);
      expect(services.map((x) => x.metadata.name)).toContain(s.spec.serviceName);
      const pod = s.spec.template.spec;
      const volumes = [...(pod.volumes ?? []).map((v: Any) => v.name), ...(s.spec.volumeClaimTemplates ?? []).map((c: Any) => c.metadata.name)];
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) for (const m of c.volumeMounts ?? []) expect(volumes).toContain(m.name);
      for (const v of pod.volumes ?? []) {
        if (v.configMap) expect(configMaps).toContain(v.configMap.name);
        if (v.secret) expect(secretNames).toContain(v.secret.secretName);
      }
    }
    for (const svc of services) {
      // Each Service selects exactly one StatefulSet's pods, and each of its ports is a port of that pod.
      const selected = sets.filter((s) => matches({ matchLabels: svc.spec.selector }, s.spec.template.metadata.labels));
      expect(selected).toHaveLength(1);
      const containerPorts = selected[0].spec.template.spec.containers.flatMap((c: Any) => c.ports ?? []);
      for (const p of svc.spec.ports ?? []) expect(containerPorts).toContainEqual(expect.objectContaining({ containerPort: p.targetPort, protocol: p.protocol }));
    }
    for (const p of byKind(objects, 'NetworkPolicy')) {
      expect(templates.some((t) => matches(p.spec.podSelector, t.metadata.labels))).toBe(true);
      for (const r of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) {
        for (const peer of [...(r.from ?? []), ...(r.to ?? [])]) if (peer.podSelector) expect(templates.some((t) => matches(peer.podSelector, t.metadata.labels))).toBe(true);
      }
    }
    // Every pod is selected by the default deny and by its own policy.
    for (const t of templates) expect(byKind(objects, 'NetworkPolicy').filter((p) => matches(p.spec.podSelector, t.metadata.labels)).map((p) => p.metadata.name)).toEqual(['lab-default-deny', `lab-${t.metadata.labels[HOST_LABEL]}`]);
  }
});

test('no two labs share a namespace, a backbone address or a node port; node ports stay in 30000-32767', () => {
  const namespaces = labs.map((l) => l.namespace);
  expect(new Set(namespaces).size).toBe(labs.length);
  const nodePorts: number[] = [];
  const addresses: string[] = [];
  for (const lab of labs) {
    for (const svc of byKind(labObjects(lab), 'Service')) {
      if (svc.spec.type === 'NodePort') nodePorts.push(...new Set<number>(svc.spec.ports.map((p: Any) => p.nodePort)));
      else if (svc.spec.clusterIP !== 'None') addresses.push(svc.spec.clusterIP);
    }
  }
  expect(new Set(nodePorts).size).toBe(nodePorts.length);
  expect(Math.min(...nodePorts)).toBeGreaterThanOrEqual(30000);
  expect(Math.max(...nodePorts)).toBeLessThanOrEqual(32767);
  expect(new Set(addresses).size).toBe(addresses.length);
  for (const a of addresses) expect(inCidr(a, K8S_DEFAULTS.serviceCidr)).toBe(true);
  expect(labs[3].subnet).toBe('10.96.103.0/24');
  expect(labs[3].dns.nodePorts[0].nodePort).toBe(30060);
});

test("the ConfigMap's lab definition is lab N at its ClusterIPs and node ports; the pods resolve through the lab DNS", () => {
  for (const lab of [labs[0], labs[3], labs[90]]) {
    const objects = labObjects(lab);
    const cm = byKind(objects, 'ConfigMap')[0];
    const config = parseLabConfig(cm.data['lab.yaml'], 'cm').config;
    const clusterIp = (name: string) => byKind(objects, 'Service').find((s) => s.metadata.name === name).spec.clusterIP;
    expect(config.dns.address).toBe(clusterIp('dns'));
    for (const d of config.domains) {
      expect(d.address).toBe(clusterIp(`mail-${d.name.split('.')[0]}`));
      const pub = byKind(objects, 'Service').find((s) => s.metadata.name === `mail-${d.name.split('.')[0]}-public`);
      expect(pub.spec.ports.find((p: Any) => p.name === 'smtp').nodePort).toBe(d.ports.smtp);
      // The www A record follows its host, as deriveLab moves it.
      expect(d.records.find((r) => r.name === 'www')).toMatchObject({ value: d.address });
      // Admin ports: lab N's host ports (for kubectl port-forward), as in Compose.
      expect(d.ports.admin).toBe(deriveLab(parseLabConfig(text).config, lab.n).domains.find((x) => x.name === d.name)!.ports.admin);
    }
    // The rest of the definition is untouched, comments included.
    expect(cm.data['lab.yaml']).toContain('# password of every account: rahasia123');
    expect(config.domains[0].accounts).toEqual(parseLabConfig(text).config.domains[0].accounts);
    for (const s of byKind(objects, 'StatefulSet')) {
      expect(s.spec.template.spec.dnsPolicy).toBe('None');
      expect(s.spec.template.spec.dnsConfig.nameservers).toEqual([clusterIp('dns')]);
      for (const c of s.spec.template.spec.containers) expect(c.env).toContainEqual({ name: 'MAIL_LAB_LAB', value: '0' });
    }
  }
});

test('security contexts: non-root, every capability dropped, NET_ADMIN only in the mail containers, no exec probes, TCP readiness', () => {
  for (const lab of labs) {
    for (const s of byKind(labObjects(lab), 'StatefulSet')) {
      const pod = s.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: MAIL_LAB_UID, runAsGroup: MAIL_LAB_UID, seccompProfile: { type: 'RuntimeDefault' } });
      expect(MAIL_LAB_UID).not.toBe(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pod[k]).toBeUndefined();
      expect((pod.volumes ?? []).filter((v: Any) => v.hostPath)).toEqual([]);
      const mail = s.metadata.labels['app.kubernetes.io/component'] === 'mail-domain';
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const sc = c.securityContext;
        expect(sc.capabilities.drop).toEqual(['ALL']);
        expect(sc.privileged).toBe(false);
        expect(sc.runAsUser ?? pod.securityContext.runAsUser).not.toBe(0);
        const isMailServer = mail && c.name === 'mail';
        // The image's iptables/tc get NET_ADMIN from their file capability: it must be in the bounding set, and exec must
        // be allowed to raise it (no_new_privs, i.e. allowPrivilegeEscalation false, would stop that).
        expect(sc.capabilities.add ?? []).toEqual(isMailServer ? ['NET_ADMIN'] : []);
        expect(sc.allowPrivilegeEscalation).toBe(isMailServer);
        for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) expect(c[probe]?.exec).toBeUndefined();
        if (c.ports?.length) {
          expect(c.readinessProbe.tcpSocket.port).toBe(c.ports.find((p: Any) => p.name === 'admin').containerPort);
        }
      }
    }
  }
});

const hostOf = (lab: K8sLab, name: string): Endpoint => ({ namespace: lab.namespace, ip: '10.244.1.5', labels: { 'app.kubernetes.io/name': 'mail-lab', [HOST_LABEL]: name } });
const STUDENT: Endpoint = { ip: '192.168.10.23' };

function reach(lab: K8sLab, faults: NetworkFaults) {
  const policies = labPolicies(lab, faults) as Policy[];
  return (from: string | Endpoint, to: string, port: number, protocol = 'TCP') => allowed(policies, typeof from === 'string' ? hostOf(lab, from) : from, hostOf(lab, to), port, protocol);
}

test("the lab's isolation: in from the lab and from outside the cluster on the students' ports; nothing from other namespaces; out only to the lab", () => {
  const lab = labs[3];
  const other = labs[4];
  const can = reach(lab, NO_FAULTS);
  const policies = [...labPolicies(lab), ...labPolicies(other)] as Policy[];
  // Inside the lab: everything (the backbone).
  expect(can('mail-garudayaksa', 'mail-dadali', 25)).toBe(true);
  expect(can('client', 'mail-dadali', 143)).toBe(true);
  expect(can('mail-dadali', 'dns', 53, 'UDP')).toBe(true);
  expect(can('client', 'mail-dadali', 8080)).toBe(true);
  // Students: the public ports, not the admin API.
  expect(can(STUDENT, 'mail-dadali', 25)).toBe(true);
  expect(can(STUDENT, 'mail-dadali', 993)).toBe(true);
  expect(can(STUDENT, 'dns', 53, 'UDP')).toBe(true);
  expect(can(STUDENT, 'mail-dadali', 8080)).toBe(false);
  expect(can(STUDENT, 'dns', 8053)).toBe(false);
  expect(can(STUDENT, 'client', 22)).toBe(false);
  // Another lab's pods (another namespace, an address in the pod CIDR): nothing, not even the public ports.
  expect(allowed(policies, hostOf(other, 'client'), hostOf(lab, 'mail-dadali'), 25)).toBe(false);
  expect(allowed(policies, hostOf(other, 'mail-dadali'), hostOf(lab, 'dns'), 53, 'UDP')).toBe(false);
  // Out: only to the lab's pods (the lab DNS among them); not the cluster DNS, not the internet.
  const kubeDns: Endpoint = { namespace: 'kube-system', ip: '10.244.0.3', labels: { 'k8s-app': 'kube-dns' } };
  expect(allowed(policies, hostOf(lab, 'mail-dadali'), kubeDns, 53, 'UDP')).toBe(false);
  expect(allowed(policies, hostOf(lab, 'client'), { ip: '93.184.216.34' }, 443)).toBe(false);
  // A pod nobody planned, in the lab's namespace: the default deny shuts it off.
  const stray: Endpoint = { namespace: lab.namespace, ip: '10.244.2.9', labels: { run: 'debug' } };
  expect(allowed(policies, stray, hostOf(lab, 'mail-dadali'), 25)).toBe(false);
  expect(allowed(policies, hostOf(lab, 'client'), stray, 80)).toBe(false);
});

test('break/heal: mail.garudayaksa ↮ mail.dadali, both still reach the DNS and the client; heal puts it back', () => {
  const lab = labs[3];
  const broken = withNetworkFault(lab, NO_FAULTS, { kind: 'link', a: 'garudayaksa.com', b: 'dadali.com' }, true);
  expect(broken).toEqual({ changed: true, faults: { cuts: [['dadali.com', 'garudayaksa.com']], isolated: [] } });
  const can = reach(lab, broken.faults);
  expect(can('mail-garudayaksa', 'mail-dadali', 25)).toBe(false);
  expect(can('mail-dadali', 'mail-garudayaksa', 25)).toBe(false);
  expect(can('mail-garudayaksa', 'dns', 53, 'UDP')).toBe(true);
  expect(can('client', 'mail-dadali', 587)).toBe(true);
  expect(can('client', 'mail-garudayaksa', 587)).toBe(true);
  expect(can(STUDENT, 'mail-dadali', 25)).toBe(true);
  // The fault is read back from the policies (their annotations), and applying it again changes nothing.
  expect(faultsFromPolicies(lab, labPolicies(lab, broken.faults))).toEqual(broken.faults);
  expect(withNetworkFault(lab, broken.faults, { kind: 'link', a: 'dadali.com', b: 'garudayaksa.com' }, true).changed).toBe(false);
  const healed = withNetworkFault(lab, broken.faults, { kind: 'link', a: 'dadali.com', b: 'garudayaksa.com' }, false);
  expect(healed).toEqual({ changed: true, faults: NO_FAULTS });
  expect(labPolicies(lab, healed.faults)).toEqual(labPolicies(lab));
  expect(() => withNetworkFault(lab, NO_FAULTS, { kind: 'link', a: 'garudayaksa.com', b: 'example.com' }, true)).toThrow(/unknown domain "example.com"/);
});

test('isolate dadali: no lab host reaches it nor it them (DNS included); its public ports still answer students', () => {
  const lab = labs[3];
  const iso = withNetworkFault(lab, NO_FAULTS, { kind: 'isolate', domain: 'dadali.com' }, true);
  const can = reach(lab, iso.faults);
  for (const h of ['mail-garudayaksa', 'client', 'dns']) {
    expect(can(h, 'mail-dadali', 25)).toBe(false);
    expect(can('mail-dadali', h, h === 'dns' ? 53 : 25, h === 'dns' ? 'UDP' : 'TCP')).toBe(false);
  }
  expect(can('mail-garudayaksa', 'dns', 53, 'UDP')).toBe(true);
  expect(can(STUDENT, 'mail-dadali', 110)).toBe(true);
  expect(faultsFromPolicies(lab, labPolicies(lab, iso.faults))).toEqual(iso.faults);
  const both = withNetworkFault(lab, iso.faults, { kind: 'link', a: 'garudayaksa.com', b: 'dadali.com' }, true).faults;
  expect(faultsFromPolicies(lab, labPolicies(lab, both))).toEqual(both);
  // Clearing the isolation leaves the cut link cut.
  const cleared = withNetworkFault(lab, both, { kind: 'isolate', domain: 'dadali.com' }, false).faults;
  expect(reach(lab, cleared)('mail-dadali', 'dns', 53, 'UDP')).toBe(true);
  expect(reach(lab, cleared)('mail-dadali', 'mail-garudayaksa', 25)).toBe(false);
});

test('render k8s writes the manifest and a 0600 secrets file, and keeps that file when rendering again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mail-lab-k8s-'));
  try {
    const first = await renderK8sLab(text, LAB_FILE, 2, dir);
    expect(first.newSecrets).toBe(true);
    expect(statSync(first.secretsFile).mode & 0o777).toBe(0o600);
    const manifest = readFileSync(first.manifest, 'utf8');
    expect(manifest).not.toMatch(/PRIVATE KEY|kind: Secret/);
    expect(manifest).toMatch(/^# mail-lab, lab 2 on Kubernetes: namespace mail-lab-02, backbone 10\.96\.102\.0\/24/);
    expect(manifest).toContain('RENDERED from lab-scenarios/lab.yaml by');
    expect(manifest).toContain('#   garudayaksa.com smtp         node port 30041\n');
    const kept = secretsOfFile(first.secretsFile)!;
    expect(kept.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await renderK8sLab(text, LAB_FILE, 2, dir);
    expect(again.newSecrets).toBe(false);
    expect(secretsOfFile(again.secretsFile)).toEqual(kept);
    expect(readFileSync(again.manifest, 'utf8')).toBe(manifest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('options that do not fit say so', () => {
  expect(() => k8sLab(text, LAB_FILE, 3, { serviceCidr: '10.96.0.0/20' })).toThrow(K8sLabError);
  expect(() => k8sLab(text, LAB_FILE, 3, { serviceCidr: '10.96.0.0/20' })).toThrow(/must be a \/16 or larger/);
  expect(() => k8sLab(text, LAB_FILE, 3, { serviceCidr: 'ten' })).toThrow(/IPv4 CIDR/);
  expect(() => k8sLab(text, LAB_FILE, 90, { nodePortBase: 31000 })).toThrow(/lab 90: the lab DNS would be node port 32800, above the cluster's highest \(32767\)/);
  expect(k8sLab(text, LAB_FILE, 1, { serviceCidr: '10.43.0.0/16' }).dns.address).toBe('10.43.101.53');
  expect(toYaml([{ a: 1 }])).toBe('---\na: 1\n');
});
