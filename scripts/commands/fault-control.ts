/**
 * The instructor's faults, as the lab CLI (`npx mail-lab fault …`), `status`
 * and the scenario steps (`fault:` / `clear-fault:`) apply, clear and list
 * them. Every fault is reversible and made on the running lab, never by a
 * restart:
 *
 *   dns-down / dns-servfail <domain>   the lab DNS's admin API (dns.adminPort)
 *   server-down / greylist <domain>    the domain's admin API
 *   reject <address>                   the address's domain's admin API
 *   slow-link <domain> <domain>        tc / iptables in both mail containers (Docker only; slow-link.ts)
 *   isolate <domain>                   iptables in its container, or the servers' queues (isolate.ts)
 *
 * Applying a fault that is on, or clearing one that is off, is not an error:
 * the result has `changed: false` and a message saying "already …".
 */
import { request } from 'node:http';
import type { DomainConfig, LabConfig } from '../../services/core/src/config';
import { findDomain } from '../../services/core/src/config';
import { formatDuration, parseDuration } from '../../services/core/src/duration';
import type { LabTarget } from '../lab-target';
import { listIsolated, setIsolation } from './isolate';
import { applySlowLink, clearAllSlowLinks, clearSlowLink, listSlowLinks, slowLinkSummary, type SlowLinkParams } from './slow-link';

