/**
 * What `npx mail-lab reload` may change in a running lab, and what only a
 * restart can: the one list of it, used by every service (each checks a new
 * definition against the one it runs, then takes the parts it may) and by
 * the CLI's words.
 *
 * Applied while the lab runs: accounts (added, removed, new name or
 * password), generated student accounts (`students:`), aliases, MX records,
 * other DNS records, `relayDomains` (backup MX), the DNS TTL, the queue
 * profiles and `profile`, the instructor's login (read by `npx mail-lab web`
 * when it starts).
 *
 * Refused, with the reason: domains added, removed or reordered, a domain's
 * mail host, address or ports, the network, the client, the DNS's address
 * and ports (Docker publishes ports and gives addresses when it creates the
 * containers; a no-Docker lab's processes listen where they started), and
 * `limits`, `tls`, `smtp` (the SMTP, POP3 and IMAP servers take them when
 * they start).
 */
import { studentAccounts, type DomainConfig, type LabConfig } from '../config';

export interface AccountChanges {
  domain: string;
  added: string[];
  removed: string[];
  /** A new name or password. */
  changed: string[];
}

export interface ReloadPlan {
  /** What would change, one line each (`garudayaksa.com: account siswa6 added`); empty: nothing. */
  changes: string[];
  /** Why the new definition needs a restart instead, one reason each; empty when it can be reloaded. */
  needsRestart: string[];
  /** Every domain's accounts (generated student accounts included) that come and go. */
  accounts: AccountChanges[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const list = (xs: readonly string[]) => xs.join(', ');
const mxText = (d: DomainConfig) => d.mx.map((m) => `${m.preference} ${m.host}`).join(', ');
const recordText = (d: DomainConfig) => d.records.map((r) => `${r.name} ${r.type} ${r.value}`);

const RESTART = {
  domains: 'a domain of its own needs its own mail server (a container or a process), address and ports',
  place: 'Docker publishes ports and gives addresses when it creates the containers (a no-Docker lab listens where it started)',
  startup: 'the SMTP, POP3 and IMAP servers take it when they start',
} as const;

/** The accounts of a domain with what reload compares: name and password. */
function accountsOf(d: DomainConfig): Map<string, string> {
  const m = new Map(d.accounts.map((a) => [a.user, JSON.stringify([a.name ?? '', a.passwordHash ?? '', a.password ?? ''])]));
  for (const s of studentAccounts(d)) m.set(s.user, JSON.stringify(['generated', s.name]));
  return m;
}

function restartReasons(current: LabConfig, next: LabConfig): string[] {
  const out: string[] = [];
  const names = (c: LabConfig) => c.domains.map((d) => d.name);
  const added = names(next).filter((n) => !names(current).includes(n));
  const removed = names(current).filter((n) => !names(next).includes(n));
  if (added.length) out.push(`domain ${list(added)} added: ${RESTART.domains}`);
  if (removed.length) out.push(`domain ${list(removed)} removed: ${RESTART.domains}`);
  if (!added.length && !removed.length && !same(names(current), names(next))) out.push(`the order of the domains changed (the first one names the lab DNS and the client's defaults)`);
  for (const d of current.domains) {
    const n = next.domains.find((x) => x.name === d.name);
    if (!n) continue;
    if (d.mailHost !== n.mailHost) out.push(`${d.name}: mailHost ${d.mailHost} -> ${n.mailHost}: the server's certificate and host name are made when it starts`);
    if (d.address !== n.address) out.push(`${d.name}: address ${d.address} -> ${n.address}: ${RESTART.place}`);
    for (const k of new Set([...Object.keys(d.ports), ...Object.keys(n.ports)]) as Set<keyof DomainConfig['ports']>) {
      if (d.ports[k] !== n.ports[k]) out.push(`${d.name}: port ${k} ${d.ports[k] ?? 'none'} -> ${n.ports[k] ?? 'none'}: ${RESTART.place}`);
    }
  }
  if (!same(current.network, next.network)) out.push(`network: ${RESTART.place}`);
  if (!same(current.client, next.client)) out.push(`client: the client container is made when the lab starts`);
  for (const k of ['address', 'hostPort', 'adminPort'] as const) if (current.dns[k] !== next.dns[k]) out.push(`dns.${k} ${current.dns[k]} -> ${next.dns[k]}: ${RESTART.place}`);
  for (const part of ['limits', 'tls', 'smtp'] as const) {
    const a = current[part] as Record<string, unknown>;
    const b = next[part] as Record<string, unknown>;
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (!same(a[k], b[k])) out.push(`${part}.${k}: ${RESTART.startup}`);
  }
  return out;
}

function accountChanges(d: DomainConfig, n: DomainConfig): AccountChanges {
  const a = accountsOf(d);
  const b = accountsOf(n);
  return {
    domain: d.name,
    added: [...b.keys()].filter((u) => !a.has(u)),
    removed: [...a.keys()].filter((u) => !b.has(u)),
    changed: [...b.keys()].filter((u) => a.has(u) && a.get(u) !== b.get(u)),
  };
}

/** What reloading `next` into a lab that runs `current` would do (both lab N of their definitions). */
export function planReload(current: LabConfig, next: LabConfig): ReloadPlan {
  const needsRestart = restartReasons(current, next);
  const changes: string[] = [];
  const accounts: AccountChanges[] = [];
  for (const d of current.domains) {
    const n = next.domains.find((x) => x.name === d.name);
    if (!n) continue;
    const acc = accountChanges(d, n);
    accounts.push(acc);
    for (const u of acc.added) changes.push(`${d.name}: account ${u} added`);
    for (const u of acc.removed) changes.push(`${d.name}: account ${u} removed`);
    for (const u of acc.changed) changes.push(`${d.name}: account ${u} changed (name or password)`);
    const aliases = new Set([...Object.keys(d.aliases), ...Object.keys(n.aliases)]);
    for (const k of aliases) {
      if (!Object.hasOwn(n.aliases, k)) changes.push(`${d.name}: alias ${k} removed`);
      else if (!Object.hasOwn(d.aliases, k)) changes.push(`${d.name}: alias ${k} added (${list(n.aliases[k])})`);
      else if (!same(d.aliases[k], n.aliases[k])) changes.push(`${d.name}: alias ${k} now ${list(n.aliases[k])}`);
    }
    if (!same(d.mx, n.mx)) changes.push(`${d.name}: MX ${mxText(d)} -> ${mxText(n)}`);
    if (!same(d.records, n.records)) {
      const before = recordText(d);
      const after = recordText(n);
      for (const r of after.filter((x) => !before.includes(x))) changes.push(`${d.name}: DNS record ${r} added`);
      for (const r of before.filter((x) => !after.includes(x))) changes.push(`${d.name}: DNS record ${r} removed`);
    }
    if (!same(d.relayDomains ?? [], n.relayDomains ?? [])) changes.push(`${d.name}: backup MX for ${list(n.relayDomains ?? []) || 'no other domain'} (relayDomains)`);
  }
  if (current.dns.ttl !== next.dns.ttl) changes.push(`DNS TTL ${current.dns.ttl} s -> ${next.dns.ttl} s`);
  if (!same(current.profiles, next.profiles)) changes.push(`queue profiles: ${list(Object.keys(next.profiles))} (timings changed)`);
  if (current.profile !== next.profile) changes.push(`queue profile ${current.profile} -> ${next.profile}`);
  if (!same(current.instructor, next.instructor)) changes.push('the instructor login changed (`npx mail-lab web` reads it when it starts: start it again)');
  return { changes, needsRestart, accounts };
}

/**
 * `running` (the lab as this service runs it: on Swarm with the addresses
 * the platform gave) with the reloadable parts of `next`; everything a
 * restart would change stays as it runs.
 */
export function withReloadable(running: LabConfig, next: LabConfig): LabConfig {
  const domains = running.domains.map((d) => {
    const n = next.domains.find((x) => x.name === d.name);
    if (!n) return d;
    return { ...d, accounts: n.accounts, students: n.students, aliases: n.aliases, mx: n.mx, records: n.records, relayDomains: n.relayDomains };
  });
  return {
    ...running,
    domains,
    dns: { ...running.dns, ttl: next.dns.ttl },
    profile: next.profile,
    profiles: next.profiles,
    timing: next.timing,
    instructor: next.instructor,
    source: next.source,
  };
}
