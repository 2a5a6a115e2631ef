/**
 * The Kubernetes objects of lab N (issue 14), as the compose file is the
 * Compose lab (scripts/compose/render.ts): one namespace per lab, the lab
 * definition as a ConfigMap, the lab DNS, each mail domain and the client
 * as StatefulSets of one pod, Services, and NetworkPolicies
 * (policies.ts). The two Secrets (admin token, lab CA) are secrets.ts.
 *
 * Services. Each host has a ClusterIP Service with a fixed address (the
 * backbone: lab.ts says why), and the DNS and mail hosts a NodePort Service
 * for the ports students reach, with `externalTrafficPolicy: Local`: the
 * pod sees the student's own address (a Received header, the SMTP log and
 * the NetworkPolicy's "from outside the cluster" rule depend on it), at the
 * price that a lab's node ports answer on the node that runs its pod
 * (`kubectl get pods -o wide` says which). The admin APIs are on the
 * ClusterIP Services only (`kubectl port-forward`).
 *
 * Security. Every pod runs as the image's `mail-lab` user (999), non-root,
 * with the RuntimeDefault seccomp profile, no service-account token, and
 * every capability dropped; ports below 1024 without a capability come from
 * the safe sysctl net.ipv4.ip_unprivileged_port_start=0 (as in Compose). The
 * mail containers alone keep NET_ADMIN in their bounding set, for the link
 * faults the servers make themselves through their admin API (slow-link's
 * tc, and iptables for break and isolate, as in Compose): the server
 * process has no capability, only the image's copies of iptables and tc
 * (file capability cap_net_admin, see the Dockerfile) get NET_ADMIN when
 * they run. That is also why the mail containers must allow privilege
 * escalation: `allowPrivilegeEscalation: false` sets no_new_privs, and a
 * no_new_privs process gains no file capability on exec (checked with the
 * image: iptables then says "Permission denied (you must be root)"). Because
 * of NET_ADMIN the namespace is labelled for the `privileged` Pod Security
 * level; the DNS and client pods meet `restricted`.
 *
 * Probes. TCP readiness on the admin API port (8080, the DNS's 8053): it
 * answers whenever the server runs. Not port 25 or 53: the faults
 * server-down and dns-down silence those on purpose, and a pod that is not
 * ready is taken out of its Services, which would cut IMAP and POP3 too.
 */
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { stringify } from 'yaml';
import { CONTAINER_PORT, DNS_ADMIN_PORT, MAIL_LAB_UID, OPTIONS_ANNOTATION, optionsAnnotation, PUBLIC_PORTS, type K8sHost, type K8sLab } from './lab';
import { hostSelector, labLabels } from './labels';
import { labPolicies, type NetworkFaults } from './policies';
import { ADMIN_SECRET, CA_SECRET } from './secrets';

export const DEFINITION_CONFIGMAP = 'lab-definition';

/** Any object of the lab. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** The public Service of a host (its node ports). */
export const publicServiceName = (h: Pick<K8sHost, 'name'>) => `${h.name}-public`;

const APP_ENV = [
  { name: 'MAIL_LAB_CONFIG', value: '/etc/mail-lab/lab.yaml' },
  // The ConfigMap holds this lab already (its addresses and ports): the services must not move it again.
  { name: 'MAIL_LAB_LAB', value: '0' },
  { name: 'MAIL_LAB_MODE', value: 'docker' },
  { name: 'MAIL_LAB_DATA', value: '/var/mail-lab' },
];

/** The pod-level security context: non-root mail-lab, RuntimeDefault seccomp; low ports for servers. */
function podSecurity(servers: boolean): IPodSpec['securityContext'] {
  return {
    runAsNonRoot: true,
    runAsUser: MAIL_LAB_UID,
    runAsGroup: MAIL_LAB_UID,
    fsGroup: MAIL_LAB_UID,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
    // Ports 25, 53, 110 … without root or CAP_NET_BIND_SERVICE (a safe sysctl: allowed in every cluster).
    ...(servers ? { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } : {}),
  };
}

/** Every capability dropped; the mail containers keep NET_ADMIN in the bounding set (see above). */
export function containerSecurity(netAdmin: boolean): IContainer['securityContext'] {
  return netAdmin
    ? { runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: true, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } }
    : { runAsNonRoot: true, privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
}

const readiness = (port: number): IContainer['readinessProbe'] => ({ tcpSocket: { port }, initialDelaySeconds: 2, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 });

/** What every pod of the lab shares: the lab DNS as the only resolver, no API token, the definition. */
function podBase(lab: K8sLab, servers: boolean): Pick<IPodSpec, 'automountServiceAccountToken' | 'enableServiceLinks' | 'dnsPolicy' | 'dnsConfig' | 'securityContext' | 'terminationGracePeriodSeconds'> {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    // As the compose lab's resolv.conf: the lab DNS only.
    dnsPolicy: 'None',
    dnsConfig: { nameservers: [lab.dns.address], options: [{ name: 'timeout', value: '2' }, { name: 'attempts', value: '2' }] },
    securityContext: podSecurity(servers),
    terminationGracePeriodSeconds: 10,
  };
}

