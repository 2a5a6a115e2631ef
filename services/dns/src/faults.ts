/**
 * The instructor's DNS faults, in memory, reversible without a restart:
 *
 * - `down`: the lab DNS stops answering (queries are read, logged and
 *   dropped, so resolvers time out), as when a name server is unreachable.
 * - `servfail <domain>`: names in one lab domain get SERVFAIL (the server
 *   is there but cannot answer for that zone), e.g. a broken zone.
 *
 * Both are temporary failures for a sending mail server: it defers and
 * retries, it never bounces (RFC 5321 §5.1; queue/outbound.ts). server.ts
 * asks `verdict()` for every query; admin.ts lets the lab CLI set them.
 */

export type DnsFaultKind = 'dns-down' | 'dns-servfail';

export interface DnsFaultInfo {
  kind: DnsFaultKind;
  /** The domain for `dns-servfail`. */
  domain?: string;
  since: string;
}

export interface DnsVerdict {
  action: 'drop' | 'servfail';
  /** For the log line, e.g. `fault dns-servfail dadali.com`. */
  reason: string;
}

export class DnsFaults {
  private downSince: Date | null = null;
  private readonly servfail = new Map<string, Date>();

  /** `zones`: the lab domains that `servfail` may name. */
  constructor(private readonly zones: string[], private readonly now: () => Date = () => new Date()) {}

  /** The lab domains this server is authoritative for. */
  domains(): string[] {
    return [...this.zones];
  }

  /** Returns false when the DNS was already down. */
  setDown(on: boolean): boolean {
    if ((this.downSince !== null) === on) return false;
    this.downSince = on ? this.now() : null;
    return true;
  }

  /** Returns false when nothing changed. Throws for a domain that is not a lab zone. */
  setServfail(domain: string, on: boolean): boolean {
    const name = domain.toLowerCase().replace(/\.$/, '');
    if (!this.zones.includes(name)) throw new RangeError(`"${domain}" is not a lab domain; the lab DNS serves: ${this.zones.join(', ')}`);
    if (this.servfail.has(name) === on) return false;
    if (on) this.servfail.set(name, this.now());
    else this.servfail.delete(name);
    return true;
  }

  /** What to do with a query for `name` (as asked); null: answer normally. */
  verdict(name: string): DnsVerdict | null {
    if (this.downSince) return { action: 'drop', reason: 'fault dns-down: no answer sent' };
    const lower = name.toLowerCase().replace(/\.$/, '');
    for (const zone of this.servfail.keys()) {
      if (lower === zone || lower.endsWith('.' + zone)) return { action: 'servfail', reason: `fault dns-servfail ${zone}` };
    }
    return null;
  }

  list(): DnsFaultInfo[] {
    const out: DnsFaultInfo[] = [];
    if (this.downSince) out.push({ kind: 'dns-down', since: this.downSince.toISOString() });
    for (const [domain, since] of this.servfail) out.push({ kind: 'dns-servfail', domain, since: since.toISOString() });
    return out;
  }

  clearAll(): number {
    const n = this.list().length;
    this.downSince = null;
    this.servfail.clear();
    return n;
  }
}
