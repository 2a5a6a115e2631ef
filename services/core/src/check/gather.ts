/**
 * Fetches what the check reads from one running lab, over its admin APIs
 * only: each mail domain's `GET /activity` (sessions, queue messages, reads,
 * self-check marks) and the lab DNS's `GET /queries/history`. Used by the
 * CLI (`npx mail-lab check`, `class report`) and the bench; the rules
 * (evaluate.ts) never talk to the network.
 *
 * A source that does not answer is named in `problems` and the check goes
 * on with the others; when nothing answers, the first error is thrown (the
 * lab is not running).
 */
import { DNS_API, MAIL_API, type ActivityItem, type DnsQuery } from '../admin/api';
import type { AdminClient } from '../admin/client';
import type { LabConfig } from '../config';
import type { LabActivity } from './records';

/** A running lab as the check reaches it (the CLI's LabTarget and the web's WebLab both fit). */
export interface CheckSource {
  lab: number;
  config: LabConfig;
  mail(domain: string): AdminClient;
  dns(): AdminClient;
}

export async function gatherActivity(source: CheckSource, since?: Date): Promise<LabActivity> {
  const input = since ? { since: since.toISOString() } : {};
  const problems: string[] = [];
  const errors: unknown[] = [];
  const items: ActivityItem[] = [];
  let dns: DnsQuery[] = [];
  const calls = [
    ...source.config.domains.map(async (d) => {
      try {
        items.push(...(await source.mail(d.name).call(MAIL_API.activity, input)));
      } catch (e) {
        errors.push(e);
        problems.push(`${d.name}: ${(e as Error).message}`);
      }
    }),
    (async () => {
      try {
        dns = await source.dns().call(DNS_API.queryHistory, input);
      } catch (e) {
        errors.push(e);
        problems.push(`the lab DNS: ${(e as Error).message}`);
      }
    })(),
  ];
  await Promise.all(calls);
  if (errors.length === calls.length) throw errors[0];
  return { lab: source.lab, config: source.config, items, dns, problems };
}
