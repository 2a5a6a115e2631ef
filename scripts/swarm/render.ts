/**
 * The stack file of a lab on Docker Swarm (issue 14), rendered from the lab
 * definition beside the compose file (compose/render.ts): the same services,
 * image, commands, users, capabilities and volumes, changed where Swarm
 * differs from Compose. Checked on this engine (20.10) with `docker stack
 * deploy` (CLI 20.10 and 28): it accepts `init`, `sysctls`, `cap_add` and
 * `cap_drop` (service API 1.41) and refuses nothing here; it ignores
 * `container_name`, `build`, `ipv4_address` and `depends_on`, so they are
 * left out.
 *
 * - No fixed addresses: `MAIL_LAB_DISCOVERY=swarm` makes the services learn
 *   them from Docker's embedded DNS (`tasks.<service>`, core/src/swarm.ts);
 *   every service uses `endpoint_mode: dnsrr`, so `tasks.x` and `x` are the
 *   tasks' own addresses (no virtual IP that would hide who is asking).
 * - The mail and client services start with docker/swarm-entry.sh (a swarm
 *   config, so every node has it): it points /etc/resolv.conf at the lab DNS
 *   task, then becomes mail-lab with only NET_ADMIN (mail) or nothing
 *   (client) in the bounding set, as in the compose lab.
 * - Ports are published in `mode: host`: no ingress routing mesh, so a
 *   student's connection keeps its source address (the Received header
 *   names the student's machine). Host mode binds every interface (Swarm has
 *   no host address for a published port), the admin ports too: there the
 *   lab's admin token is what protects them. MAIL_LAB_SWARM_PUBLISH=ingress
 *   uses the routing mesh instead (every node answers every port, for a lab
 *   spread over nodes and driven from one host; the tasks then see the mesh's
 *   address, not the student's).
 * - The lab CA is made by the CLI and shipped as a config (certificate) and a
 *   secret (key): mail servers on different nodes get the same CA, and the
 *   client its certificate, whichever node they run on.
 * - The lab definition and the entry script are swarm configs, the admin
 *   token a swarm secret made by the CLI (so every node has the same one);
 *   their names carry a hash of the content (configs cannot change).
 * - One overlay network per lab with the lab's subnet; named volumes per
 *   stack (`mail-lab-63_dadali-data`), local to the node the task runs on.
 */
import { createHash } from 'node:crypto';
import type { DomainConfig, LabConfig } from '../../services/core/src/config';
import { deriveLab, labProject, labSubnet } from '../../services/core/src/labs';
import { clientOf, mailService, shortName } from '../compose/render';

export interface StackRenderOptions {
  /** Absolute path of the lab definition (becomes a swarm config). */
  configFile: string;
  /** Its content (for the config's name); read by the caller. */
  configText: string;
  /** Absolute path of docker/swarm-entry.sh, and its content. */
  entryFile: string;
  entryText: string;
  /** Absolute path of the file holding the admin token (becomes a swarm secret), and the token. */
  tokenFile: string;
  token: string;
  /** The lab CA made by the CLI (swarm/stack.ts): its certificate (a config) and key (a secret), the same on every node. */
  caCertFile: string;
  caCertText: string;
  caKeyFile: string;
  /**
   * How ports are published: \`host\` (the default: on the node where the task runs, the student's
   * address kept) or \`ingress\` (the routing mesh: every node answers every port, the tasks see the
   * mesh's address; for a lab spread over several nodes driven from one host).
   */
  publish?: 'host' | 'ingress';
  /** Placement constraints by service (\`{ "mail-dadali": ["node.role==worker"] }\`); none by default (the swarm spreads). */
  placement?: Record<string, string[]>;
  /** The uid and gid of mail-lab in the image (owner of the token secret). @default 999 */
  uid?: number;
  /** The image. @default mail-lab/app:latest */
  image?: string;
}

/** The stack of lab N: `mail-lab`, `mail-lab-63` (the compose project's name). */
export const stackName = labProject;

/** A service's full name in the swarm: `mail-lab-63_mail-dadali`. */
export const swarmServiceName = (n: number, service: string) => `${stackName(n)}_${service}`;

