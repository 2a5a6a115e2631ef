/**
 * Logging for the lab. Lines are plain text by default because the class
 * reads them (`docker logs mail-lab-dadali`): `time level component message
 * key=value…`. `MAIL_LAB_LOG_FORMAT=json` (read in main.ts) switches to one
 * JSON object per line for machines. Wire transcripts use the same logger
 * with `C:` / `S:` prefixes.
 */
import { formatWithOptions } from 'node:util';
import { turnBatch } from './turn-batch';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `component` (e.g. `smtp`, `queue`) and extra fields. */
  child(component: string, fields?: LogFields): Logger;
}

export interface LoggerOptions {
  format?: 'text' | 'json';
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const LEVEL_TEXT: Record<LogLevel, string> = { debug: 'debug', info: 'info ', warn: 'warn ', error: 'error' };

/** The default destination: standard output, the lines of one turn of the event loop in one write (turn-batch.ts). */
const stdoutLines = turnBatch((text) => process.stdout.write(text));

const BARE = /^[^\s"=]+$/;

function renderValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  return typeof value === 'string' && BARE.test(value) ? value : JSON.stringify(value);
}

/** ` k=v` for each defined field, in order. */
function renderFields(fields: LogFields | undefined): string {
  let out = '';
  for (const k in fields) {
    const v = fields[k];
    if (v !== undefined) out += ` ${k}=${renderValue(v)}`;
  }
  return out;
}

export function createLogger(options: LoggerOptions = {}, component = 'lab', base: LogFields = {}): Logger {
  const format = options.format ?? 'text';
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => stdoutLines.push(line));
  const now = options.now ?? (() => new Date());
  // A debug line per SMTP command and reply: the fixed fields are rendered once, not per line.
  let baseText: string | null = null;
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    if (format === 'json') {
      write(JSON.stringify({ time: now().toISOString(), level, component, msg: message, ...base, ...fields }));
      return;
    }
    // A field given again replaces the fixed one, in the fixed one's place.
    const overrides = fields !== undefined && Object.keys(fields).some((k) => Object.hasOwn(base, k));
    const extra = overrides ? renderFields({ ...base, ...fields }) : (baseText ??= renderFields(base)) + renderFields(fields);
    write(`${now().toISOString()} ${LEVEL_TEXT[level]} ${component} ${message}${extra}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c, f) => createLogger(options, c, { ...base, ...f }),
  };
}

/** A logger that keeps lines in memory, for tests and for the admin transcript view. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, write: (l) => lines.push(l) });
  return Object.assign(logger, { lines });
}

/**
 * Adapts our logger to the bunyan-style interface that smtp-server and
 * nodemailer's SMTP client call (`logger.info({ tnx }, format, ...args)`),
 * so their wire traffic lands in our transcript as `C:` / `S:` lines.
 * `messageLines`: of the message text nodemailer logs while sending DATA
 * (`tnx: 'message'`), keep only the first N lines, then one line saying how
 * many were left out (the headers show what was sent; a 20 KB body in every
 * log and transcript shows nothing more).
 */
export function bunyanAdapter(log: Logger, level: LogLevel = 'debug', options: { messageLines?: number } = {}) {
  const keep = options.messageLines ?? Infinity;
  let messageSeen = 0;
  const flushSkipped = () => {
    if (messageSeen > keep) log[level](`C: [... ${messageSeen - keep} more line(s) of the message ...]`);
    messageSeen = 0;
  };
  const write = (fallback: LogLevel) => (...args: unknown[]) => {
    const hasMeta = typeof args[0] === 'object' && args[0] !== null && !(args[0] instanceof Error);
    const meta = (hasMeta ? args[0] : {}) as { tnx?: string; cid?: string };
    const rest = hasMeta ? args.slice(1) : args;
    const text = rest.length ? formatWithOptions({ breakLength: Infinity }, ...(rest as [unknown, ...unknown[]])) : '';
    if (meta.tnx !== 'message') flushSkipped();
    const lvl = meta.tnx === 'client' || meta.tnx === 'server' || meta.tnx === 'command' || meta.tnx === 'send' || meta.tnx === 'message' ? level : fallback;
    for (const line of text.split(/\r?\n/)) {
      if (meta.tnx === 'message' && ++messageSeen > keep) continue;
      if (!line.trim()) continue;
      const prefix = meta.tnx === 'client' || meta.tnx === 'message' ? 'C: ' : meta.tnx === 'server' ? 'S: ' : '';
      log[lvl](prefix + line, meta.cid ? { cid: meta.cid } : undefined);
    }
  };
  return { trace: write('debug'), debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), fatal: write('error') };
}

/** A logger that also hands each message line to `sink` (e.g. to keep a session's transcript). */
export function teeLogger(base: Logger, sink: (line: string) => void): Logger {
  const wrap = (l: Logger): Logger => ({
    debug: (m, f) => (sink(m), l.debug(m, f)),
    info: (m, f) => (sink(m), l.info(m, f)),
    warn: (m, f) => (sink(m), l.warn(m, f)),
    error: (m, f) => (sink(m), l.error(m, f)),
    child: (c, f) => wrap(l.child(c, f)),
  });
  return wrap(base);
}