export const FAULT_KINDS = ['dns-down', 'dns-servfail', 'server-down', 'greylist', 'reject', 'slow-link', 'isolate'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultSpec =
  | { kind: 'dns-down' }
  | { kind: 'dns-servfail'; domain: string }
  | { kind: 'server-down'; domain: string }
  | { kind: 'greylist'; domain: string; delayMs?: number }
  | { kind: 'reject'; address: string; code?: number; text?: string }
  | { kind: 'slow-link'; a: string; b: string; params: SlowLinkParams }
  | { kind: 'isolate'; domain: string };

/** Options as the CLI and scenario files give them (strings, or numbers from YAML). */
export interface FaultOptions {
  delay?: string;
  code?: string | number;
  text?: string;
  rate?: string;
  loss?: string | number;
}

/** Bad arguments: the CLI exits 2 with this message. */
export class FaultArgumentError extends Error {}

export interface FaultResult {
  changed: boolean;
  lines: string[];
}

const USAGE: Record<FaultKind, string> = {
  'dns-down': 'dns-down',
  'dns-servfail': 'dns-servfail <domain>',
  'server-down': 'server-down <domain>',
  greylist: 'greylist <domain> [--delay 60s]',
  reject: 'reject <address> [--code 552] [--text "5.2.2 Mailbox full"]',
  'slow-link': 'slow-link <domain> <domain> [--rate 64kbit] [--delay 500ms] [--loss 10%]',
  isolate: 'isolate <domain>',
};
const OPTIONS: Record<FaultKind, (keyof FaultOptions)[]> = {
  'dns-down': [],
  'dns-servfail': [],
  'server-down': [],
  greylist: ['delay'],
  reject: ['code', 'text'],
  'slow-link': ['rate', 'delay', 'loss'],
  isolate: [],
};

export const faultUsage = (kind: FaultKind) => USAGE[kind];
export const allFaultUsage = () => FAULT_KINDS.map((k) => USAGE[k]).join(' | ');

function labDomain(config: LabConfig, name: string | undefined, kind: FaultKind): DomainConfig {
  const d = name ? config.domains.find((x) => x.name === name.toLowerCase()) : undefined;
  if (!d) throw new FaultArgumentError(`${name ? `unknown domain "${name}"` : 'name a domain'}: ${USAGE[kind]}, where <domain> is one of ${config.domains.map((x) => x.name).join(', ')}`);
  return d;
}

/** Checks the arguments of one fault and builds its spec (`clearing`: options are not taken). */
export function faultSpec(config: LabConfig, kind: string, args: string[], opts: FaultOptions = {}, clearing = false): FaultSpec {
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new FaultArgumentError(`unknown fault "${kind}"; the faults are: ${allFaultUsage()}`);
  const k = kind as FaultKind;
  const wantArgs = { 'dns-down': 0, 'dns-servfail': 1, 'server-down': 1, greylist: 1, reject: 1, 'slow-link': 2, isolate: 1 }[k];
  if (args.length !== wantArgs) throw new FaultArgumentError(`${k} takes ${wantArgs || 'no'} argument${wantArgs === 1 ? '' : 's'}: ${clearing ? 'clear ' + USAGE[k].replace(/ \[.*$/, '') : USAGE[k]}`);
  const given = (Object.keys(opts) as (keyof FaultOptions)[]).filter((o) => opts[o] !== undefined);
  const wrong = given.filter((o) => clearing || !OPTIONS[k].includes(o));
  if (wrong.length) throw new FaultArgumentError(`${clearing ? 'clear ' + k : k} takes ${clearing || !OPTIONS[k].length ? 'no options' : OPTIONS[k].map((o) => '--' + o).join(', ')}, not --${wrong.join(', --')}: ${USAGE[k]}`);
  switch (k) {
    case 'dns-down':
      return { kind: k };
    case 'dns-servfail':
    case 'server-down':
    case 'isolate':
      return { kind: k, domain: labDomain(config, args[0], k).name };
    case 'greylist': {
      const domain = labDomain(config, args[0], k).name;
      if (opts.delay === undefined) return { kind: k, domain };
      const delayMs = /^\d+$/.test(opts.delay) ? Number(opts.delay) * 1000 : parseDuration(opts.delay);
      if (delayMs === null || delayMs <= 0 || delayMs > 86_400_000) throw new FaultArgumentError(`--delay must be a duration from 1ms to 1d, e.g. 60s, 2m, 500ms (got "${opts.delay}")`);
      return { kind: k, domain, delayMs };
    }
    case 'reject': {
      const address = args[0].toLowerCase();
      const [local, host] = address.split('@');
      const d = host ? findDomain(config, host) : undefined;
      if (!d || d.name !== host || !local) throw new FaultArgumentError(`give a full address of a lab domain (${config.domains.map((x) => x.name).join(', ')}), e.g. jpri@dadali.com (got "${args[0]}")`);
      if (!d.accounts.some((a) => a.user === local) && !d.aliases[local]) throw new FaultArgumentError(`${address} is neither an account nor an alias of ${d.name}`);
      const code = opts.code === undefined ? undefined : Number(opts.code);
      if (code !== undefined && !/^5[0-5]\d$/.test(String(opts.code))) throw new FaultArgumentError(`--code must be a permanent SMTP reply code from 500 to 559, e.g. 550 (user unknown) or 552 (mailbox full) (got "${opts.code}")`);
      if (opts.text !== undefined && (!opts.text.trim() || /[\r\n]/.test(opts.text) || opts.text.length > 200)) throw new FaultArgumentError('--text must be one line of 1 to 200 characters, e.g. "5.2.2 Mailbox full"');
      return { kind: k, address, code, text: opts.text };
    }
    case 'slow-link': {
      const a = labDomain(config, args[0], k);
      const b = labDomain(config, args[1], k);
      if (a.name === b.name) throw new FaultArgumentError(`a link joins two different domains; got ${a.name} twice: ${USAGE[k]}`);
      const params: SlowLinkParams = {};
      if (opts.rate !== undefined) {
        if (!/^\d+(\.\d+)?(bit|kbit|mbit|gbit)$/i.test(opts.rate)) throw new FaultArgumentError(`--rate must be a rate in bits per second such as 64kbit, 512kbit, 1mbit (got "${opts.rate}")`);
        params.rate = opts.rate.toLowerCase();
      }
      if (opts.delay !== undefined) {
        const ms = parseDuration(opts.delay);
        if (ms === null || ms <= 0 || ms > 10_000) throw new FaultArgumentError(`--delay must be a duration from 1ms to 10s, e.g. 500ms (got "${opts.delay}")`);
        params.delayMs = ms;
      }
      if (opts.loss !== undefined) {
        const m = /^(\d+(?:\.\d+)?)%?$/.exec(String(opts.loss));
        const loss = m ? Number(m[1]) : NaN;
        if (!(loss > 0 && loss < 100)) throw new FaultArgumentError(`--loss must be a percentage above 0 and below 100, e.g. 10% (got "${opts.loss}")`);
        params.loss = loss;
      }
      if (!params.rate && params.delayMs === undefined && params.loss === undefined) params.rate = '64kbit';
      return { kind: k, a: a.name, b: b.name, params };
    }
  }
}

interface HttpAnswer<T> {
  status: number;
  body: T & { error?: string };
}

function http<T>(port: number, path: string, method: 'GET' | 'POST', who: string): Promise<T> {
  return new Promise<HttpAnswer<T>>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 500, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T & { error?: string } });
        } catch {
          reject(new Error(`${who} admin API answered HTTP ${res.statusCode} with something that is not JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot reach the admin API of ${who} on 127.0.0.1:${port} (${e.code ?? e.message}); is the lab up (\`npx mail-lab status\`), and was it started with this version (faults need it)?`)));
    req.end();
  }).then(({ status, body }) => {
    if (status === 400) throw new FaultArgumentError(body.error ?? 'bad arguments');
    if (status === 404 && /no such/.test(body.error ?? '')) throw new Error(`${who} has no fault endpoints (${body.error}); restart the lab with this version: \`npx mail-lab down\`, \`npx mail-lab up\``);
    if (status >= 400) throw new Error(body.error ?? `${who} admin API answered HTTP ${status}`);
    return body;
  });
}