const definitionVolume = { name: 'definition', configMap: { name: DEFINITION_CONFIGMAP, items: [{ key: 'lab.yaml', path: 'lab.yaml' }] } };
const definitionMount = { name: 'definition', mountPath: '/etc/mail-lab', readOnly: true };
// 0440 and group mail-lab (fsGroup): readable by the services, by nobody else.
const adminVolume = { name: 'admin', secret: { secretName: ADMIN_SECRET, defaultMode: 0o440 } };
const adminMount = { name: 'admin', mountPath: '/var/mail-lab-admin', readOnly: true };

function claim(lab: K8sLab, name: string, size: string): IPersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...(lab.options.storageClass ? { storageClassName: lab.options.storageClass } : {}) },
  };
}

function statefulSet(lab: K8sLab, h: K8sHost, pod: IPodSpec, claims: IPersistentVolumeClaim[] = []): IStatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: h.name, namespace: lab.namespace, labels: labLabels(lab, h) },
    spec: {
      // The backbone Service (not headless: its fixed ClusterIP is the address; no per-pod DNS name is needed).
      serviceName: h.name,
      replicas: 1,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: hostSelector(h) },
      template: { metadata: { labels: labLabels(lab, h) }, spec: pod },
      ...(claims.length ? { volumeClaimTemplates: claims, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' } } : {}),
    },
  };
}

/**
 * The init container of a mail pod: the lab CA from the Secret into the
 * pod's CA volume when it is not there or differs (cert last: "ca.crt
 * written means ready", as pki.ts writes it); the server then makes its host
 * certificate there on start, as in Compose.
 */
export const SEED_CA_SCRIPT = [
  'set -eu',
  'seed=/etc/mail-lab-ca-seed ca=/var/mail-lab-ca',
  'if ! cmp -s "$seed/ca.crt" "$ca/ca.crt"; then',
  '  cp "$seed/ca.key" "$ca/.ca.key.tmp" && chmod 600 "$ca/.ca.key.tmp" && mv -f "$ca/.ca.key.tmp" "$ca/ca.key"',
  '  cp "$seed/ca.crt" "$ca/.ca.crt.tmp" && chmod 644 "$ca/.ca.crt.tmp" && mv -f "$ca/.ca.crt.tmp" "$ca/ca.crt"',
  '  echo "lab CA copied into $ca"',
  'fi',
].join('\n');

