/**
 * The instructor's fault family, in one place: every kind of fault (a cut
 * link is one of them: `break`/`heal` are its friendly verbs), the rules for
 * each fault's arguments, and the spec both sides speak. The CLI turns what
 * a teacher typed into a spec with {@link faultFromArgs}; the admin servers
 * check the spec they receive with the same schema ({@link faultSpecSchema});
 * so a rule (a greylisting delay of 1 ms to 1 d, a 5xx code, a one-line
 * reply text, two different lab domains for a link) exists once.
 *
 *   link <domain> <domain>        the path between two domains is cut (break/heal)
 *   dns-down                      the lab DNS stops answering
 *   dns-servfail <domain>         SERVFAIL for names in one lab domain
 *   server-down <domain> [--all]  port 25 refuses connections (--all: every mail port)
 *   greylist <domain> [delay]     451 for the first attempt of each triplet
 *   greet-delay <domain> [delay]  port 25 waits before its greeting; a client that talks first gets 421
 *   reject <address> [code text]  RCPT to that address answers 5xx
 *   slow-link <domain> <domain>   rate, delay, loss between two mail hosts (Docker lab)
 *   isolate <domain>              the domain is cut off from the backbone
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from './duration';
import type { LabConfig } from './config';

export const FAULT_KINDS = ['link', 'dns-down', 'dns-servfail', 'server-down', 'greylist', 'greet-delay', 'reject', 'slow-link', 'isolate'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How each fault is typed on the command line (`npx mail-lab fault …`). */
export const FAULT_USAGE: Record<FaultKind, string> = {
  link: 'link <domain> <domain>   (also: npx mail-lab break|heal <domain> <domain>)',
  'dns-down': 'dns-down',
  'dns-servfail': 'dns-servfail <domain>',
  'server-down': 'server-down <domain> [--all]',
  greylist: 'greylist <domain> [--delay 60s]',
  'greet-delay': 'greet-delay <domain> [--delay 5s]',
  reject: 'reject <address> [--code 552] [--text "5.2.2 Mailbox full"]',
  'slow-link': 'slow-link <domain> <domain> [--rate 64kbit] [--delay 500ms] [--loss 10%]',
  isolate: 'isolate <domain>',
};

/** Greylisting: the default delay and the longest one. */
export const GREYLIST_DEFAULT_MS = 60_000;
export const GREYLIST_MAX_MS = 86_400_000;
/**
 * greet-delay: the wait before the 220 greeting when none is given, and the
 * longest (an SMTP client waits 5 minutes for the greeting, RFC 5321
 * 4.5.3.2.1; a lab needs far less to make the point).
 */
export const GREET_DELAY_DEFAULT_MS = 5_000;
export const GREET_DELAY_MAX_MS = 60_000;
/** reject: the reply when none is given (RFC 3463 5.2.2: mailbox full). */
export const REJECT_DEFAULT = { code: 552, text: '5.2.2 Mailbox full' };
/** The text when only a code is given (RFC 3463 enhanced status codes). */
export const REJECT_DEFAULT_TEXT: Record<number, string> = {
  550: '5.1.1 User unknown',
  551: '5.1.6 User not local',
  552: REJECT_DEFAULT.text,
  553: '5.1.3 Mailbox name not allowed',
  554: '5.7.1 Rejected',
};
/** slow-link: the rate when nothing is given. */
export const SLOW_LINK_DEFAULT_RATE = '64kbit';
const SLOW_DELAY_MAX_MS = 10_000;

const domainName = z.string().min(1, { error: 'give a lab domain, e.g. dadali.com' }).transform((s) => s.toLowerCase().replace(/\.$/, ''));
const address = z
  .string()
  .transform((s) => s.toLowerCase())
  .refine((a) => /^[^@\s]+@[^@\s]+$/.test(a), { error: 'give an address such as jpri@dadali.com' });

/** A rate in bits per second as tc writes it, e.g. 64kbit, 1mbit. */
const RATE = /^\d+(\.\d+)?(bit|kbit|mbit|gbit)$/;

