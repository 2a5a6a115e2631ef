/**
 * The lab definition: one YAML file (lab-scenarios/lab.yaml) describing the
 * domains, accounts, aliases, DNS records, limits and queue timings.
 *
 * `loadLabConfig` parses it, checks it against the schema and cross-checks
 * it (unique names and ports, aliases that point somewhere), and reports
 * every problem at once with its file, line and column. Nothing starts on an
 * invalid definition. Only `main.ts` files and the CLI read files or the
 * environment; everything else receives the typed `LabConfig`.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration';
import { isPasswordHash } from './password';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const LOCAL_PART = /^[a-z0-9][a-z0-9._+-]{0,63}$/;

const duration = z
  .string()
  .refine((s) => parseDuration(s) !== null, { message: 'is not a duration (use e.g. 500ms, 30s, 15m, 4h, 5d)' })
  .transform((s) => parseDuration(s) as number);

const port = z.number().int().min(1).max(65535);
const ipv4 = z.string().refine((s) => isIP(s) === 4, { message: 'is not an IPv4 address' });
const hostname = z
  .string()
  .transform((s) => s.toLowerCase())
  .refine((s) => HOSTNAME.test(s), { message: 'is not a valid host name' });

const profileSchema = z
  .object({
    /** How long to wait between delivery attempts of a deferred message. */
    retryInterval: duration,
    /** After this long in the queue the sender gets a delay notice (RFC 3464). */
    warnAfter: duration,
    /** After this long the message is returned to the sender. */
    returnAfter: duration,
    /** TCP connect timeout for outbound SMTP. @default 5s */
    connectTimeout: duration.default(5000),
    /** Timeout for each outbound SMTP reply. @default 30s */
    commandTimeout: duration.default(30_000),
  })
  .strict();

const accountSchema = z
  .object({
    user: z.string().transform((s) => s.toLowerCase()).refine((s) => LOCAL_PART.test(s), { message: 'is not a valid user name' }),
    name: z.string().min(1).optional(),
    /** scrypt hash, made with `npx mail-lab hash-password`. */
    passwordHash: z.string().refine(isPasswordHash, { message: 'is not a scrypt hash (make one with `npx mail-lab hash-password`)' }).optional(),
    /** Plain password: allowed for quick experiments, reported as a warning. */
    password: z.string().min(1).optional(),
  })
  .strict()
  .refine((a) => (a.password === undefined) !== (a.passwordHash === undefined), {
    message: 'needs exactly one of passwordHash or password',
  });

/**
 * The instructor's login for the web pages (`npx mail-lab web`): a user name of
 * its own (not a mail account), a display name, and the password as a scrypt
 * hash (or, for quick experiments, in the clear, reported as a warning).
 */
const instructorSchema = z
  .object({
    user: z.string().transform((s) => s.toLowerCase()).refine((s) => LOCAL_PART.test(s), { message: 'is not a valid user name' }),
    name: z.string().min(1).optional(),
    passwordHash: z.string().refine(isPasswordHash, { message: 'is not a scrypt hash (make one with `npx mail-lab hash-password`)' }).optional(),
    password: z.string().min(1).optional(),
  })
  .strict()
  .refine((a) => (a.password === undefined) !== (a.passwordHash === undefined), {
    message: 'needs exactly one of passwordHash or password',
  });

const recordSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('A'), name: z.string(), value: ipv4 }).strict(),
  z.object({ type: z.literal('TXT'), name: z.string(), value: z.string() }).strict(),
  z.object({ type: z.literal('CNAME'), name: z.string(), value: hostname }).strict(),
]);

const portsSchema = z
  .object({
    smtp: port,
    submission: port,
    pop3: port,
    imap: port,
    admin: port,
    /** Submission over implicit TLS (465, RFC 8314); without it `up --local` does not listen for it. */
    smtps: port.optional(),
    /** IMAP over implicit TLS (993). */
    imaps: port.optional(),
    /** POP3 over implicit TLS (995). */
    pop3s: port.optional(),
  })
  .strict();

