/**
 * Lab N on Kubernetes (issue 14): where its hosts are and which node ports
 * its students use, made from the lab definition as the compose renderer
 * makes lab N (scripts/compose/render.ts, services/core/src/labs.ts).
 *
 * Addresses. The services know each other's addresses from the lab
 * definition (the lab DNS serves them as A and PTR records, the mail servers
 * ask the lab DNS by its address), and a pod's own address is known only
 * after it starts, changes when it is rescheduled, and cannot be chosen. A
 * Service's ClusterIP can be chosen (`spec.clusterIP`) and never changes
 * while the Service exists. So every host of lab N gets a Service with a
 * fixed ClusterIP, taken from the cluster's Service CIDR: lab N's backbone
 * is the (100+N)-th /24 of that range (10.96.0.0/12, kubeadm's default:
 * lab 3 is 10.96.103.0/24), and each address keeps its host part as in
 * Compose (`dns` .53, `mail.garudayaksa.com` .10, `mail.dadali.com` .20).
 * The lab definition in the lab's ConfigMap carries these addresses, so the
 * lab DNS serves them, the pods use it as their only resolver
 * (`dnsPolicy: None`), and no service code knows it runs on Kubernetes.
 *
 * Ports. Students reach a lab through NodePort Services, numbered from
 * `nodePortBase` (30000, the start of the default node-port range) in a
 * block of 20 ports per lab: lab N's block starts at 30000 + 20·N, the DNS
 * first, then each domain's ports (smtp, submission, pop3, imap, smtps,
 * imaps, pop3s). Labs 0 to 90 use 30000-31819, so no two labs share a node
 * port. The admin APIs get no node port: a node port is open on every
 * address of every node, and Compose publishes them on 127.0.0.1 only.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { parseLabConfig, type DomainConfig, type LabConfig } from '../../services/core/src/config';
import { baseSubnet, deriveLab, labProject, MAX_LAB } from '../../services/core/src/labs';
import { mailService, shortName } from '../compose/render';
import { APP_IMAGE } from '../lab-docker';

/** What differs from one cluster to another (all have defaults; `render k8s` takes them as options). */
export interface K8sOptions {
  /** The cluster's Service CIDR (kube-apiserver --service-cluster-ip-range): the fixed ClusterIPs come from it. */
  serviceCidr: string;
  /** The cluster's pod CIDR: the NetworkPolicies let everything in from outside the cluster but not from it. */
  podCidr: string;
  /** The first node port; lab N uses 20 ports from nodePortBase + 20·N. */
  nodePortBase: number;
  /** The highest node port the cluster allows (kube-apiserver --service-node-port-range). */
  nodePortMax: number;
  /** The lab image; it must be on every node or in a registry they reach. */
  image: string;
  /** The StorageClass of the data and CA volumes; the cluster's default when not given. */
  storageClass?: string;
}

export const K8S_DEFAULTS: K8sOptions = {
  serviceCidr: '10.96.0.0/12',
  podCidr: '10.244.0.0/16',
  nodePortBase: 30000,
  nodePortMax: 32767,
  image: APP_IMAGE,
};

/** The namespace annotation with the options a lab was rendered with (those that differ from the defaults). */
export const OPTIONS_ANNOTATION = 'mail-lab/options';

/** The options to keep on the namespace, so `down`, `status` and the faults compute the same objects. */
export const optionsAnnotation = (o: K8sOptions) => JSON.stringify(Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && v !== (K8S_DEFAULTS as unknown as Record<string, unknown>)[k])));

/** Node ports per lab: lab N's block starts at nodePortBase + NODE_PORT_STRIDE·N. */
export const NODE_PORT_STRIDE = 20;
/** Lab N's backbone is this /24 of the Service CIDR, plus N. */
export const BLOCK_OFFSET = 100;

/** The uid and gid of `mail-lab` in the image (useradd --system on Debian bookworm: 999). */
export const MAIL_LAB_UID = 999;

/** Bad options or a definition that does not fit the cluster: the CLI prints it and exits 2. */
export class K8sLabError extends Error {
  override readonly name = 'K8sLabError';
}

/** Container port of each port of a domain (as in Compose). */
export const CONTAINER_PORT = { smtp: 25, submission: 587, pop3: 110, imap: 143, smtps: 465, imaps: 993, pop3s: 995, admin: 8080 } as const;
/** The ports students reach, in node-port order (not admin). */
export const PUBLIC_PORTS = ['smtp', 'submission', 'pop3', 'imap', 'smtps', 'imaps', 'pop3s'] as const;
export type PublicPort = (typeof PUBLIC_PORTS)[number];
export const DNS_ADMIN_PORT = 8053;