const greylist = z.object({ kind: z.literal('greylist'), domain: domainName, delayMs: z.number().int().min(1, { error: 'the delay must be at least 1ms' }).max(GREYLIST_MAX_MS, { error: 'the delay must be at most 1d' }).optional() });
const greetDelay = z.object({ kind: z.literal('greet-delay'), domain: domainName, delayMs: z.number().int().min(1, { error: 'the delay must be at least 1ms' }).max(GREET_DELAY_MAX_MS, { error: 'the delay must be at most 60s' }).optional() });
const reject = z.object({
  kind: z.literal('reject'),
  address,
  code: z.number().int().min(500, { error: 'the code must be a permanent SMTP reply code from 500 to 559, e.g. 550 (user unknown), 552 (mailbox full), 554' }).max(559, { error: 'the code must be a permanent SMTP reply code from 500 to 559, e.g. 550 (user unknown), 552 (mailbox full), 554' }).optional(),
  text: z
    .string()
    .refine((t) => t.trim() !== '', { error: 'the reply text must not be blank (leave it out for the default)' })
    .refine((t) => !/[\r\n]/.test(t) && t.length <= 200, { error: 'the reply text must be one line of at most 200 characters, e.g. "5.2.2 Mailbox full"' })
    .optional(),
});
const slowLink = z
  .object({
    kind: z.literal('slow-link'),
    a: domainName,
    b: domainName,
    rate: z
      .string()
      .transform((r) => r.toLowerCase())
      .refine((r) => RATE.test(r), { error: 'the rate must be in bits per second such as 64kbit, 512kbit, 1mbit' })
      .optional(),
    delayMs: z.number().int().min(1, { error: 'the delay must be at least 1ms' }).max(SLOW_DELAY_MAX_MS, { error: 'the delay must be at most 10s' }).optional(),
    loss: z.number().gt(0, { error: 'the loss is a percentage above 0 and below 100, e.g. 10%' }).lt(100, { error: 'the loss is a percentage above 0 and below 100, e.g. 10%' }).optional(),
  })
  .refine((s) => s.a !== s.b, { error: 'a link joins two different domains', path: ['b'] });
const link = z.object({ kind: z.literal('link'), a: domainName, b: domainName }).refine((s) => s.a !== s.b, { error: 'a link joins two different domains', path: ['b'] });

/** Every fault as a spec: what to apply or clear. */
export const faultSpecSchema = z.discriminatedUnion('kind', [
  link,
  z.object({ kind: z.literal('dns-down') }),
  z.object({ kind: z.literal('dns-servfail'), domain: domainName }),
  /** `all`: every mail port refuses (25, 587, 465, POP3, IMAP and their TLS ports), not only 25. */
  z.object({ kind: z.literal('server-down'), domain: domainName, all: z.boolean().optional() }),
  greylist,
  greetDelay,
  reject,
  slowLink,
  z.object({ kind: z.literal('isolate'), domain: domainName }),
]);
export type FaultSpec = z.output<typeof faultSpecSchema>;
export type FaultSpecOf<K extends FaultKind> = Extract<FaultSpec, { kind: K }>;

/** Which service applies a fault: the lab DNS, one mail domain, or a pair (each side its half). */
export function faultOwner(spec: FaultSpec): { dns: true } | { domain: string } | { pair: [string, string] } {
  switch (spec.kind) {
    case 'dns-down':
    case 'dns-servfail':
      return { dns: true };
    case 'reject':
      return { domain: spec.address.slice(spec.address.lastIndexOf('@') + 1) };
    case 'link':
    case 'slow-link':
      return { pair: [spec.a, spec.b] };
    default:
      return { domain: spec.domain };
  }
}

/** The reply a reject fault gives (the defaults filled in). */
export function rejectReply(spec: FaultSpecOf<'reject'>): { code: number; text: string } {
  const code = spec.code ?? REJECT_DEFAULT.code;
  return { code, text: spec.text ?? REJECT_DEFAULT_TEXT[code] ?? '5.0.0 Rejected by the instructor' };
}