const dnsAdmin = <T>(config: LabConfig, path: string, method: 'GET' | 'POST' = 'GET') => http<T>(config.dns.adminPort, path, method, 'the lab DNS');
const mailAdmin = <T>(config: LabConfig, domain: string, path: string, method: 'GET' | 'POST' = 'GET') =>
  http<T>(config.domains.find((d) => d.name === domain)!.ports.admin, path, method, domain);

function needDocker(target: LabTarget): NonNullable<LabTarget['netExec']> {
  if (!target.netExec) {
    throw new FaultArgumentError(
      'slow-link needs the Docker lab: it shapes traffic with tc and iptables inside the two mail containers, and the no-Docker lab has no network between the domains to slow down (use `npx mail-lab break` there, or start the Docker lab: `npx mail-lab down`, `npx mail-lab up`)',
    );
  }
  return target.netExec;
}

const pair = (a: string, b: string) => `${a} <-> ${b}`;

/** Applies a fault (on: true) or clears it (on: false). */
export async function setFault(target: LabTarget, spec: FaultSpec, on: boolean): Promise<FaultResult> {
  const config = target.config;
  const verb = on ? 'applied' : 'cleared';
  const clearHint = (args: string) => `remove it with \`npx mail-lab fault clear ${args}\``;
  switch (spec.kind) {
    case 'dns-down': {
      const r = await dnsAdmin<{ changed: boolean }>(config, `/faults/dns-down${on ? '' : '/clear'}`, 'POST');
      if (!r.changed) return { changed: false, lines: [on ? 'the lab DNS was already down (fault dns-down); nothing changed' : 'the lab DNS was already answering (no dns-down fault); nothing changed'] };
      return {
        changed: true,
        lines: on
          ? ['fault dns-down applied: the lab DNS stops answering; queries are logged and dropped, so lookups time out', 'senders cannot look up MX records: their queues defer and retry (nothing bounces)', clearHint('dns-down')]
          : ['fault dns-down cleared: the lab DNS answers again', 'queued mail goes out at the next retry; `npx mail-lab flush <domain>` sends it now'],
      };
    }
    case 'dns-servfail': {
      const r = await dnsAdmin<{ changed: boolean }>(config, `/faults/dns-servfail/${spec.domain}${on ? '' : '/clear'}`, 'POST');
      if (!r.changed) return { changed: false, lines: [on ? `the lab DNS already answers SERVFAIL for ${spec.domain}; nothing changed` : `the lab DNS already answers normally for ${spec.domain} (no dns-servfail fault); nothing changed`] };
      return {
        changed: true,
        lines: on
          ? [`fault dns-servfail ${spec.domain} applied: every name in ${spec.domain} gets SERVFAIL from the lab DNS`, `mail to ${spec.domain} is deferred and retried, not bounced (SERVFAIL is a temporary failure)`, clearHint(`dns-servfail ${spec.domain}`)]
          : [`fault dns-servfail ${spec.domain} cleared: the lab DNS answers for ${spec.domain} again`, 'queued mail goes out at the next retry; `npx mail-lab flush <domain>` sends it now'],
      };
    }
    case 'server-down': {
      const r = await mailAdmin<{ changed: boolean }>(config, spec.domain, `/faults/server-down${on ? '' : '/clear'}`, 'POST');
      if (!r.changed) return { changed: false, lines: [on ? `port 25 of ${spec.domain} was already down (fault server-down); nothing changed` : `port 25 of ${spec.domain} was already listening (no server-down fault); nothing changed`] };
      return {
        changed: true,
        lines: on
          ? [`fault server-down ${spec.domain} applied: SMTP port 25 of ${spec.domain} no longer listens (connection refused)`, 'submission (587), POP3, IMAP and its outbound queue keep working; senders to it defer and retry', clearHint(`server-down ${spec.domain}`)]
          : [`fault server-down ${spec.domain} cleared: port 25 of ${spec.domain} listens again`, 'senders deliver at their next retry; `npx mail-lab flush <domain>` sends now'],
      };
    }
    case 'greylist': {
      if (!on) {
        const r = await mailAdmin<{ changed: boolean }>(config, spec.domain, '/faults/greylist/clear', 'POST');
        return r.changed ? { changed: true, lines: [`fault greylist ${spec.domain} cleared: no more greylisting; the triplets seen are forgotten`] } : { changed: false, lines: [`${spec.domain} was not greylisting (no greylist fault); nothing changed`] };
      }
      const r = await mailAdmin<{ changed: boolean; delayMs: number }>(config, spec.domain, `/faults/greylist${spec.delayMs !== undefined ? `?delay=${spec.delayMs}ms` : ''}`, 'POST');
      const delay = formatDuration(r.delayMs);
      if (!r.changed) return { changed: false, lines: [`${spec.domain} was already greylisting with a delay of ${delay}; nothing changed`] };
      return {
        changed: true,
        lines: [
          `fault greylist ${spec.domain} applied: port 25 answers the first RCPT of each new (client IP, sender, recipient) with "451 4.7.1 Greylisted, try again in N s"`,
          `the same triplet is accepted once ${delay} have passed, so a real sender's queue delivers at its next retry`,
          clearHint(`greylist ${spec.domain}`),
        ],
      };
    }
    case 'reject': {
      const domain = spec.address.split('@')[1];
      if (!on) {
        const r = await mailAdmin<{ changed: boolean }>(config, domain, `/faults/reject/clear?address=${encodeURIComponent(spec.address)}`, 'POST');
        return r.changed ? { changed: true, lines: [`fault reject ${spec.address} cleared: RCPT TO:<${spec.address}> is accepted again`] } : { changed: false, lines: [`${spec.address} was not being rejected (no reject fault); nothing changed`] };
      }
      const q = new URLSearchParams({ address: spec.address, ...(spec.code !== undefined ? { code: String(spec.code) } : {}), ...(spec.text !== undefined ? { text: spec.text } : {}) });
      const r = await mailAdmin<{ changed: boolean; code: number; text: string }>(config, domain, `/faults/reject?${q}`, 'POST');
      if (!r.changed) return { changed: false, lines: [`${spec.address} was already rejected with "${r.code} ${r.text}"; nothing changed`] };
      return {
        changed: true,
        lines: [`fault reject ${spec.address} applied: RCPT TO:<${spec.address}> answers "${r.code} ${r.text}"`, 'a sending server bounces at once: its sender gets a delivery status notification', clearHint(`reject ${spec.address}`)],
      };
    }
    case 'isolate': {
      const d = config.domains.find((x) => x.name === spec.domain)!;
      const r = await setIsolation(target, d, on);
      if (!r.changed) return { changed: false, lines: [on ? `${spec.domain} was already cut off from the backbone (fault isolate); nothing changed` : `${spec.domain} was not cut off (no isolate fault); nothing changed`] };
      return {
        changed: true,
        lines: on
          ? [
              `fault isolate ${spec.domain} applied: ${spec.domain} is cut off from the lab backbone (no DNS, no other domain, no client container)`,
              `its outgoing mail waits in its queue (attempts time out), mail to it waits in the other domains' queues; nothing bounces before the return time`,
              `how: ${r.how}`,
              clearHint(`isolate ${spec.domain}`),
            ]
          : [`fault isolate ${spec.domain} cleared: ${spec.domain} is back on the backbone`, 'queued mail goes out at the next retry; `npx mail-lab flush <domain>` sends it now'],
      };
    }
    case 'slow-link': {
      const exec = needDocker(target);
      const [a, b] = [config.domains.find((d) => d.name === spec.a)!, config.domains.find((d) => d.name === spec.b)!];
      if (!on) {
        const r = await clearSlowLink(exec, config, a, b);
        return r.changed ? { changed: true, lines: [`fault slow-link ${pair(a.name, b.name)} cleared: tc shaping and loss rules removed in both mail containers`] } : { changed: false, lines: [`the link ${pair(a.name, b.name)} was not slowed (no slow-link fault); nothing changed`] };
      }
      const r = await applySlowLink(exec, config, a, b, spec.params);
      const state = r.states.find((s) => s.state)?.state;
      if (r.changed && r.states.every((s) => !s.state?.methods.length)) {
        // Only a delay was asked for, and this kernel cannot make one: undo, say so.
        await clearSlowLink(exec, config, a, b);
        throw new FaultArgumentError(`${state?.missing.join('; ') ?? 'nothing could be applied'}; nothing was applied (--rate and --loss work without netem)`);
      }
      const lines = [r.changed ? `fault slow-link ${pair(a.name, b.name)} applied (${state ? slowLinkSummary(state) : ''}) inside both mail containers, only to traffic between them` : `the link ${pair(a.name, b.name)} was already slowed like this; nothing changed`];
      for (const s of r.states) if (s.state) for (const m of s.state.methods) lines.push(`  ${s.container}: ${m}`);
      for (const miss of state?.missing ?? []) lines.push(`  ${miss}`);
      if (r.changed) lines.push(clearHint(`slow-link ${a.name} ${b.name}`));
      return { changed: r.changed, lines };
    }
  }
}

