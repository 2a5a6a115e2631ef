/**
 * The lab DNS takes a changed lab definition while it runs
 * (`npx mail-lab reload`, `POST /lab/reload` on its admin API): the MX
 * records, the other records and the TTL are served from the next query on
 * (a new SOA serial). What needs a restart instead is
 * core/src/reload/plan.ts; then nothing is taken.
 *
 * `DnsLab` holds the definition as read (what a new one is compared with,
 * and on Swarm what the platform's addresses are put into: main.ts) and
 * serves the lab through `serve` (server.ts `setConfig`).
 */
import type { ReloadAnswer } from '../../core/src/admin/api';
import { ApiError } from '../../core/src/admin/errors';
import type { EventHub } from '../../core/src/admin/events';
import type { LabConfig } from '../../core/src/config';
import type { Logger } from '../../core/src/logger';
import { keepForRestart, readProposed, reloadAnswers } from '../../core/src/reload/answer';
import { planReload, withReloadable } from '../../core/src/reload/plan';

export interface DnsLabOptions {
  /** The definition as read (lab N of its text). */
  defined: LabConfig;
  /** Serves a lab from now on (the server's setConfig). */
  serve(config: LabConfig): void;
  /** Lab N of a new definition's text, as at start (main.ts). */
  place(text: string, file: string): LabConfig;
  /** Keeps the text for a restart; returns where. */
  keep?(text: string, file: string): Promise<string>;
}

export class DnsLab {
  private definition: LabConfig;
  private running: LabConfig;

  constructor(private readonly o: DnsLabOptions) {
    this.definition = o.defined;
    this.running = o.defined;
  }

  get defined(): LabConfig {
    return this.definition;
  }

  /** Serves `config` (the definition with the platform's addresses, on Swarm). */
  serve(config: LabConfig): void {
    this.running = config;
    this.o.serve(config);
  }

  async reload(req: { text: string; file: string; dryRun: boolean }, log: Logger, events: EventHub): Promise<ReloadAnswer> {
    const answer = reloadAnswers('the lab DNS');
    const proposed = readProposed(this.o.place, req);
    if ('problems' in proposed) return answer({ problems: proposed.problems });
    const { next } = proposed;
    const plan = planReload(this.definition, next);
    if (req.dryRun || plan.needsRestart.length) return answer({ changes: plan.changes, needsRestart: plan.needsRestart });
    if (!plan.changes.length) return answer({ applied: true });
    this.definition = next;
    this.serve(withReloadable(this.running, next));
    const kept = await keepForRestart(this.o.keep, req, log);
    log.info(`lab definition reloaded from ${req.file}: the zones are served anew`, { changes: plan.changes.length });
    events.publish('lab.reloaded', { file: req.file, changes: plan.changes });
    return answer({ applied: true, changes: plan.changes, kept });
  }
}

/** The route's answer when the DNS was started without a definition file (tests of the routes). */
export const reloadUnsupported = () => new ApiError(400, 'unsupported', 'the lab DNS was started without a lab definition file, so it cannot take a new one; restart it instead');
