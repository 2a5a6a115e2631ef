/**
 * What every service's main.ts does the same way: read the lab definition
 * (printing every problem and exiting 1 when it is wrong), make the logger
 * from the environment, get the lab's admin token, and stop cleanly on
 * SIGTERM/SIGINT.
 */
import { loadLabConfig, LabConfigError, formatProblem, type LabConfig } from './config';
import { deriveLab, LabNumberError, parseLabNumber } from './labs';
import { ensureAdminToken } from './admin/token';
import { createLogger, type Logger } from './logger';

/** Where the Docker lab keeps its admin token: the `lab-admin` volume (token.ts). */
export const CONTAINER_ADMIN_TOKEN_FILE = '/var/mail-lab-admin/token';

/**
 * The lab's admin token, made on the first start of the lab: the file
 * MAIL_LAB_ADMIN_TOKEN_FILE (`up --local` sets `.lab-data/admin-token`),
 * else in Docker the container's `lab-admin` volume, else (a no-Docker
 * process started by hand) `fallback`, e.g. beside the domain's data.
 */
export async function adminTokenFromEnv(log: Logger, mode: 'docker' | 'local', fallback?: string): Promise<string> {
  const file = process.env.MAIL_LAB_ADMIN_TOKEN_FILE || (mode === 'docker' ? CONTAINER_ADMIN_TOKEN_FILE : fallback);
  if (!file) {
    process.stderr.write('MAIL_LAB_ADMIN_TOKEN_FILE is not set: where is the lab\'s admin token? (`npx mail-lab up --local` sets it)\n');
    process.exit(1);
  }
  try {
    return await ensureAdminToken(file);
  } catch (e) {
    process.stderr.write(`cannot read or make the lab's admin token in ${file}: ${(e as Error).message}\n`);
    log.error(`no admin token: ${(e as Error).message}`);
    process.exit(1);
  }
}

export function loggerFromEnv(component: string, fields?: Record<string, unknown>): Logger {
  const format = process.env.MAIL_LAB_LOG_FORMAT === 'json' ? 'json' : 'text';
  const level = (process.env.MAIL_LAB_LOG_LEVEL as 'debug' | 'info' | undefined) ?? 'debug';
  return createLogger({ format, level }, component, fields);
}

/** The lab definition (MAIL_LAB_CONFIG), as lab MAIL_LAB_LAB of it (labs.ts: addresses and host ports of that lab). */
export function configFromEnv(log: Logger): LabConfig {
  const file = process.env.MAIL_LAB_CONFIG ?? '/etc/mail-lab/lab.yaml';
  try {
    const { config, warnings } = loadLabConfig(file);
    for (const w of warnings) log.warn(formatProblem(w));
    return deriveLab(config, parseLabNumber(process.env.MAIL_LAB_LAB, 'MAIL_LAB_LAB'));
  } catch (e) {
    if (e instanceof LabConfigError) {
      for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
      process.stderr.write(`the lab definition ${file} has errors; nothing was started\n`);
      process.exit(1);
    }
    if (e instanceof LabNumberError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

export function onShutdown(log: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    close().then(
      () => process.exit(0),
      (e: Error) => {
        log.error(`shutdown failed: ${e.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