export interface ActiveFault {
  kind: FaultKind;
  /** What it applies to, e.g. `dadali.com` or `garudayaksa.com <-> dadali.com`. */
  target: string;
  detail: string;
  since?: string;
}

type MailFaultInfo = { kind: 'server-down' | 'greylist' | 'reject' | 'isolate'; domain: string; since: string; delayMs?: number; triplets?: number; passed?: number; address?: string; code?: number; text?: string };

/** The active faults, and what could not be asked (unreachable parts). */
export async function listFaults(target: LabTarget): Promise<{ faults: ActiveFault[]; unknown: string[] }> {
  const config = target.config;
  const faults: ActiveFault[] = [];
  const unknown: string[] = [];
  try {
    const r = await dnsAdmin<{ faults: { kind: 'dns-down' | 'dns-servfail'; domain?: string; since: string }[] }>(config, '/faults');
    for (const f of r.faults) {
      faults.push(
        f.kind === 'dns-down'
          ? { kind: f.kind, target: 'lab DNS', detail: 'not answering: queries are logged and dropped (time out)', since: f.since }
          : { kind: f.kind, target: f.domain!, detail: `SERVFAIL for every name in ${f.domain}`, since: f.since },
      );
    }
  } catch (e) {
    unknown.push(`lab DNS (${(e as Error).message.split(' (')[0]})`);
  }
  for (const d of config.domains) {
    try {
      const r = await mailAdmin<{ faults: MailFaultInfo[] }>(config, d.name, '/faults');
      for (const f of r.faults) {
        if (f.kind === 'server-down') faults.push({ kind: f.kind, target: d.name, detail: 'port 25 not listening (connection refused)', since: f.since });
        else if (f.kind === 'isolate') faults.push({ kind: f.kind, target: d.name, detail: 'cut off from the backbone (no-Docker lab: every remote delivery times out, the other servers do not reach it)', since: f.since });
        else if (f.kind === 'greylist') faults.push({ kind: f.kind, target: d.name, detail: `delay ${formatDuration(f.delayMs ?? 0)}, ${f.triplets ?? 0} triplet(s) seen, ${f.passed ?? 0} accepted`, since: f.since });
        else faults.push({ kind: f.kind, target: f.address!, detail: `RCPT answers ${f.code} ${f.text}`, since: f.since });
      }
    } catch (e) {
      unknown.push(`${d.name} (${(e as Error).message.split(' (')[0]})`);
    }
  }
  if (target.netExec) {
    try {
      for (const name of await listIsolated(target.netExec, config)) faults.push({ kind: 'isolate', target: name, detail: 'cut off from the backbone (iptables DROP in its container; its published ports still work)' });
    } catch (e) {
      unknown.push(`isolation (${(e as Error).message.split(':')[0]})`);
    }
    try {
      for (const l of await listSlowLinks(target.netExec, config)) {
        const how = [...l.state.methods.map((m) => m.replace(/ on \S+ for [\d.]+/, '').replace(/ \(this kernel.*\)$/, '')), ...l.state.missing.map((m) => m.replace(/:.*$/, ''))].join('; ');
        faults.push({ kind: 'slow-link', target: pair(l.a, l.b), detail: `${slowLinkSummary(l.state)} (${how})${l.stale ? ' STALE: tc shaping is gone (container restarted?); clear it' : ''}`, since: l.state.since });
      }
    } catch (e) {
      unknown.push(`slow links (${(e as Error).message.split(':')[0]})`);
    }
  }
  return { faults, unknown };
}