/** A port a student reaches: its service port, the container port behind it, its node port. */
export interface NodePortEntry {
  name: string;
  protocol: 'TCP' | 'UDP';
  port: number;
  nodePort: number;
  what: string;
}

/** One host of the lab: a StatefulSet of one pod and the Services in front of it. */
export interface K8sHost {
  /** `dns`, `mail-garudayaksa`, `client`: the StatefulSet, its pod label and its backbone Service. */
  name: string;
  component: 'dns' | 'mail-domain' | 'client';
  /** The fixed ClusterIP (the address in the ConfigMap's lab definition). */
  address: string;
  /** The domain a mail host serves. */
  domain?: DomainConfig;
  /** What students reach through the NodePort Service (none for the client). */
  nodePorts: NodePortEntry[];
}

export interface K8sLab {
  n: number;
  namespace: string;
  /** The backbone: the lab's /24 of the Service CIDR. */
  subnet: string;
  options: K8sOptions;
  /** The lab definition as the pods get it: Kubernetes addresses, node ports for the students' ports. */
  config: LabConfig;
  /** Its text (the original file with only those values changed, comments kept): the ConfigMap's lab.yaml. */
  labYaml: string;
  dns: K8sHost;
  mail: K8sHost[];
  client: K8sHost;
}

const ipToInt = (ip: string) => ip.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** `10.96.0.0/12` -> its first address as a number and its prefix length; throws K8sLabError when it is no IPv4 CIDR. */
export function parseCidr(cidr: string, what: string): { base: number; bits: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || isIP(m[1]) !== 4 || Number(m[2]) > 32) throw new K8sLabError(`${what} must be an IPv4 CIDR such as 10.96.0.0/12 (got "${cidr}")`);
  const bits = Number(m[2]);
  const size = 2 ** (32 - bits);
  return { base: ipToInt(m[1]) - (ipToInt(m[1]) % size), bits };
}

/** Lab N's backbone: the (100+N)-th /24 of the Service CIDR (`10.96.103.0/24` for lab 3 of 10.96.0.0/12). */
export function k8sSubnet(serviceCidr: string, n: number): string {
  const { base, bits } = parseCidr(serviceCidr, '--service-cidr');
  if (bits > 16) throw new K8sLabError(`--service-cidr ${serviceCidr} is too small: the labs take the /24 blocks ${BLOCK_OFFSET} to ${BLOCK_OFFSET + MAX_LAB} of it, so it must be a /16 or larger (kubeadm's default is 10.96.0.0/12, k3s's 10.43.0.0/16)`);
  return `${intToIp(base + (BLOCK_OFFSET + n) * 256)}/24`;
}

/** The node ports of lab N, in order: the DNS (UDP and TCP share the number), then each domain's public ports. */
function nodePortsOf(config: LabConfig, n: number, o: K8sOptions): { dns: NodePortEntry[]; domains: NodePortEntry[][] } {
  const first = o.nodePortBase + NODE_PORT_STRIDE * n;
  let next = first;
  const take = (what: string) => {
    const p = next++;
    if (p - first >= NODE_PORT_STRIDE) throw new K8sLabError(`the lab definition has more public ports than the ${NODE_PORT_STRIDE} node ports a lab gets (the DNS and 7 per domain fit two domains)`);
    if (p > o.nodePortMax) throw new K8sLabError(`lab ${n}: ${what} would be node port ${p}, above the cluster's highest (${o.nodePortMax}); use a lower lab number or --node-port-base`);
    return p;
  };
  const dnsPort = take('the lab DNS');
  const dns: NodePortEntry[] = [
    { name: 'dns-udp', protocol: 'UDP', port: 53, nodePort: dnsPort, what: 'lab DNS (UDP)' },
    { name: 'dns-tcp', protocol: 'TCP', port: 53, nodePort: dnsPort, what: 'lab DNS (TCP)' },
  ];
  const domains = config.domains.map((d) =>
    PUBLIC_PORTS.filter((k) => d.ports[k] !== undefined).map((k): NodePortEntry => ({ name: k, protocol: 'TCP', port: CONTAINER_PORT[k], nodePort: take(`${d.name} ${k}`), what: `${d.name} ${k}` })),
  );
  return { dns, domains };
}

