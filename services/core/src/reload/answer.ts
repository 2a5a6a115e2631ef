/**
 * The steps every service's `POST /lab/reload` shares (the lab DNS,
 * services/dns/src/reload.ts; a mail domain, services/mail-domain/src/reload.ts):
 * its answer with the time taken, the new definition's text read as at start
 * (a definition with problems is an answer naming them, anything else a 400),
 * and the text kept for a restart (a failure to keep it is said, not fatal).
 */
import type { ReloadAnswer } from '../admin/api';
import { ApiError } from '../admin/errors';
import { LabConfigError, type LabConfig } from '../config';
import type { Logger } from '../logger';

/** Makes `service`'s answers; `ms` counts from this call. */
export function reloadAnswers(service: string): (a: Partial<ReloadAnswer>) => ReloadAnswer {
  const t0 = performance.now();
  return (a) => ({ service, applied: false, problems: [], changes: [], needsRestart: [], withMail: [], ms: Math.round(performance.now() - t0), ...a });
}

/** The new definition placed as this service places its own, or the problems it has. */
export function readProposed(place: (text: string, file: string) => LabConfig, req: { text: string; file: string }): { next: LabConfig } | { problems: ReloadAnswer['problems'] } {
  try {
    return { next: place(req.text, req.file) };
  } catch (e) {
    if (e instanceof LabConfigError) return { problems: e.problems };
    throw new ApiError(400, 'bad-argument', (e as Error).message, 'text');
  }
}

/** Keeps the text for a restart when the service can; where it went, or why it could not. */
export async function keepForRestart(keep: ((text: string, file: string) => Promise<string>) | undefined, req: { text: string; file: string }, log: Logger): Promise<ReloadAnswer['kept']> {
  if (!keep) return undefined;
  try {
    return { path: await keep(req.text, req.file) };
  } catch (e) {
    log.warn(`the reloaded definition is not kept for a restart: ${(e as Error).message}`);
    return { error: (e as Error).message };
  }
}