/** The swarm's name for a config or secret: its key, then a hash of the content (they cannot change). */
const versioned = (n: number, key: string, text: string) => `${stackName(n)}-${key}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;

const CONTAINER_PORT: Record<string, number> = { smtp: 25, submission: 587, pop3: 110, imap: 143, admin: 8080, smtps: 465, imaps: 993, pop3s: 995 };
const PORT_ORDER = ['smtp', 'submission', 'pop3', 'imap', 'admin', 'smtps', 'imaps', 'pop3s'] as const;

/** Where the token secret is mounted (MAIL_LAB_ADMIN_TOKEN_FILE in the stack). */
export const SWARM_TOKEN_FILE = '/run/secrets/mail-lab-admin-token';
/** Where the entry script is mounted. */
export const SWARM_ENTRY = '/usr/local/libexec/mail-lab-swarm/entry';
/** Where the mail services find the lab CA's certificate (a config) to seed lab-ca with. */
const CA_SEED_CERT = '/etc/mail-lab/ca-seed.crt';

type Publish = 'host' | 'ingress';
const port = (mode: Publish, published: number, target: number, protocol = 'tcp') => `      - { target: ${target}, published: ${published}, protocol: ${protocol}, mode: ${mode} }`;

/** Labels on the containers: the image carries compose's project/service labels (compose built it); these blank them so no compose lookup takes a swarm container for its own. */
const labels = (n: number, service: string) => `    labels:
      com.docker.compose.project: ""
      com.docker.compose.service: ""
      mail-lab.lab: "${n}"
      mail-lab.service: ${service}
`;

// dnsrr: no virtual IP (tasks.x is what the services ask anyway); the routing mesh needs one.
const deploy = (service: string, mode: Publish, placement: Record<string, string[]>) => `    deploy:
      endpoint_mode: ${mode === 'host' ? 'dnsrr' : 'vip'}
      replicas: 1
      restart_policy: { condition: any, delay: 2s }
${placement[service]?.length ? `      placement: { constraints: ${JSON.stringify(placement[service])} }
` : ''}`;

function mailBlock(d: DomainConfig, n: number, image: string, mode: Publish, placement: Record<string, string[]>): string {
  const short = shortName(d);
  const ports = PORT_ORDER.filter((k) => d.ports[k] !== undefined).map((k) => port(mode, d.ports[k]!, CONTAINER_PORT[k]) + (k === 'admin' ? '   # admin API: every interface (host mode); the token protects it' : ''));
  return `  ${mailService(d)}:
    image: ${image}
    hostname: ${d.mailHost}
    entrypoint: ["${SWARM_ENTRY}"]
    command: ["node", "dist/services/mail-domain/src/main.js"]
    init: true
    # root only for the entry script (resolv.conf), which then runs the server as mail-lab.
    user: root
    sysctls:
      net.ipv4.ip_unprivileged_port_start: 0
    # NET_ADMIN stays in the bounding set for the link faults (the iptables/tc copies with a file
    # capability); SETUID, SETGID and SETPCAP are for the entry script and gone after it.
    cap_drop: [ALL]
    cap_add: [NET_ADMIN, SETUID, SETGID, SETPCAP]
    environment:
      <<: *app-env
      MAIL_LAB_DOMAIN: ${d.name}
      MAIL_LAB_KEEP_CAPS: "+net_admin"
      # The lab CA the CLI made, copied into lab-ca by swarm-entry.sh on the first start, so the
      # domains' certificates verify whichever node each one runs on.
      MAIL_LAB_CA_SEED_CERT: ${CA_SEED_CERT}
      MAIL_LAB_CA_SEED_KEY: /run/secrets/mail-lab-ca-key
${labels(n, mailService(d))}    configs: [*lab-yaml, *entry, { source: ca-crt, target: ${CA_SEED_CERT}, mode: 0444 }]
    secrets: [*admin-token, *ca-key]
    volumes:
      - ${short}-data:/var/mail-lab
      - lab-ca:/var/mail-lab-ca
    ports:
${ports.join('\n')}
    networks: [backbone]
    stop_grace_period: 5s
    logging: *logging
${deploy(mailService(d), mode, placement)}`;
}

/** The stack file of lab `n` of `config` (the definition as written, not yet derived). */
export function renderStack(config: LabConfig, n: number, o: StackRenderOptions): string {
  const lab = deriveLab(config, n);
  const client = clientOf(lab);
  const uid = o.uid ?? 999;
  const mode = o.publish ?? 'host';
  const placement = o.placement ?? {};
  const image = o.image ?? 'mail-lab/app:latest';
  const domainList = lab.domains.map((d) => d.name).join(', ');
  return `# mail-lab, lab ${n} on Docker Swarm (stack ${stackName(n)}): the lab DNS, the mail domains (${domainList})
