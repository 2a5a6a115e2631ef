/**
 * Entry point of a mail-domain container (or a `mail-lab up --local`
 * process). Environment:
 *   MAIL_LAB_CONFIG   lab definition (default /etc/mail-lab/lab.yaml)
 *   MAIL_LAB_DOMAIN   which domain this process serves
 *   MAIL_LAB_MODE     docker (default) or local
 *   MAIL_LAB_DATA     data directory (default /var/mail-lab)
 *   MAIL_LAB_CA       the lab CA directory, shared by the domains (default
 *                     /var/mail-lab-ca in Docker, `<data>/../ca` locally);
 *                     `off`: no TLS at all
 *   MAIL_LAB_CA_PUBLIC a directory that gets a copy of the CA certificate
 *                     only (Docker: the `lab-ca-public` volume, which the
 *                     client container mounts; the CA's and the hosts'
 *                     private keys stay in MAIL_LAB_CA, which it does not)
 *   MAIL_LAB_ADMIN_TOKEN_FILE the lab's admin token, made there on the first
 *                     start (default /var/mail-lab-admin/token, the
 *                     `lab-admin` volume; `up --local`: .lab-data/admin-token)
 *   MAIL_LAB_DISCOVERY `swarm`: no fixed addresses; its own, the lab DNS's and
 *                     the peers' come from the platform (swarm.ts)
 *   MAIL_LAB_LOG_FORMAT / MAIL_LAB_LOG_LEVEL
 *   MAIL_LAB_HEAP_GROWTH how far the heap grows before a full collection
 *                     (core/src/heap-growth.ts; for measuring)
 *   MAIL_LAB_TEST_CRASH  tests only, never in a lab: `after-remote-250` makes
 *                     the queue SIGKILL itself between another server's 250
 *                     and recording it (queue/test-crash.ts)
 * A definition `npx mail-lab reload` gave the lab is kept beside the admin
 * token (reloaded-lab.json) and wins over MAIL_LAB_CONFIG at the next start
 * while that file is unchanged (core/src/reload/saved.ts).
 * Data it keeps besides mail/ and queue/: relayed.log (ids of relayed
 * messages accepted, so a redelivery is recognised), state/ (IMAP UIDs and
 * flags, rename.journal while a folder RENAME is finishing), trace.jsonl.
 * In Docker it listens on the standard ports (25, 587, 110, 143, admin
 * 8080, the mail programs' autoconfig file on 80, and with TLS 465, 993,
 * 995) and asks the lab DNS on the backbone; locally it listens on
 * 127.0.0.1 on the domain's host ports and asks the lab DNS on 127.0.0.1.
 */
import { copyFileSync, existsSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { adminTokenFile, adminTokenFromEnv, configFromEnv, loggerFromEnv, onShutdown, reloaderFromEnv } from '../../core/src/main-helpers';
import { requireDomain } from '../../core/src/config';
import { startMailDomain } from './domain';
import { swarmDiscovery } from '../../core/src/swarm';
import { swarmMailDomain } from './swarm';
import { limitHeapGrowth } from '../../core/src/heap-growth';

async function main(): Promise<void> {
  limitHeapGrowth();
  const domainName = process.env.MAIL_LAB_DOMAIN;
  const log = loggerFromEnv('mail', { domain: domainName });
  if (!domainName) {
    process.stderr.write('MAIL_LAB_DOMAIN is not set: which domain should this server serve?\n');
    process.exit(1);
  }
  const mode = process.env.MAIL_LAB_MODE === 'local' ? 'local' : 'docker';
  const dataDir = process.env.MAIL_LAB_DATA ?? '/var/mail-lab';
  const tokenFile = adminTokenFile(mode, join(dirname(resolve(dataDir)), 'admin-token'));
  // The definition file, or a newer one `npx mail-lab reload` gave the lab (kept beside the token).
  const defined = configFromEnv(log, tokenFile);
  // Docker Swarm: the addresses come from the platform, not from the definition.
  const swarm = swarmDiscovery() && mode === 'docker' ? await swarmMailDomain(defined, domainName, log) : undefined;
  const config = swarm?.config ?? defined;
  const domain = requireDomain(config, domainName);
  const caEnv = process.env.MAIL_LAB_CA;
  const caDir = caEnv === 'off' ? undefined : caEnv || (mode === 'docker' ? '/var/mail-lab-ca' : join(dirname(resolve(dataDir)), 'ca'));
  const started = await startMailDomain({
    config,
    domain: domain.name,
    mode,
    dataDir,
    host: mode === 'local' ? '127.0.0.1' : '0.0.0.0',
    // Docker: port 80 too, where autoconfig.<domain> of the lab DNS sends a mail program for its settings.
    ports: mode === 'local' ? domain.ports : { smtp: 25, submission: 587, pop3: 110, imap: 143, admin: 8080, smtps: 465, imaps: 993, pop3s: 995, autoconfig: 80 },
    caDir,
    dnsServer: mode === 'local' ? `127.0.0.1:${config.dns.hostPort}` : config.dns.address,
    logger: log,
    adminToken: await adminTokenFromEnv(log, mode, join(dirname(resolve(dataDir)), 'admin-token')),
    defined,
    reloader: reloaderFromEnv(tokenFile),
    ...(swarm ? { resolver: swarm.resolver, links: swarm.links } : {}),
  });
  const publicDir = process.env.MAIL_LAB_CA_PUBLIC;
  if (caDir && publicDir && existsSync(join(caDir, 'ca.crt'))) {
    // Temp file + rename: a reader never sees half a certificate.
    const tmp = join(publicDir, `.ca.crt.${process.pid}`);
    copyFileSync(join(caDir, 'ca.crt'), tmp);
    renameSync(tmp, join(publicDir, 'ca.crt'));
    log.info(`CA certificate published (without keys) in ${publicDir}/ca.crt`);
  }
  onShutdown(log, () => started.close());
}

main().catch((e: Error) => {
  process.stderr.write(`mail-domain failed to start: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
