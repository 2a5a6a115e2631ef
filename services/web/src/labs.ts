/**
 * The labs as the web server sees them: an injected {@link LabSource}. The
 * web server never reads the host's files, Docker or the CLI's state; it is
 * handed this (by `scripts/commands/web.ts`, or by a test) and reaches a lab
 * only over its admin APIs (the AdminClients below), IMAP and SMTP
 * submission on the lab's host ports (`config`).
 */
import type { AdminClient } from '../../core/src/admin/client';
import type { LabConfig } from '../../core/src/config';

export interface WebLab {
  /** The lab number (0 … 90). */
  n: number;
  /** Lab N of the lab definition: its addresses and host ports (ports + 100·N). */
  config: LabConfig;
  /** The student of this lab, from the class roster (a name as written: show it as text). */
  student?: string;
  /** How the lab runs, when known: a no-Docker lab makes an isolation in the other domains too. */
  mode?: 'docker' | 'local';
  /** The typed client of a mail domain's admin API (with the lab's token). */
  mail(domain: string): AdminClient;
  /** The typed client of the lab DNS's admin API. */
  dns(): AdminClient;
}

export interface LabSource {
  /** Every lab of this host the web pages show, in lab order. */
  list(): Promise<WebLab[]>;
  /** Lab N, or null when it does not exist (or is not shown). */
  get(n: number): Promise<WebLab | null>;
}

/** A source of fixed labs (tests, or a caller that knows its labs). */
export function staticLabSource(labs: WebLab[]): LabSource {
  const sorted = [...labs].sort((a, b) => a.n - b.n);
  return {
    list: async () => sorted,
    get: async (n) => sorted.find((l) => l.n === n) ?? null,
  };
}

/** The lab number of a URL part (`/lab/7/…`), or null when it is not one. */
export function labNumberParam(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,2}$/.test(s)) return null;
  return Number(s);
}