/** Bad arguments, with the option or argument at fault: the CLI exits 2 with the message. */
export class FaultArgumentError extends Error {
  override readonly name = 'FaultArgumentError';
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

/** Options as the CLI and scenario files give them (strings, or numbers from YAML). */
export interface FaultOptions {
  delay?: string;
  code?: string | number;
  text?: string;
  rate?: string;
  loss?: string | number;
  /** server-down: every mail port, not only 25. */
  all?: boolean;
}

/** The options each fault takes on the command line. */
const OPTIONS: Record<FaultKind, (keyof FaultOptions)[]> = {
  link: [],
  'dns-down': [],
  'dns-servfail': [],
  'server-down': ['all'],
  greylist: ['delay'],
  'greet-delay': ['delay'],
  reject: ['code', 'text'],
  'slow-link': ['rate', 'delay', 'loss'],
  isolate: [],
};

/** The CLI's names of a spec's fields, for messages. */
const FLAG: Record<string, string> = { delayMs: '--delay', code: '--code', text: '--text', rate: '--rate', loss: '--loss', all: '--all' };

/** A domain of the lab (case-insensitive), or a message naming the lab's domains. */
export function checkLabDomain(config: LabConfig, name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (!config.domains.some((d) => d.name === n)) throw new FaultArgumentError(`unknown domain "${name}"; the lab has: ${config.domains.map((d) => d.name).join(', ')}`);
  return n;
}

/** Checks a spec against the schema and the lab (domains, addresses); returns it normalised. */
export function checkFaultSpec(config: LabConfig, input: unknown): FaultSpec {
  const r = faultSpecSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = String(issue?.path[0] ?? 'kind');
    throw new FaultArgumentError(`${FLAG[field] ? `${FLAG[field]}: ` : ''}${issue?.message ?? 'invalid'}`, field);
  }
  const spec = r.data;
  switch (spec.kind) {
    case 'link':
    case 'slow-link':
      checkLabDomain(config, spec.a);
      checkLabDomain(config, spec.b);
      break;
    case 'dns-servfail':
    case 'server-down':
    case 'greylist':
    case 'greet-delay':
    case 'isolate':
      checkLabDomain(config, spec.domain);
      break;
    case 'reject': {
      const domain = spec.address.slice(spec.address.lastIndexOf('@') + 1);
      const d = config.domains.find((x) => x.name === domain);
      if (!d) throw new FaultArgumentError(`${spec.address} is not an address of a lab domain (${config.domains.map((x) => x.name).join(', ')})`, 'address');
      const local = spec.address.slice(0, spec.address.lastIndexOf('@'));
      if (!d.accounts.some((a) => a.user === local) && !Object.hasOwn(d.aliases, local)) throw new FaultArgumentError(`${spec.address} is neither an account nor an alias of ${domain}`, 'address');
      break;
    }
  }
  return spec;
}

function durationArg(text: string, flag: string, range: string, example: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === null || !Number.isFinite(ms)) throw new FaultArgumentError(`${flag} must be a duration from ${range}, e.g. ${example} (got "${text}")`, flag);
  return ms;
}

function numberArg(value: string | number, flag: string, example: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).replace(/%$/, ''));
  if (!Number.isFinite(n) || String(value).trim() === '') throw new FaultArgumentError(`${flag} must be a number, e.g. ${example} (got "${value}")`, flag);
  return n;
}

/**
 * A spec from what was typed: `kind`, its positional arguments and options.
 * `clearing`: the options are not needed (a fault is cleared by its target).
 */
