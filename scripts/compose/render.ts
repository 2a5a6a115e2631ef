/**
 * The compose file of a lab, rendered from the lab definition (issue 11:
 * lab.yaml is the only source of the topology): addresses, host ports, host
 * names, the backbone network and the volumes of lab N (services/core/src/
 * labs.ts). The committed docker-compose.yml is lab 0 of lab-scenarios/
 * lab.yaml, rendered by `npx mail-lab render compose`; a test fails when
 * they differ.
 *
 * Works with Compose v2 and v1 (1.29): no `version:` and no top-level
 * `name:` (v1 refuses it), so the project name comes from `-p` or from
 * COMPOSE_PROJECT_NAME (the committed .env says `mail-lab` for plain
 * `docker compose up`). Paths are relative to the repository root (the CLI
 * runs compose with `--project-directory <root>` whatever file it renders).
 */
import type { DomainConfig, LabConfig } from '../../services/core/src/config';
import { deriveLab, labProject, labSubnet } from '../../services/core/src/labs';

export interface RenderOptions {
  /** The lab definition, relative to the repository root, e.g. `./lab-scenarios/lab.yaml`. */
  configPath: string;
  /** The resolv.conf the containers mount (pointing at the lab DNS), relative to the root. */
  resolvConf: string;
}

/** Container port of each host port of a domain. */
const CONTAINER_PORT: Record<string, number> = { smtp: 25, submission: 587, pop3: 110, imap: 143, admin: 8080, smtps: 465, imaps: 993, pop3s: 995 };
const PORT_ORDER = ['smtp', 'submission', 'pop3', 'imap', 'admin', 'smtps', 'imaps', 'pop3s'] as const;

/** The short name of a domain in service, container and volume names: `garudayaksa`. */
export const shortName = (d: { name: string }) => d.name.split('.')[0];
/** The compose service of a domain: `mail-garudayaksa`. */
export const mailService = (d: { name: string }) => `mail-${shortName(d)}`;
/** The container of a service in lab N: `mail-lab-dadali`, `mail-lab-03-dadali`. */
export const containerName = (n: number, short: string) => `${labProject(n)}-${short}`;

/** The client container's place on the backbone (the definition's `client`, else .100 and the first domain). */
export function clientOf(config: LabConfig): { address: string; hostname: string; homeDomain: string } {
  if (config.client) return config.client;
  const net = labSubnet(config, 0).split('.').slice(0, 3).join('.');
  return { address: `${net}.100`, hostname: `client.${config.domains[0].name}`, homeDomain: config.domains[0].name };
}

/** The resolv.conf the lab's containers use: the lab DNS only. */
export function renderResolvConf(config: LabConfig, n: number): string {
  const lab = deriveLab(config, n);
  return (
    `# Rendered by mail-lab for lab ${n}: the lab containers ask the lab DNS directly (not Docker's\n` +
    `# embedded DNS at 127.0.0.11, which answers PTR queries for container addresses itself), so\n` +
    `# \`dig -x ${lab.domains[lab.domains.length - 1].address}\` shows the lab's own reverse zone, as in the lesson.\n` +
    `nameserver ${lab.dns.address}\n` +
    `options timeout:2 attempts:2\n`
  );
}

const bind = '"${MAIL_LAB_BIND:-127.0.0.1}';

function mailBlock(d: DomainConfig, n: number): string {
  const short = shortName(d);
  const ports = PORT_ORDER.filter((k) => d.ports[k] !== undefined).map((k) =>
    k === 'admin'
      ? `      # admin API: loopback only, whatever MAIL_LAB_BIND says (it also needs the lab's token)\n      - "127.0.0.1:${d.ports[k]}:${CONTAINER_PORT[k]}"`
      : `${k === 'smtps' ? '      # implicit TLS: submission, IMAPS, POP3S (lab.yaml ports smtps, imaps, pop3s)\n' : ''}      - ${bind}:${d.ports[k]}:${CONTAINER_PORT[k]}"`,
  );
  return `  ${mailService(d)}:
    image: mail-lab/app:latest
    container_name: ${containerName(n, short)}
    hostname: ${d.mailHost}
    command: ["node", "dist/services/mail-domain/src/main.js"]
    init: true
    user: mail-lab
    # Ports 25, 110, 143, 465, 587, 993, 995 without root or CAP_NET_BIND_SERVICE.
    sysctls:
      net.ipv4.ip_unprivileged_port_start: 0
    environment:
      <<: *app-env
      MAIL_LAB_DOMAIN: ${d.name}
      MAIL_LAB_CA_PUBLIC: /var/mail-lab-ca-public
    volumes:
      - *lab-config
      - *lab-resolv
      - ${short}-data:/var/mail-lab
      - lab-admin:/var/mail-lab-admin
      - lab-ca:/var/mail-lab-ca
      - lab-ca-public:/var/mail-lab-ca-public
    ports:
${ports.join('\n')}
    networks:
      backbone:
        ipv4_address: ${d.address}
    # NET_ADMIN only in the bounding set, for the link faults (break, isolate, slow-link): the
    # server runs as mail-lab without capabilities; only the image's copies of iptables and tc
    # (file capability cap_net_admin) get it.
    cap_drop: [ALL]
    cap_add: [NET_ADMIN]
    depends_on: [dns]
    restart: unless-stopped
    stop_grace_period: 5s
    logging: *logging
`;
}