# and a client on one overlay network ${labSubnet(config, n)}.
#
# RENDERED by \`npx mail-lab up --engine swarm${n ? ` --lab ${n}` : ''}\` (scripts/swarm/render.ts; see docs/cluster.md),
# which deploys it with \`docker stack deploy --resolve-image never\`. Do not edit: render again.
# Host ports are published in host mode on EVERY interface of the node a task runs on (Swarm
# cannot bind one address): the admin APIs too, which every route but /health refuses without
# the lab's admin token (a swarm secret).
version: "3.8"

x-app-env: &app-env
  MAIL_LAB_CONFIG: /etc/mail-lab/lab.yaml
  MAIL_LAB_LAB: "${n}"
  MAIL_LAB_MODE: docker
  MAIL_LAB_DATA: /var/mail-lab
  # No fixed addresses on Swarm: ask Docker's embedded DNS (tasks.<service>).
  MAIL_LAB_DISCOVERY: swarm
  MAIL_LAB_ADMIN_TOKEN_FILE: ${SWARM_TOKEN_FILE}

x-lab-yaml: &lab-yaml { source: lab-yaml, target: /etc/mail-lab/lab.yaml, mode: 0444 }
x-entry: &entry { source: entry, target: ${SWARM_ENTRY}, mode: 0555 }
x-admin-token: &admin-token { source: admin-token, target: mail-lab-admin-token, uid: "${uid}", gid: "${uid}", mode: 0400 }
x-ca-key: &ca-key { source: ca-key, target: mail-lab-ca-key, uid: "${uid}", gid: "${uid}", mode: 0400 }
# Each task's log: at most 3 files of 10 MB on its node (Docker's default keeps all of it).
x-logging: &logging { driver: json-file, options: { max-size: 10m, max-file: "3" } }

services:
  dns:
    image: ${image}
    command: ["node", "dist/services/dns/src/main.js"]
    init: true
    user: mail-lab
    # Port 53 without root or CAP_NET_BIND_SERVICE.
    sysctls:
      net.ipv4.ip_unprivileged_port_start: 0
    cap_drop: [ALL]
    environment:
      <<: *app-env
      MAIL_LAB_DNS_ADMIN_PORT: "8053"
${labels(n, 'dns')}    configs: [*lab-yaml]
    secrets: [*admin-token]
    ports:
${port(mode, lab.dns.hostPort, 53, 'udp')}
${port(mode, lab.dns.hostPort, 53, 'tcp')}
${port(mode, lab.dns.adminPort, 8053)}   # admin API: every interface (host mode); the token protects it
    networks: [backbone]
    stop_grace_period: 5s
    logging: *logging
${deploy('dns', mode, placement)}
${lab.domains.map((d) => mailBlock(d, n, image, mode, placement)).join('\n')}
  client:
    image: ${image}
    hostname: ${client.hostname}
    entrypoint: ["${SWARM_ENTRY}"]
    command: ["sleep", "infinity"]
    init: true
    user: root
    cap_drop: [ALL]
    cap_add: [SETUID, SETGID, SETPCAP]
    working_dir: /var/mail-lab
    environment:
      <<: *app-env
      MAIL_LAB_HOME_DOMAIN: ${client.homeDomain}
      MAIL_LAB_KEEP_CAPS: ""
${labels(n, 'client')}    # the CA certificate only (a config: on every node); the private keys are not here
    configs: [*lab-yaml, *entry, { source: ca-crt, target: /var/mail-lab-ca/ca.crt, mode: 0444 }]
    networks: [backbone]
    stop_grace_period: 5s
    logging: *logging
${deploy('client', mode, placement)}
networks:
  # One overlay per lab, with the lab's subnet; overlays of different stacks cannot reach each
  # other. (Unlike the compose bridge, a swarm task also sits on docker_gwbridge, the way its
  # host-mode ports come in; see docs/cluster.md about the way out.)
  backbone:
    driver: overlay
    ipam:
      config:
        - subnet: ${labSubnet(config, n)}

volumes:
${lab.domains.map((d) => `  ${shortName(d)}-data:`).join('\n')}
  lab-ca:

configs:
  lab-yaml:
    name: ${versioned(n, 'lab-yaml', o.configText)}
    file: ${o.configFile}
  entry:
    name: ${versioned(n, 'entry', o.entryText)}
    file: ${o.entryFile}
  ca-crt:
    name: ${versioned(n, 'ca-crt', o.caCertText)}
    file: ${o.caCertFile}

secrets:
  admin-token:
    name: ${versioned(n, 'admin-token', o.token)}
    file: ${o.tokenFile}
  ca-key:
    name: ${versioned(n, 'ca-key', o.caCertText)}
    file: ${o.caKeyFile}
`;
}
