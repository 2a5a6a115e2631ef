/**
 * The lab definition a mail domain runs with, which `npx mail-lab reload`
 * may change while it runs (reload.ts). Two views of it:
 *
 * - `config`: the lab as this server runs it (on Docker Swarm with the
 *   addresses the platform gave); the parts that read the definition while
 *   serving (backup MX, the queue's ports in a no-Docker lab) read it here,
 *   so they see a reload at once;
 * - `defined`: the definition as read (lab N of its text), what a new
 *   definition is compared with (core/src/reload/plan.ts).
 */
import { requireDomain, type DomainConfig, type LabConfig } from '../../core/src/config';
import { withReloadable } from '../../core/src/reload/plan';

export class RunningLab {
  private running: LabConfig;
  private definition: LabConfig;

  constructor(
    readonly domain: string,
    running: LabConfig,
    /** As read, before the platform's addresses (the same as `running` but on Swarm). */
    defined: LabConfig = running,
  ) {
    this.running = running;
    this.definition = defined;
  }

  get config(): LabConfig {
    return this.running;
  }

  get defined(): LabConfig {
    return this.definition;
  }

  /** This domain's part of the running lab. */
  get self(): DomainConfig {
    return requireDomain(this.running, this.domain);
  }

  /** Takes the reloadable parts of `next` (a definition as read); returns the lab as it now runs. */
  take(next: LabConfig): LabConfig {
    this.definition = next;
    this.running = withReloadable(this.running, next);
    return this.running;
  }
}