/** The compose file of lab `n` of `config` (the definition as written, not yet derived). */
export function renderCompose(config: LabConfig, n: number, o: RenderOptions): string {
  const lab = deriveLab(config, n);
  const client = clientOf(lab);
  const domainList = lab.domains.map((d) => d.name).join(', ');
  return `# mail-lab, lab ${n} (project ${labProject(n)}): the lab DNS, the mail domains (${domainList}) and a
# client on one "backbone" network with no route to the real internet.
#
# RENDERED from ${o.configPath.replace(/^\.\//, '')} by \`npx mail-lab render compose${n ? ` --lab ${n}` : ''}\`: do not edit by
# hand; change the lab definition and render again (a test checks that this file is what
# the renderer makes for lab 0). \`npx mail-lab up [--lab N]\` renders and starts the lab itself.
#
# By hand, from the repository root, after \`npm ci\` (which builds dist/):
#   docker compose up -d            # or: docker-compose up -d (the .env file names the project)
#   docker compose down -v
# With no image registry (a classroom offline), build the base image first and name it:
#   sudo bash scripts/build-base-image.sh
#   MAIL_LAB_BASE_IMAGE=mail-lab/base:bookworm docker compose up -d
#
# One image for every service. Only \`dns\` has a \`build:\` section; the others name the same
# image (v1 would build it once per service, v2 concurrently under one tag); \`up\` builds it
# when missing, before anything that depends on dns.
#
# Host ports bind to 127.0.0.1; to let the classroom LAN reach the lab set MAIL_LAB_BIND=0.0.0.0
# (or one LAN address). The admin APIs stay on 127.0.0.1 whatever MAIL_LAB_BIND says.
# No health checks: an exec every few seconds per container costs too much with many labs on one
# host; \`npx mail-lab up\` and \`status\` probe every port themselves.
#
# ADMIN: every admin route but GET /health needs the lab's admin token. The first service to
# start makes it in the volume \`lab-admin\` (/var/mail-lab-admin/token, 0600), mounted in the DNS
# and mail containers, not in the client; \`npx mail-lab admin-token\` prints it.
# TLS: the mail containers share \`lab-ca\` (the lab CA, made by the first one to start, and each
# host's certificate and key) and copy the CA certificate alone into \`lab-ca-public\`, which the
# client mounts read-only at /var/mail-lab-ca (no private key in a student's shell).

x-app-env: &app-env
  MAIL_LAB_CONFIG: /etc/mail-lab/lab.yaml
  MAIL_LAB_LAB: "${n}"
  MAIL_LAB_MODE: docker
  MAIL_LAB_DATA: /var/mail-lab

x-lab-config: &lab-config ${o.configPath}:/etc/mail-lab/lab.yaml:ro
x-lab-resolv: &lab-resolv ${o.resolvConf}:/etc/resolv.conf:ro
# \`docker logs\` of a service keeps at most 3 files of 10 MB (Docker's default keeps all of it: the
# wire transcripts of a class of 30 labs over a day, or one load test, would fill the disk).
x-logging: &logging
  driver: json-file
  options: { max-size: 10m, max-file: "3" }

services:
  dns:
    image: mail-lab/app:latest
    build:
      context: .
      args:
        BASE_IMAGE: "\${MAIL_LAB_BASE_IMAGE:-node:20-bookworm-slim}"
      # What the image is made of (scripts/lab-docker.ts sourceHash): \`up\` does not rebuild an image with the same.
      labels:
        mail-lab.source-hash: "\${MAIL_LAB_SOURCE_HASH:-}"
    container_name: ${containerName(n, 'dns')}
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
    volumes:
      - *lab-config
      - lab-admin:/var/mail-lab-admin
    ports:
      - ${bind}:${lab.dns.hostPort}:53/udp"
      - ${bind}:${lab.dns.hostPort}:53/tcp"
      # admin API (faults, query log, zones): loopback only, whatever MAIL_LAB_BIND says
      - "127.0.0.1:${lab.dns.adminPort}:8053"
    networks:
      backbone:
        ipv4_address: ${lab.dns.address}
    restart: unless-stopped
    stop_grace_period: 5s
    logging: *logging

${lab.domains.map((d) => mailBlock(d, n)).join('\n')}
  client:
    image: mail-lab/app:latest
    container_name: ${containerName(n, 'client')}
    hostname: ${client.hostname}
    command: ["sleep", "infinity"]
    init: true
    user: mail-lab
    cap_drop: [ALL]
    working_dir: /var/mail-lab
    environment:
      <<: *app-env
      MAIL_LAB_HOME_DOMAIN: ${client.homeDomain}
    volumes:
      - *lab-config
      - *lab-resolv
      # the CA certificate only; the private keys are in lab-ca, not mounted here
      - lab-ca-public:/var/mail-lab-ca:ro
    networks:
      backbone:
        ipv4_address: ${client.address}
    depends_on: [dns]
    stop_grace_period: 5s
    logging: *logging

networks:
  # Isolation: no masquerading, so nothing on the lab network can reach the real internet (its
  # packets would leave with a lab address that has no route back), while the published ports
  # still work; each lab has a bridge of its own, and Docker drops traffic between bridges, so
  # labs cannot reach each other. The lab DNS refuses every name outside the lab zones.
  backbone:
    driver: bridge
    driver_opts:
      com.docker.network.bridge.enable_ip_masquerade: "false"
    ipam:
      config:
        - subnet: ${labSubnet(config, n)}

volumes:
${lab.domains.map((d) => `  ${shortName(d)}-data:`).join('\n')}
  # The lab CA and the mail servers' certificates (shared; see TLS above).
  lab-ca:
  # The CA certificate alone, for the client container (see TLS above).
  lab-ca-public:
  # The lab's admin token (see ADMIN above); not mounted in the client container.
  lab-admin:
`;
}
