/**
 * The wire transcript (`--verbose`): every protocol line as `C: ...` (what
 * the client sent) or `S: ...` (what the server answered), so a student sees
 * the conversation behind each command. Adapters turn nodemailer's and
 * imapflow's loggers into the same lines; passwords never appear.
 */
import { format } from 'node:util';

export type Direction = 'C' | 'S';
export type Transcript = (direction: Direction, line: string) => void;

/** Writes `C: line` / `S: line` through `write`, one call per line. */
export function transcriptTo(write: (text: string) => void): Transcript {
  return (direction, text) => {
    for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/)) write(`${direction}: ${line}\n`);
  };
}

type LogFn = (...args: unknown[]) => void;
type Logger = Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', LogFn>;

const quiet: LogFn = () => undefined;

/** A nodemailer `logger`: with `debug: true` it reports traffic with `tnx: 'client' | 'server'`. */
export function nodemailerLogger(t: Transcript | undefined): Logger | false {
  if (!t) return false;
  const log: LogFn = (meta, message, ...args) => {
    const tnx = (meta as { tnx?: string } | undefined)?.tnx;
    if (tnx !== 'client' && tnx !== 'server') return;
    t(tnx === 'client' ? 'C' : 'S', format(String(message), ...args));
  };
  return { trace: quiet, debug: log, info: log, warn: quiet, error: quiet, fatal: quiet };
}

/** An imapflow `logger`: it logs objects with `src: 'c' | 's'` and the line in `msg`. */
export function imapflowLogger(t: Transcript | undefined): Logger | false {
  if (!t) return false;
  const log: LogFn = (entry) => {
    const e = entry as { src?: string; msg?: string } | undefined;
    if (!e || typeof e.msg !== 'string' || (e.src !== 'c' && e.src !== 's')) return;
    t(e.src === 'c' ? 'C' : 'S', e.msg);
  };
  return { trace: log, debug: log, info: log, warn: quiet, error: quiet, fatal: quiet };
}
