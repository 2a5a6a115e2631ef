/**
 * `npx mail-lab events [domain|dns] [--json] [--types queue,mailbox]`: the
 * lab's live events on the terminal, an instructor's `tail -f` of the lab:
 * every domain and the lab DNS (or the one named) followed at once over
 * their admin APIs' event streams, one line per event (scripts/events/
 * format.ts), or one JSON object per line. Runs until Ctrl-C; `--count N`
 * stops after N events, `--for 30s` after that long.
 */
import type { Command } from 'commander';
import type { LabEvent } from '../../services/core/src/admin/api';
import type { AdminClient } from '../../services/core/src/admin/client';
import { followEvents } from '../../services/core/src/admin/event-stream';
import type { CommandHelpers } from './helpers';
import { parseDuration } from '../../services/core/src/duration';
import type { LabTarget } from '../lab-target';
import { eventLine } from '../events/format';

export type EventsCommandHelpers = CommandHelpers;

interface EventsOptions {
  json?: boolean;
  types?: string;
  count?: string;
  for?: string;
}

/** The admin APIs to follow: one named source, or every domain and the DNS. */
function sources(target: LabTarget, which: string | undefined, usage: (m: string) => Error): AdminClient[] {
  const names = target.config.domains.map((d) => d.name);
  if (which === undefined) return [...names.map((n) => target.mail(n)), target.dns()];
  if (which === 'dns') return [target.dns()];
  const name = which.toLowerCase();
  if (!names.includes(name)) throw usage(`unknown source "${which}": give a lab domain (${names.join(', ')}) or dns`);
  return [target.mail(name)];
}

export function registerEventsCommand(program: Command, h: EventsCommandHelpers): void {
  program
    .command('events')
    .argument('[source]', 'a lab domain or `dns` (default: all of them)')
    .option('--json', 'one JSON object per line')
    .option('--types <prefixes>', 'only these kinds, e.g. queue,mailbox or queue.delivered')
    .option('--count <n>', 'stop after n events')
    .option('--for <duration>', 'stop after this long, e.g. 30s')
    .description("follow the lab's live events (queue, mailboxes, reads, faults, links, DNS queries) until Ctrl-C")
    .action(async (which: string | undefined, opts: EventsOptions) => {
      const target = h.target();
      const clients = sources(target, which, (m) => new h.UsageError(m));
      const count = opts.count === undefined ? Infinity : Number(opts.count);
      if (!(count > 0)) throw new h.UsageError(`--count must be a positive number (got "${opts.count}")`);
      const forMs = opts.for === undefined ? null : parseDuration(opts.for);
      if (opts.for !== undefined && !(forMs && forMs > 0)) throw new h.UsageError(`--for must be a duration such as 30s or 5m (got "${opts.for}")`);
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      if (forMs) setTimeout(() => stop.abort(), forMs).unref();
      let seen = 0;
      const onEvent = (e: LabEvent) => {
        if (stop.signal.aborted) return;
        h.out(opts.json ? JSON.stringify(e) : eventLine(e));
        if (++seen >= count) stop.abort();
      };
      if (!opts.json) process.stderr.write(`# following ${clients.map((c) => c.who).join(', ')} (Ctrl-C stops)\n`);
      const types = opts.types?.split(',').map((t) => t.trim()).filter(Boolean);
      await Promise.all(
        clients.map((client) =>
          followEvents(client, {
            types,
            onEvent,
            onLost: (l) => !opts.json && process.stderr.write(`# ${client.who}: ${l.missed === null ? 'the server restarted' : `${l.missed} event(s) missed`} while not connected\n`),
            onState: (s, detail) => !opts.json && s === 'reconnecting' && process.stderr.write(`# ${client.who}: connection lost${detail ? ` (${detail})` : ''}; reconnecting\n`),
            signal: stop.signal,
          }),
        ),
      );
    });
}