const domainSchema = z
  .object({
    name: hostname,
    /** Host name of the mail server; A and PTR records are made for it. */
    mailHost: hostname,
    /** The mail server's address on the lab backbone (Docker mode). */
    address: ipv4,
    /** Host ports (Docker publishes to them; `up --local` listens on them). */
    ports: portsSchema,
    /** MX records; by default the mail host with preference 10. */
    mx: z.array(z.object({ host: hostname, preference: z.number().int().min(0).max(65535) }).strict()).optional(),
    records: z.array(recordSchema).default([]),
    accounts: z.array(accountSchema).min(1),
    /**
     * A generated range of student accounts for a class that shares one lab:
     * `prefix` + a number of `digits` (at least 2): siswa01 … siswa30. Each gets
     * its own password, made by the server at first start (only its hash is
     * kept) and printed once on the cards (`npx mail-lab class cards --shared`).
     */
    students: z
      .object({
        prefix: z.string().regex(/^[a-z][a-z0-9._-]{0,40}$/, { message: 'must be a lower-case user name start such as siswa' }),
        count: z.number().int().min(1).max(99),
        /** Display name; `{n}` is the number. @default 'Siswa {n}' */
        name: z.string().min(1).default('Siswa {n}'),
      })
      .strict()
      .optional(),
    /** alias -> local users or full addresses (EXPN shows the expansion). */
    aliases: z.record(z.string(), z.array(z.string()).min(1)).default({}),
    /**
     * Other lab domains this server accepts mail for as their backup MX (Postfix's
     * relay_domains): port 25 takes mail for their known recipients without a login and
     * its queue passes it on to their best MX when that answers again (RFC 5321 5.1).
     * The other half is an MX record of that domain naming this mail host.
     */
    relayDomains: z.array(hostname).optional(),
  })
  .strict();

const labSchema = z
  .object({
    version: z.literal(1),
    /** Which entry of `profiles` the queue uses. */
    profile: z.string().default('classroom'),
    profiles: z.record(z.string(), profileSchema),
    limits: z
      .object({
        maxMessageSize: z.number().int().min(1024).default(10 * 1024 * 1024),
        maxRecipients: z.number().int().min(1).default(100),
        maxHops: z.number().int().min(2).max(100).default(30),
        maxLineLength: z.number().int().min(512).default(65_536),
        imapMaxLiteral: z.number().int().min(1024).default(20 * 1024 * 1024),
        sessionIdle: duration.default(600_000),
        /** Simultaneous SMTP connections from one address (a class behind one NAT shares it). */
        maxConnectionsPerClient: z.number().int().min(1).default(100),
        /** Commands a client may send on 587 before it logs in. */
        maxUnauthenticatedCommands: z.number().int().min(1).default(20),
        /** Messages a domain's queue holds before SMTP answers 452 (try later). */
        maxQueueSize: z.number().int().min(1).default(10_000),
      })
      .strict()
      .default({
        maxMessageSize: 10 * 1024 * 1024,
        maxRecipients: 100,
        maxHops: 30,
        maxLineLength: 65_536,
        imapMaxLiteral: 20 * 1024 * 1024,
        sessionIdle: 600_000,
        maxConnectionsPerClient: 100,
        maxUnauthenticatedCommands: 20,
        maxQueueSize: 10_000,
      }),
    tls: z
      .object({
        /**
         * Refuse logins before TLS: AUTH on 587 (530 5.7.0), POP3 USER/PASS/APOP,
         * IMAP LOGIN/AUTHENTICATE (LOGINDISABLED). Off by default: the first
         * exercises are typed over telnet. @default false
         */
        requireTls: z.boolean().default(false),
      })
      .strict()
      .default({ requireTls: false }),
    smtp: z
      .object({
        /** Answer VRFY (252 when false). */
        vrfy: z.boolean().default(true),
        /** Answer EXPN (252 when false). */
        expn: z.boolean().default(true),
        /**
         * MAIL FROM on port 25 naming a sender of the server's own domain
         * (a forged local sender: anyone can type `MAIL FROM:<budi@garudayaksa.com>`).
         * `accept`: taken like any sender (the telnet exercises do this).
         * `require-auth`: refused with `550 5.7.1 ... must log in`; the domain's
         * users send on submission (587/465) after AUTH. The null sender
         * (bounces) and other domains' senders are accepted either way. As with
         * SPF, forwarding suffers: an alias of the other domain that lists an
         * address here relays with the original sender, so a message from
         * here to that alias comes back refused (and bounces).
         * @default accept
         */
        localSenders: z.enum(['accept', 'require-auth']).default('accept'),
        /**
         * How long the server waits before its greeting. A client that talks in
         * that time gets `421 … You talk too soon` (early-talker detection, as
         * Postfix's postscreen does). 0: greet at once, as Postfix's smtpd does.
         * @default 0
         */
        greetDelay: duration.default(0),
      })
      .strict()
      .default({ vrfy: true, expn: true, localSenders: 'accept', greetDelay: 0 }),
    /** The lab's backbone network (a /24). @default the /24 of dns.address */
    network: z
      .object({
        subnet: z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/, { message: 'must be a /24 network such as 172.29.25.0/24' }),
      })
      .strict()
      .optional(),
    /** The client container: its address on the backbone, its host name, the domain its mail program uses. */
    client: z
      .object({
        address: ipv4,
        hostname,
        /** The domain whose servers the client's mail program uses by default. */
        homeDomain: hostname,
      })
      .strict()
      .optional(),
    dns: z
      .object({
        address: ipv4,
        hostPort: port,
        /** Host port of the DNS admin API (faults: dns-down, dns-servfail); 8053 inside the container. @default 10054 */
        adminPort: port.default(10054),
        ttl: z.number().int().min(0).default(60),
      })
      .strict(),
    domains: z.array(domainSchema).min(1),
    /** The instructor's login for the web pages (`npx mail-lab web`); without it only students can log in. */
    instructor: instructorSchema.optional(),
  })
  .strict();