export function faultFromArgs(config: LabConfig, kind: string, args: string[], opts: FaultOptions = {}, clearing = false): FaultSpec {
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new FaultArgumentError(`unknown fault "${kind}"; the faults are: ${FAULT_KINDS.join(', ')}`);
  const k = kind as FaultKind;
  const want = (n: number) => {
    if (args.length !== n) throw new FaultArgumentError(`${k} takes ${n || 'no'} argument${n === 1 ? '' : 's'}: ${clearing ? 'clear ' + FAULT_USAGE[k].replace(/ \[.*$/, '') : FAULT_USAGE[k]}`);
  };
  const given = (Object.keys(opts) as (keyof FaultOptions)[]).filter((o) => opts[o] !== undefined && opts[o] !== false);
  const wrong = given.filter((o) => clearing || !OPTIONS[k].includes(o));
  if (wrong.length) throw new FaultArgumentError(`${clearing ? 'clear ' + k : k} takes ${clearing || !OPTIONS[k].length ? 'no options' : OPTIONS[k].map((o) => '--' + o).join(', ')}, not --${wrong.join(', --')}: ${FAULT_USAGE[k]}`);
  let input: Record<string, unknown>;
  switch (k) {
    case 'dns-down':
      want(0);
      input = { kind: k };
      break;
    case 'link':
    case 'slow-link': {
      want(2);
      input = { kind: k, a: checkLabDomain(config, args[0]), b: checkLabDomain(config, args[1]) };
      if (k === 'slow-link' && !clearing) {
        const none = opts.rate === undefined && opts.delay === undefined && opts.loss === undefined;
        input.rate = opts.rate ?? (none ? SLOW_LINK_DEFAULT_RATE : undefined);
        if (opts.delay !== undefined) input.delayMs = durationArg(opts.delay, '--delay', '1ms to 10s', '500ms');
        if (opts.loss !== undefined) input.loss = numberArg(opts.loss, '--loss', '10%');
      }
      break;
    }
    case 'reject':
      want(1);
      input = { kind: k, address: args[0] };
      if (!clearing) {
        if (opts.code !== undefined) input.code = numberArg(opts.code, '--code', '550');
        if (opts.text !== undefined) input.text = opts.text;
      }
      break;
    case 'greylist':
      want(1);
      input = { kind: k, domain: checkLabDomain(config, args[0]) };
      if (!clearing && opts.delay !== undefined) input.delayMs = durationArg(opts.delay, '--delay', '1ms to 1d', '60s, 2m, 500ms');
      break;
    case 'greet-delay':
      want(1);
      input = { kind: k, domain: checkLabDomain(config, args[0]) };
      if (!clearing && opts.delay !== undefined) input.delayMs = durationArg(opts.delay, '--delay', '1ms to 60s', '5s, 500ms');
      break;
    case 'server-down':
      want(1);
      input = { kind: k, domain: checkLabDomain(config, args[0]) };
      if (!clearing && opts.all) input.all = true;
      break;
    default:
      want(1);
      input = { kind: k, domain: checkLabDomain(config, args[0]) };
  }
  return checkFaultSpec(config, input);
}

/** `greylist dadali.com (delay 1m)`: a spec in words, for messages and lists. */
export function describeFault(spec: FaultSpec): string {
  switch (spec.kind) {
    case 'dns-down':
      return 'dns-down';
    case 'link':
      return `link ${spec.a} <-> ${spec.b}`;
    case 'slow-link':
      return `slow-link ${spec.a} <-> ${spec.b} (${describeSlowLink(spec)})`;
    case 'reject': {
      const r = rejectReply(spec);
      return `reject ${spec.address} (${r.code} ${r.text})`;
    }
    case 'greylist':
      return `greylist ${spec.domain} (delay ${formatDuration(spec.delayMs ?? GREYLIST_DEFAULT_MS)})`;
    case 'greet-delay':
      return `greet-delay ${spec.domain} (${formatDuration(spec.delayMs ?? GREET_DELAY_DEFAULT_MS)} before the greeting)`;
    case 'server-down':
      return spec.all ? `server-down ${spec.domain} (every mail port)` : `server-down ${spec.domain}`;
    default:
      return `${spec.kind} ${spec.domain}`;
  }
}

/** `rate 64kbit, delay 500ms, loss 10%`. */
export function describeSlowLink(p: { rate?: string; delayMs?: number; loss?: number }): string {
  return [p.rate && `rate ${p.rate}`, p.delayMs !== undefined && `delay ${formatDuration(p.delayMs)}`, p.loss !== undefined && `loss ${p.loss}%`].filter(Boolean).join(', ');
}
