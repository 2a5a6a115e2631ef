/**
 * One lab's state as the instructor's pages show it, asked of its admin
 * APIs: which services answer (`GET /health`, no token), the links between
 * its domains (each domain's `GET /links`: cut, slowed, isolated), the
 * active faults (the DNS's and each domain's `GET /faults`) and the queues
 * (size, held, the queue profile). A part that does not answer is named in
 * `unknown`, never guessed.
 *
 * {@link LabStatusCache} keeps each lab's state for a few seconds and
 * forgets it when an event of that lab arrives, so a class grid of 30 labs
 * asks each lab again only when something happened there.
 */
import { DNS_API, MAIL_API, type ActiveFault, type LinksView, type SlowLinkInfo } from '../../../core/src/admin/api';
import { AdminClient } from '../../../core/src/admin/client';
import type { LabSource, WebLab } from '../labs';
import type { UpstreamHub } from '../live/upstream';

export interface ServiceStatus {
  /** `dns` or the domain. */
  id: string;
  /** The host name (`mail.dadali.com`) or `dns`. */
  host: string;
  address: string;
  up: boolean;
  detail: string;
}

export interface LinkStatus {
  a: string;
  b: string;
  cut: boolean;
  slow?: SlowLinkInfo;
}

export interface QueueStatus {
  domain: string;
  /** null: the domain did not answer. */
  size: number | null;
  held: number;
  /** Messages with at least one failed attempt. */
  deferred: number;
  profile: string | null;
}

export interface LabStatus {
  n: number;
  student?: string;
  at: string;
  mode?: 'docker' | 'local';
  services: ServiceStatus[];
  links: LinkStatus[];
  /** Domains cut off from the backbone (fault isolate). */
  isolated: { domain: string; since: string; how: string }[];
  /** Active faults of the DNS and the domains (isolate included; cut and slow links are in `links`). */
  faults: ActiveFault[];
  queues: QueueStatus[];
  /** Parts that could not be asked, in words. */
  unknown: string[];
}

const short = (e: unknown) => {
  const m = (e as Error).message;
  return /\((E[A-Z]+)\)/.exec(m)?.[1] ?? m.split(' (')[0];
};

/** `GET /health` needs no token: a client without one, on the same port. */
const healthOf = (c: AdminClient) => new AdminClient({ who: c.who, host: c.o.host, port: c.port, token: '', timeoutMs: 2000 });

/** Every pair of the lab's domains, once. */
export const domainPairs = (lab: WebLab) => lab.config.domains.flatMap((a, i) => lab.config.domains.slice(i + 1).map((b) => [a.name, b.name] as const));

export async function labStatus(lab: WebLab): Promise<LabStatus> {
  const unknown: string[] = [];
  const cfg = lab.config;
  const settle = async <T,>(what: string, p: Promise<T>): Promise<T | null> => {
    try {
      return await p;
    } catch (e) {
      unknown.push(`${what} (${short(e)})`);
      return null;
    }
  };
  const [dnsHealth, dnsFaults, ...perDomain] = await Promise.all([
    healthOf(lab.dns()).call(DNS_API.health).then(
      () => ({ up: true, detail: 'healthy' }),
      (e) => ({ up: false, detail: short(e) }),
    ),
    settle('faults of the lab DNS', lab.dns().call(DNS_API.faults)),
    ...cfg.domains.map(async (d) => {
      const c = lab.mail(d.name);
      const health = await healthOf(c).call(MAIL_API.health).then(
        (h) => ({ up: true, detail: `healthy (${h.mode})`, mode: h.mode }),
        (e) => ({ up: false, detail: short(e), mode: undefined }),
      );
      if (!health.up) {
        unknown.push(`${d.name} (${health.detail})`);
        return { d, health, links: null, faults: null, queue: null, profile: null };
      }
      const [links, faults, queue, profile] = await Promise.all([
        settle(`links of ${d.name}`, c.call(MAIL_API.links)),
        settle(`faults of ${d.name}`, c.call(MAIL_API.faults)),
        settle(`queue of ${d.name}`, c.call(MAIL_API.queueSummary)),
        settle(`queue profile of ${d.name}`, c.call(MAIL_API.queueProfile)),
      ]);
      return { d, health, links, faults, queue, profile };
    }),
  ]);
  const services: ServiceStatus[] = [
    { id: 'dns', host: 'dns', address: cfg.dns.address, ...dnsHealth },
    ...perDomain.map((p) => ({ id: p.d.name, host: p.d.mailHost, address: p.d.address, up: p.health.up, detail: p.health.detail })),
  ];
  const views = perDomain.map((p) => p.links).filter((v): v is LinksView => !!v);
  const side = (from: string, to: string) => views.find((v) => v.domain === from)?.peers.find((p) => p.domain === to);
  const links = domainPairs(lab).map(([a, b]) => {
    const ab = side(a, b);
    const ba = side(b, a);
    const slow = ab?.slow ?? ba?.slow;
    return { a, b, cut: !!(ab?.cut || ba?.cut), ...(slow ? { slow } : {}) };
  });
  const isolated = views.filter((v) => v.isolated).map((v) => ({ domain: v.domain, since: v.isolated!.since, how: v.isolated!.how }));
  const faults = [...(dnsFaults?.faults ?? []), ...perDomain.flatMap((p) => p.faults?.faults ?? [])];
  const queues = perDomain.map((p) => ({
    domain: p.d.name,
    size: p.queue ? p.queue.size : null,
    held: p.queue?.held ?? 0,
    deferred: p.queue?.deferred ?? 0,
    profile: p.profile?.name ?? null,
  }));
  const mode = lab.mode ?? perDomain.find((p) => p.health.mode)?.health.mode;
  return { n: lab.n, student: lab.student, at: new Date().toISOString(), mode, services, links, isolated, faults, queues, unknown };
}

/** Each lab's state for up to `ttlMs`, forgotten when one of its events arrives. */
export class LabStatusCache {
  private readonly entries = new Map<number, { at: number; status: Promise<LabStatus> }>();
  private readonly untap: (() => void) | undefined;

  constructor(private readonly o: { labs: LabSource; upstream?: UpstreamHub; ttlMs?: number; now?: () => number }) {
    this.untap = o.upstream?.tap((n, e) => {
      // A DNS query changes nothing the grid shows.
      if (e.type !== 'dns.query') this.invalidate(n);
    });
  }

  invalidate(n?: number): void {
    if (n === undefined) this.entries.clear();
    else this.entries.delete(n);
  }

  get(lab: WebLab): Promise<LabStatus> {
    const now = this.o.now?.() ?? Date.now();
    const had = this.entries.get(lab.n);
    if (had && now - had.at < (this.o.ttlMs ?? 5000)) return had.status;
    const status = labStatus(lab);
    this.entries.set(lab.n, { at: now, status });
    status.catch(() => this.entries.delete(lab.n));
    return status;
  }

  /** Every lab's state, at most `limit` labs asked at once, in lab order. */
  async all(limit = 8): Promise<LabStatus[]> {
    const labs = await this.o.labs.list();
    const out = new Array<LabStatus>(labs.length);
    let next = 0;
    const worker = async () => {
      while (next < labs.length) {
        const i = next++;
        out[i] = await this.get(labs[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, labs.length) }, worker));
    return out;
  }

  close(): void {
    this.untap?.();
    this.entries.clear();
  }
}