type RawLab = z.infer<typeof labSchema>;
export type LabProfile = z.infer<typeof profileSchema>;
export type DomainConfig = z.infer<typeof domainSchema> & { mx: { host: string; preference: number }[] };
export type AccountConfig = z.infer<typeof accountSchema>;
export type InstructorConfig = z.infer<typeof instructorSchema>;
export type LabConfig = Omit<RawLab, 'domains'> & {
  domains: DomainConfig[];
  /** The profile named by `profile`, resolved. */
  timing: LabProfile;
  /** Where the definition came from, for messages. */
  source: string;
};

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted path inside the document, e.g. `domains[0].accounts[2].user`. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export class LabConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.filter((p) => p.severity === 'error').map(formatProblem).join('\n'));
    this.name = 'LabConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.path ? p.path + ': ' : ''}${p.message}`;
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join('');
}

type Position = { line: number; column: number };

/**
 * Line and column (from 1) of an offset, counted on the text itself: yaml's
 * LineCounter misses the line breaks inside some malformed tokens and then
 * places later problems on the wrong line, past its end.
 */
function positions(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    const o = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - starts[lo] + 1 };
  };
}

/** Line and column of the YAML node at `path`, or of its nearest existing parent. */
function locate(doc: Document, position: (offset: number) => Position, path: readonly PropertyKey[]): Position {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return position(node.range[0]);
  }
  return { line: 1, column: 1 };
}

/** A YAML document checked against a schema; every problem located by file, line and column. */
export interface LocatedYaml<T> {
  data: T;
  /** Adds a problem at a path of the document. */
  problem(path: readonly PropertyKey[], message: string, severity?: 'error' | 'warning'): void;
  problems: ConfigProblem[];
}

/** Parses YAML text and validates it with a zod schema. Throws LabConfigError listing every problem. */
export function parseYamlWithSchema<S extends z.ZodTypeAny>(text: string, file: string, schema: S): LocatedYaml<z.infer<S>> {
  const position = positions(text);
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  for (const e of doc.errors) {
    problems.push({ file, ...position(e.pos[0]), path: '', message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''), severity: 'error' });
  }
  if (problems.length) throw new LabConfigError(problems);
  const problem = (path: readonly PropertyKey[], message: string, severity: 'error' | 'warning' = 'error') =>
    problems.push({ file, ...locate(doc, position, path), path: pathText(path), message, severity });
  let js: unknown;
  try {
    js = doc.toJS();
  } catch (e) {
    // yaml refuses to expand an alias bomb (ReferenceError "Excessive alias count ...").
    throw new LabConfigError([{ file, line: 1, column: 1, path: '', message: `cannot read the document: ${(e as Error).message}`, severity: 'error' }]);
  }
  const parsed = schema.safeParse(js);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problem(issue.path, issue.message.startsWith('is ') || issue.message.startsWith('needs ') ? issue.message : issue.message.charAt(0).toLowerCase() + issue.message.slice(1));
    throw new LabConfigError(problems);
  }
  return { data: parsed.data, problem, problems };
}