/** Lines for `status` and `fault list`. */
export function faultLines(r: { faults: ActiveFault[]; unknown: string[] }): string[] {
  const lines = r.faults.map((f) => `fault ${f.kind} ${f.target}: ${f.detail}${f.since ? ` (since ${f.since.slice(11, 19)})` : ''}`);
  if (!r.faults.length) lines.push(`faults: none${r.unknown.length ? ' known' : ''}`);
  if (r.unknown.length) lines.push(`faults unknown for: ${r.unknown.join('; ')}`);
  return lines;
}

/** Clears every fault (`fault clear all`). */
export async function clearAllFaults(target: LabTarget): Promise<FaultResult> {
  const config = target.config;
  const lines: string[] = [];
  let n = 0;
  n += (await dnsAdmin<{ cleared: number }>(config, '/faults/clear', 'POST')).cleared;
  // Isolation first, through setIsolation: in the no-Docker lab it also heals the links it broke (and only those).
  for (const d of config.domains) if ((await setIsolation(target, d, false)).changed) n++;
  for (const d of config.domains) n += (await mailAdmin<{ cleared: number }>(config, d.name, '/faults/clear', 'POST')).cleared;
  if (target.netExec) n += await clearAllSlowLinks(target.netExec, config);
  lines.push(n ? `cleared ${n} fault(s); the lab is back to normal` : 'no fault was active; nothing changed');
  return { changed: n > 0, lines };
}
