/**
 * Entry point of the lab DNS container: reads the environment, validates the
 * lab definition, starts the server and stops it on SIGTERM/SIGINT.
 *
 *   MAIL_LAB_CONFIG      lab definition file      (default /etc/mail-lab/lab.yaml)
 *   MAIL_LAB_MODE        docker | local           (default docker)
 *   MAIL_LAB_LAB         which numbered lab of the definition (default 0; core/src/labs.ts)
 *   MAIL_LAB_DNS_PORT    UDP and TCP port         (default 53)
 *   MAIL_LAB_LOG_FORMAT  text | json              (default text)
 *   MAIL_LAB_HEAP_GROWTH see core/src/heap-growth.ts (default 30 percent)
 *   MAIL_LAB_DNS_HOST    address to bind          (default 0.0.0.0)
 *   MAIL_LAB_DNS_ADMIN_PORT  HTTP admin API for the instructor's faults
 *                        (admin.ts; not started when unset; 8053 in the container)
 *   MAIL_LAB_ADMIN_TOKEN_FILE  the lab's admin token, made there on the first
 *                        start (default /var/mail-lab-admin/token, the
 *                        `lab-admin` volume)
 *   MAIL_LAB_DISCOVERY   `swarm`: the hosts' addresses come from the platform
 *                        (`tasks.<service>` in Docker's embedded DNS,
 *                        core/src/swarm.ts) and the zones follow them
 *
 * A definition `npx mail-lab reload` gave the lab is kept beside the admin
 * token (reloaded-lab.json) and wins over MAIL_LAB_CONFIG at the next start
 * while that file is unchanged (core/src/reload/saved.ts).
 *
 * Everything else lives in server.ts, which the lab CLI imports for `up --local`.
 */
import { readFileSync } from 'node:fs';
import { formatProblem, LabConfigError, parseLabConfig } from '../../core/src/config';
import { deriveLab, parseLabNumber } from '../../core/src/labs';
import { createLogger } from '../../core/src/logger';
import { adminTokenFile, adminTokenFromEnv, reloaderFromEnv } from '../../core/src/main-helpers';
import { savedDefinitionFile, startDefinition } from '../../core/src/reload/saved';
import { startDnsServer } from './server';
import { startDnsAdmin } from './admin';
import { DnsFaults } from './faults';
import { DnsLab } from './reload';
import { AddressWatcher, swarmDiscovery, withAddresses } from '../../core/src/swarm';
import { limitHeapGrowth } from '../../core/src/heap-growth';

function fail(message: string): never {
  process.stderr.write(`dns: ${message}\n`);
  process.exit(1);
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = env.MAIL_LAB_CONFIG || '/etc/mail-lab/lab.yaml';
  const mode = env.MAIL_LAB_MODE || 'docker';
  const format = env.MAIL_LAB_LOG_FORMAT || 'text';
  const portText = env.MAIL_LAB_DNS_PORT || '53';
  const port = Number(portText);
  if (mode !== 'docker' && mode !== 'local') fail(`MAIL_LAB_MODE must be docker or local, not "${mode}"`);
  if (format !== 'text' && format !== 'json') fail(`MAIL_LAB_LOG_FORMAT must be text or json, not "${format}"`);
  if (!/^\d+$/.test(portText) || port > 65535) fail(`MAIL_LAB_DNS_PORT must be a port number, not "${portText}"`);
  const adminText = env.MAIL_LAB_DNS_ADMIN_PORT || '';
  if (adminText && (!/^\d+$/.test(adminText) || Number(adminText) > 65535)) fail(`MAIL_LAB_DNS_ADMIN_PORT must be a port number, not "${adminText}"`);

  const logger = createLogger({ format }, 'dns');
  // The definition file, or a newer one `npx mail-lab reload` gave the lab (kept beside the admin token).
  const tokenFile = adminTokenFile(mode);
  let loaded;
  try {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      fail(`cannot read the lab definition ${file}: ${(e as Error).message}`);
    }
    const start = startDefinition(text, file, tokenFile ? savedDefinitionFile(tokenFile) : undefined);
    if (start.note) logger.info(start.note);
    loaded = parseLabConfig(start.text, start.file);
  } catch (e) {
    if (!(e instanceof LabConfigError)) throw e;
    for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
    fail(`${file} is not a valid lab definition; not starting`);
  }
  for (const w of loaded.warnings) logger.warn(formatProblem(w));
  // Lab N of the definition (several labs on one host): its addresses and ports.
  let config;
  try {
    config = deriveLab(loaded.config, parseLabNumber(env.MAIL_LAB_LAB, 'MAIL_LAB_LAB'));
  } catch (e) {
    fail((e as Error).message);
  }

  const host = env.MAIL_LAB_DNS_HOST || '0.0.0.0';
  const faults = new DnsFaults(config.domains.map((d) => d.name));
  const server = await startDnsServer({ config, mode, host, port, logger, faults });
  logger.info(`dns ready on port ${server.port}`, { mode, config: file });
  // What it serves, as `npx mail-lab reload` may change it (reload.ts).
  const reloader = reloaderFromEnv(tokenFile);
  const lab = new DnsLab({ defined: config, serve: (c) => server.setConfig(c), place: reloader.place, keep: reloader.keep });
  // Swarm: no fixed addresses; serve the ones the platform gave the tasks, and follow them (with the definition in force).
  const watcher = swarmDiscovery(env) ? new AddressWatcher({ config, logger, onChange: (found) => lab.serve(withAddresses(lab.defined, found)) }) : undefined;
  await watcher?.start();
  const admin = adminText ? await startDnsAdmin({ faults, dns: server, logger, token: await adminTokenFromEnv(logger, mode), mode, host, port: Number(adminText), lab }) : undefined;
  if (admin) logger.info(`dns admin API on port ${admin.port}`);

  const stop = (signal: string) => {
    logger.info(`${signal} received, stopping`);
    watcher?.stop();
    Promise.all([server.close(), admin?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  try {
    limitHeapGrowth();
  } catch (e) {
    fail((e as Error).message);
  }
  main().catch((e: Error) => fail(e.message));
}