/** Parses and validates lab definition text. Throws LabConfigError listing every problem. */
export function parseLabConfig(text: string, file = 'lab.yaml'): { config: LabConfig; warnings: ConfigProblem[] } {
  const { data: raw, problem: add, problems } = parseYamlWithSchema(text, file, labSchema);

  // Cross-checks that a schema cannot express.
  // Own keys only: `profile: constructor` must not find Object.prototype.constructor.
  if (!Object.hasOwn(raw.profiles, raw.profile)) {
    add(['profile'], `names profile "${raw.profile}", but profiles has only: ${Object.keys(raw.profiles).join(', ')}`);
  }
  for (const [name, p] of Object.entries(raw.profiles)) {
    if (p.warnAfter >= p.returnAfter) add(['profiles', name, 'warnAfter'], 'must be shorter than returnAfter');
    if (p.retryInterval > p.returnAfter) add(['profiles', name, 'retryInterval'], 'must not be longer than returnAfter');
  }
  const seenNames = new Map<string, number>();
  const seenPorts = new Map<number, string>([[raw.dns.hostPort, 'dns.hostPort']]);
  if (seenPorts.has(raw.dns.adminPort)) add(['dns', 'adminPort'], `port ${raw.dns.adminPort} is already used by dns.hostPort`);
  seenPorts.set(raw.dns.adminPort, 'dns.adminPort');
  const seenAddresses = new Map<string, string>([[raw.dns.address, 'dns.address']]);
  raw.domains.forEach((d, i) => {
    if (seenNames.has(d.name)) add(['domains', i, 'name'], `domain ${d.name} is defined twice (also domains[${seenNames.get(d.name)}])`);
    seenNames.set(d.name, i);
    if (!d.mailHost.endsWith('.' + d.name)) add(['domains', i, 'mailHost'], `must be a name inside ${d.name}, e.g. mail.${d.name}`);
    const prev = seenAddresses.get(d.address);
    if (prev) add(['domains', i, 'address'], `${d.address} is already used by ${prev}`);
    seenAddresses.set(d.address, `domains[${i}]`);
    for (const [key, value] of Object.entries(d.ports)) {
      if (value === undefined) continue;
      const other = seenPorts.get(value);
      if (other) add(['domains', i, 'ports', key], `port ${value} is already used by ${other}`);
      seenPorts.set(value, `domains[${i}].ports.${key}`);
    }
    const users = new Set<string>();
    d.accounts.forEach((a, j) => {
      if (users.has(a.user)) add(['domains', i, 'accounts', j, 'user'], `account ${a.user}@${d.name} is defined twice`);
      users.add(a.user);
      if (a.password !== undefined) {
        add(['domains', i, 'accounts', j, 'password'], 'plain-text password: store a hash instead (`npx mail-lab hash-password`)', 'warning');
      }
    });
    for (const s of d.students ? studentAccounts(d as Pick<DomainConfig, 'students'>) : []) {
      if (users.has(s.user)) add(['domains', i, 'students'], `the generated account ${s.user}@${d.name} is also in accounts`);
      if (Object.hasOwn(d.aliases, s.user)) add(['domains', i, 'students'], `the generated account ${s.user}@${d.name} is also an alias`);
      users.add(s.user);
    }
    for (const [alias, targets] of Object.entries(d.aliases)) {
      if (!LOCAL_PART.test(alias)) add(['domains', i, 'aliases', alias], `alias name "${alias}" is not a valid user name`);
      if (users.has(alias)) add(['domains', i, 'aliases', alias], `alias ${alias} has the same name as an account`);
      targets.forEach((t, k) => {
        const target = t.toLowerCase();
        if (target.includes('@')) {
          const [local, host] = target.split('@');
          if (!LOCAL_PART.test(local) || !HOSTNAME.test(host ?? '')) add(['domains', i, 'aliases', alias, k], `"${t}" is not a valid address`);
        } else if (!users.has(target)) {
          add(['domains', i, 'aliases', alias, k], `"${t}" is not an account of ${d.name}`);
        }
      });
    }
  });
  // Backup MX: a domain relays only for other lab domains; an MX naming another domain's mail host needs that domain's consent.
  raw.domains.forEach((d, i) => {
    (d.relayDomains ?? []).forEach((r, k) => {
      if (r === d.name) add(['domains', i, 'relayDomains', k], `${d.name} is this domain itself: its own mail is delivered here anyway`);
      else if (!seenNames.has(r)) add(['domains', i, 'relayDomains', k], `"${r}" is not a domain of this lab (a backup MX here relays only for lab domains: ${raw.domains.map((x) => x.name).join(', ')})`);
      else if (!(raw.domains[seenNames.get(r)!].mx ?? []).some((m) => m.host === d.mailHost)) {
        add(['domains', i, 'relayDomains', k], `${d.name} accepts mail for ${r} as a backup MX, but no MX record of ${r} names ${d.mailHost}, so no sender will come here: add \`{ host: ${d.mailHost}, preference: 20 }\` to the mx of ${r}`, 'warning');
      }
    });
    (d.mx ?? []).forEach((m, k) => {
      const host = raw.domains.find((x) => x.name !== d.name && x.mailHost === m.host);
      if (host && !(host.relayDomains ?? []).includes(d.name)) {
        add(['domains', i, 'mx', k, 'host'], `${m.host} is the mail host of ${host.name}, which does not accept mail for ${d.name}: add \`relayDomains: [${d.name}]\` to ${host.name}, or mail sent there is refused (554 Relay access denied)`, 'warning');
      }
    });
  });
  // Every address on the one backbone.
  const net = raw.network?.subnet.split('.').slice(0, 3).join('.') ?? raw.dns.address.split('.').slice(0, 3).join('.');
  const onBackbone = (address: string, path: (string | number)[]) => {
    if (address.split('.').slice(0, 3).join('.') !== net) add(path, `${address} is not on the lab's backbone ${net}.0/24`);
    else if (/\.(0|1|255)$/.test(address)) add(path, `${address} is reserved on the backbone (.0 network, .1 gateway, .255 broadcast)`);
  };
  onBackbone(raw.dns.address, ['dns', 'address']);
  raw.domains.forEach((d, i) => onBackbone(d.address, ['domains', i, 'address']));
  if (raw.client) {
    onBackbone(raw.client.address, ['client', 'address']);
    const prev = seenAddresses.get(raw.client.address);
    if (prev) add(['client', 'address'], `${raw.client.address} is already used by ${prev}`);
    if (!raw.domains.some((d) => d.name === raw.client!.homeDomain)) add(['client', 'homeDomain'], `"${raw.client.homeDomain}" is not a domain of this lab`);
  }
  if (raw.instructor?.password !== undefined) add(['instructor', 'password'], 'plain-text password: store a hash instead (`npx mail-lab hash-password`)', 'warning');
  if (problems.some((p) => p.severity === 'error')) throw new LabConfigError(problems);

  const domains: DomainConfig[] = raw.domains.map((d) => ({
    ...d,
    mx: d.mx && d.mx.length ? d.mx : [{ host: d.mailHost, preference: 10 }],
    aliases: Object.fromEntries(Object.entries(d.aliases).map(([k, v]) => [k, v.map((t) => t.toLowerCase())])),
  }));
  const config: LabConfig = { ...raw, domains, timing: raw.profiles[raw.profile], source: file };
  return { config, warnings: problems };
}