/**
 * Lab N of a lab definition on Kubernetes. `text` is the definition file's
 * text (`file` names it in messages); the result's `labYaml` is the same
 * text with the addresses and ports of lab N on Kubernetes, checked by
 * parsing it again.
 */
export function k8sLab(text: string, file: string, n: number, options: Partial<K8sOptions> = {}): K8sLab {
  const o: K8sOptions = { ...K8S_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (!Number.isInteger(n) || n < 0 || n > MAX_LAB) throw new K8sLabError(`a lab number is 0 to ${MAX_LAB} (got ${n})`);
  parseCidr(o.podCidr, '--pod-cidr');
  if (!Number.isInteger(o.nodePortBase) || o.nodePortBase < 1 || o.nodePortBase > 65535) throw new K8sLabError(`--node-port-base must be a port number (got ${o.nodePortBase})`);
  const base = parseLabConfig(text, file).config;
  // Lab N's admin ports (the local ports for `kubectl port-forward`); the rest is replaced below.
  const derived = deriveLab(base, n);
  const subnet = k8sSubnet(o.serviceCidr, n);
  const from = baseSubnet(base).split('/')[0].split('.').slice(0, 3).join('.');
  const to = subnet.split('/')[0].split('.').slice(0, 3).join('.');
  const move = (address: string) => (address.split('.').slice(0, 3).join('.') === from ? `${to}.${address.split('.')[3]}` : address);
  const ports = nodePortsOf(base, n, o);

  const doc = parseDocument(text);
  doc.setIn(['network', 'subnet'], subnet);
  if (base.client) doc.setIn(['client', 'address'], move(base.client.address));
  doc.setIn(['dns', 'address'], move(base.dns.address));
  doc.setIn(['dns', 'hostPort'], ports.dns[0].nodePort);
  doc.setIn(['dns', 'adminPort'], derived.dns.adminPort);
  base.domains.forEach((d, i) => {
    doc.setIn(['domains', i, 'address'], move(d.address));
    for (const e of ports.domains[i]) doc.setIn(['domains', i, 'ports', e.name], e.nodePort);
    doc.setIn(['domains', i, 'ports', 'admin'], derived.domains[i].ports.admin);
    d.records.forEach((r, j) => {
      if (r.type === 'A' && move(r.value) !== r.value) doc.setIn(['domains', i, 'records', j, 'value'], move(r.value));
    });
  });
  doc.commentBefore =
    ` Lab ${n} on Kubernetes (namespace ${labProject(n)}), rendered by \`npx mail-lab render k8s\` from ${file}:\n` +
    ` the addresses are the fixed ClusterIPs of the lab's Services (${subnet}), the students' ports are node ports,\n` +
    ` the admin ports are the local ports for \`kubectl port-forward\`. Everything else is the definition as written.` +
    (doc.commentBefore ? `\n${doc.commentBefore}` : '');
  const labYaml = doc.toString({ lineWidth: 0 });
  const config = parseLabConfig(labYaml, `${labProject(n)}/lab.yaml`).config;

  const client = config.client ?? { address: `${to}.100`, hostname: `client.${config.domains[0].name}`, homeDomain: config.domains[0].name };
  return {
    n,
    namespace: labProject(n),
    subnet,
    options: o,
    config,
    labYaml,
    dns: { name: 'dns', component: 'dns', address: config.dns.address, nodePorts: ports.dns },
    mail: config.domains.map((d, i) => ({ name: mailService(d), component: 'mail-domain', address: d.address, domain: d, nodePorts: ports.domains[i] })),
    client: { name: 'client', component: 'client', address: client.address, nodePorts: [] },
  };
}

/** Lab N of the definition in `file`. */
export function k8sLabOfFile(file: string, n: number, options: Partial<K8sOptions> = {}): K8sLab {
  return k8sLab(readFileSync(file, 'utf8'), file, n, options);
}

/** Every host of the lab: the DNS, the mail hosts, the client. */
export const labHosts = (lab: K8sLab): K8sHost[] => [lab.dns, ...lab.mail, lab.client];

/** The mail host of a domain. */
export function mailHostOf(lab: K8sLab, domain: string): K8sHost {
  const h = lab.mail.find((m) => m.domain!.name === domain);
  if (!h) throw new K8sLabError(`unknown domain "${domain}"; the lab has: ${lab.mail.map((m) => m.domain!.name).join(', ')}`);
  return h;
}

/** `garudayaksa` of a mail host (for messages). */
export const hostShort = (h: K8sHost) => (h.domain ? shortName(h.domain) : h.name);
