/**
 * What every service's main.ts does the same way: read the lab definition
 * (printing every problem and exiting 1 when it is wrong), make the logger
 * from the environment, get the lab's admin token, and stop cleanly on
 * SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { parseLabConfig, LabConfigError, formatProblem, type LabConfig } from './config';
import { deriveLab, LabNumberError, parseLabNumber } from './labs';
import { ensureAdminToken } from './admin/token';
import { createLogger, type Logger } from './logger';
import { saveDefinition, savedDefinitionFile, startDefinition } from './reload/saved';

/** Where the Docker lab keeps its admin token: the `lab-admin` volume (token.ts). */
export const CONTAINER_ADMIN_TOKEN_FILE = '/var/mail-lab-admin/token';

/**
 * The lab's admin token, made on the first start of the lab: the file
 * MAIL_LAB_ADMIN_TOKEN_FILE (`up --local` sets `.lab-data/admin-token`),
 * else in Docker the container's `lab-admin` volume, else (a no-Docker
 * process started by hand) `fallback`, e.g. beside the domain's data.
 */
export async function adminTokenFromEnv(log: Logger, mode: 'docker' | 'local', fallback?: string): Promise<string> {
  const file = adminTokenFile(mode, fallback);
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

/** Where the lab's admin token is: MAIL_LAB_ADMIN_TOKEN_FILE, else the Docker lab's `lab-admin` volume, else `fallback`. */
export function adminTokenFile(mode: 'docker' | 'local', fallback?: string): string | undefined {
  return process.env.MAIL_LAB_ADMIN_TOKEN_FILE || (mode === 'docker' ? CONTAINER_ADMIN_TOKEN_FILE : fallback);
}

/** The start-up definition file (MAIL_LAB_CONFIG). */
const definitionFile = () => process.env.MAIL_LAB_CONFIG ?? '/etc/mail-lab/lab.yaml';

/**
 * How a service takes a new lab definition while it runs (`npx mail-lab reload`,
 * core/src/reload/): `place` makes lab MAIL_LAB_LAB of its text, as at start;
 * `keep` saves it beside the admin token (reload/saved.ts), so a restart keeps it.
 */
export interface DefinitionReloader {
  place(text: string, file: string): LabConfig;
  /** Returns where it was kept. */
  keep(text: string, file: string): Promise<string>;
}

export function reloaderFromEnv(tokenFile: string | undefined): DefinitionReloader {
  const n = parseLabNumber(process.env.MAIL_LAB_LAB, 'MAIL_LAB_LAB');
  return {
    place: (text, file) => deriveLab(parseLabConfig(text, file).config, n),
    keep: async (text, file) => {
      if (!tokenFile) throw new Error('this service has no place for it (no admin token file)');
      const path = savedDefinitionFile(tokenFile);
      await saveDefinition(path, { baseText: readFileSync(definitionFile(), 'utf8'), text, file });
      return path;
    },
  };
}

/**
 * The lab definition (MAIL_LAB_CONFIG, or a reloaded one kept beside the admin token
 * `tokenFile` that is newer: reload/saved.ts), as lab MAIL_LAB_LAB of it (labs.ts:
 * addresses and host ports of that lab).
 */
export function configFromEnv(log: Logger, tokenFile?: string): LabConfig {
  const file = definitionFile();
  try {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new LabConfigError([{ file, line: 1, column: 1, path: '', message: `cannot read the lab definition: ${(e as Error).message}`, severity: 'error' }]);
    }
    const start = startDefinition(text, file, tokenFile ? savedDefinitionFile(tokenFile) : undefined);
    if (start.note) log.info(start.note);
    const { config, warnings } = parseLabConfig(start.text, start.file);
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