/** Reads and validates a lab definition file. */
export function loadLabConfig(file: string): { config: LabConfig; warnings: ConfigProblem[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LabConfigError([
      { file, line: 1, column: 1, path: '', message: `cannot read the lab definition: ${(e as Error).message}`, severity: 'error' },
    ]);
  }
  return parseLabConfig(text, file);
}

/** The generated student accounts of a domain (`students:`), in order: siswa01 … */
export function studentAccounts(d: Pick<DomainConfig, 'students'>): { user: string; name: string; number: number }[] {
  if (!d.students) return [];
  const { prefix, count, name } = d.students;
  const digits = Math.max(2, String(count).length);
  return Array.from({ length: count }, (_, i) => ({ user: `${prefix}${String(i + 1).padStart(digits, '0')}`, name: name.replace('{n}', String(i + 1)), number: i + 1 }));
}

/** The domain a host name or address belongs to, if any. */
export function findDomain(config: LabConfig, name: string): DomainConfig | undefined {
  const lower = name.toLowerCase();
  return config.domains.find((d) => d.name === lower || lower.endsWith('.' + d.name));
}

export function requireDomain(config: LabConfig, name: string): DomainConfig {
  const d = config.domains.find((x) => x.name === name.toLowerCase());
  if (!d) throw new Error(`unknown domain "${name}"; the lab has: ${config.domains.map((x) => x.name).join(', ')}`);
  return d;
}
