/**
 * What every service's main.ts does the same way: read the lab definition
 * (printing every problem and exiting 1 when it is wrong), make the logger
 * from the environment, and stop cleanly on SIGTERM/SIGINT.
 */
import { loadLabConfig, LabConfigError, formatProblem, type LabConfig } from './config';
import { createLogger, type Logger } from './logger';

export function loggerFromEnv(component: string, fields?: Record<string, unknown>): Logger {
  const format = process.env.MAIL_LAB_LOG_FORMAT === 'json' ? 'json' : 'text';
  const level = (process.env.MAIL_LAB_LOG_LEVEL as 'debug' | 'info' | undefined) ?? 'debug';
  return createLogger({ format, level }, component, fields);
}

export function configFromEnv(log: Logger): LabConfig {
  const file = process.env.MAIL_LAB_CONFIG ?? '/etc/mail-lab/lab.yaml';
  try {
    const { config, warnings } = loadLabConfig(file);
    for (const w of warnings) log.warn(formatProblem(w));
    return config;
  } catch (e) {
    if (e instanceof LabConfigError) {
      for (const p of e.problems) process.stderr.write(formatProblem(p) + '\n');
      process.stderr.write(`the lab definition ${file} has errors; nothing was started\n`);
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