function dnsStatefulSet(lab: K8sLab): IStatefulSet {
  const h = lab.dns;
  return statefulSet(lab, h, {
    ...podBase(lab, true),
    containers: [
      {
        name: 'dns',
        image: lab.options.image,
        imagePullPolicy: 'IfNotPresent',
        command: ['node', 'dist/services/dns/src/main.js'],
        env: [...APP_ENV, { name: 'MAIL_LAB_DNS_ADMIN_PORT', value: String(DNS_ADMIN_PORT) }],
        ports: [
          { name: 'dns-udp', containerPort: 53, protocol: 'UDP' },
          { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
          { name: 'admin', containerPort: DNS_ADMIN_PORT, protocol: 'TCP' },
        ],
        readinessProbe: readiness(DNS_ADMIN_PORT),
        securityContext: containerSecurity(false),
        resources: { requests: { cpu: '20m', memory: '64Mi' } },
        volumeMounts: [definitionMount, adminMount],
      },
    ],
    volumes: [definitionVolume, adminVolume],
  });
}

function mailStatefulSet(lab: K8sLab, h: K8sHost): IStatefulSet {
  const d = h.domain!;
  const ports = [...PUBLIC_PORTS.filter((k) => d.ports[k] !== undefined), 'admin' as const].map((k) => ({ name: k, containerPort: CONTAINER_PORT[k], protocol: 'TCP' as const }));
  return statefulSet(
    lab,
    h,
    {
      ...podBase(lab, true),
      initContainers: [
        {
          name: 'seed-ca',
          image: lab.options.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', SEED_CA_SCRIPT],
          securityContext: containerSecurity(false),
          volumeMounts: [
            { name: 'ca-seed', mountPath: '/etc/mail-lab-ca-seed', readOnly: true },
            { name: 'ca', mountPath: '/var/mail-lab-ca' },
          ],
        },
      ],
      containers: [
        {
          name: 'mail',
          image: lab.options.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', 'dist/services/mail-domain/src/main.js'],
          env: [...APP_ENV, { name: 'MAIL_LAB_DOMAIN', value: d.name }],
          ports,
          readinessProbe: readiness(CONTAINER_PORT.admin),
          securityContext: containerSecurity(true),
          resources: { requests: { cpu: '50m', memory: '128Mi' } },
          volumeMounts: [definitionMount, adminMount, { name: 'data', mountPath: '/var/mail-lab' }, { name: 'ca', mountPath: '/var/mail-lab-ca' }],
        },
      ],
      volumes: [definitionVolume, adminVolume, { name: 'ca-seed', secret: { secretName: CA_SECRET, defaultMode: 0o440 } }],
    },
    [claim(lab, 'data', '1Gi'), claim(lab, 'ca', '16Mi')],
  );
}

function clientStatefulSet(lab: K8sLab): IStatefulSet {
  const home = lab.config.client?.homeDomain ?? lab.config.domains[0].name;
  return statefulSet(lab, lab.client, {
    ...podBase(lab, false),
    terminationGracePeriodSeconds: 2,
    containers: [
      {
        name: 'client',
        image: lab.options.image,
        imagePullPolicy: 'IfNotPresent',
        command: ['sleep', 'infinity'],
        workingDir: '/var/mail-lab',
        env: [...APP_ENV, { name: 'MAIL_LAB_HOME_DOMAIN', value: home }],
        securityContext: containerSecurity(false),
        resources: { requests: { cpu: '10m', memory: '32Mi' } },
        volumeMounts: [definitionMount, { name: 'ca-public', mountPath: '/var/mail-lab-ca', readOnly: true }, { name: 'work', mountPath: '/var/mail-lab' }],
      },
    ],
    volumes: [
      definitionVolume,
      // The CA certificate only: the key stays out of a student's shell.
      { name: 'ca-public', secret: { secretName: CA_SECRET, defaultMode: 0o444, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { name: 'work', emptyDir: {} },
    ],
  });
}

/** The backbone Service of a host: its fixed ClusterIP and every port (admin included). */
function backboneService(lab: K8sLab, h: K8sHost): IService {
  const admin = h.component === 'dns' ? DNS_ADMIN_PORT : CONTAINER_PORT.admin;
  const ports = [...h.nodePorts.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, targetPort: p.port })), { name: 'admin', protocol: 'TCP' as const, port: admin, targetPort: admin }];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: h.name, namespace: lab.namespace, labels: labLabels(lab, h) },
    spec: { type: 'ClusterIP', clusterIP: h.address, clusterIPs: [h.address], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', selector: hostSelector(h), ports },
  };
}

/** The NodePort Service of a host: the ports students reach. */
function publicService(lab: K8sLab, h: K8sHost): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: publicServiceName(h), namespace: lab.namespace, labels: labLabels(lab, h) },
    spec: {
      type: 'NodePort',
      externalTrafficPolicy: 'Local',
      selector: hostSelector(h),
      ports: h.nodePorts.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port, targetPort: p.port, nodePort: p.nodePort })),
    },
  };
}

function namespace(lab: K8sLab): INamespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: lab.namespace,
      labels: {
        ...labLabels(lab),
        // The mail containers keep NET_ADMIN (see above), which `baseline` and `restricted` forbid.
        'pod-security.kubernetes.io/enforce': 'privileged',
      },
      annotations: { [OPTIONS_ANNOTATION]: optionsAnnotation(lab.options) },
    },
  };
}

function definition(lab: K8sLab): IConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: DEFINITION_CONFIGMAP, namespace: lab.namespace, labels: labLabels(lab) }, data: { 'lab.yaml': lab.labYaml } };
}

/** The StatefulSets of the lab (what `down` removes and `up` waits for). */
export function labStatefulSets(lab: K8sLab): IStatefulSet[] {
  return [dnsStatefulSet(lab), ...lab.mail.map((h) => mailStatefulSet(lab, h)), clientStatefulSet(lab)];
}

/**
 * The client's Service: headless and without ports, only because a
 * StatefulSet names one. Nothing connects to the client (the lab DNS has no
 * record for it), so it needs no fixed address.
 */
function clientService(lab: K8sLab): IService {
  const h = lab.client;
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: h.name, namespace: lab.namespace, labels: labLabels(lab, h) }, spec: { clusterIP: 'None', selector: hostSelector(h) } };
}

/** The Services of the lab. */
export function labServices(lab: K8sLab): IService[] {
  return [...[lab.dns, ...lab.mail].flatMap((h) => [backboneService(lab, h), publicService(lab, h)]), clientService(lab)];
}

/** Every object of lab N but its Secrets, in the order they are applied. */
export function labObjects(lab: K8sLab, faults?: NetworkFaults): K8sObject[] {
  return [namespace(lab), definition(lab), ...labServices(lab), ...labPolicies(lab, faults), ...labStatefulSets(lab)] as K8sObject[];
}

/** Objects as one YAML stream (`---` between documents). */
export function toYaml(objects: object[], header = ''): string {
  return header + objects.map((o) => stringify(o, { lineWidth: 0 })).map((t) => `---\n${t}`).join('');
}
