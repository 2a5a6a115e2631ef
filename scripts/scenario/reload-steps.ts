/**
 * The scenario step that changes the lab itself (`change-the-lab`), as a
 * student does with lab.yaml and `npx mail-lab reload`:
 *
 *   reload: { add: { <domain>: { accounts, aliases, mx, relayDomains } } }
 *     the lab definition file (the one the CLI was given) with these added
 *     where missing (scripts/reload/edit.ts), taken by the running lab;
 *   reload: { restore: true }
 *     the file as it is, taken again: the lab as it was before the scenario.
 *
 * The file itself is never written. If the scenario fails after an `add`,
 * the runner restores (with --force, so an account that got mail goes and
 * its mailbox stays on disk).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { addToDefinition } from '../reload/edit';
import { reloadLab } from '../reload/reload';
import type { Lang } from './lang';
import type { Step } from './schema';
import { StepFailure, type StepContext, type StepResult } from './step-types';

type ReloadStep = Extract<Step, Record<'reload', unknown>>;

const texts = {
  en: {
    describeAdd: (what: string) => `change the lab definition (${what}) and reload it (npx mail-lab reload)`,
    describeRestore: 'reload the lab definition file as it is (the lab as it was before)',
    nothing: 'the lab already runs this definition; nothing changed',
    refused: 'the lab did not take the changed definition',
  },
  id: {
    describeAdd: (what: string) => `ubah definisi lab (${what}) lalu muat ulang (npx mail-lab reload)`,
    describeRestore: 'muat ulang file definisi lab apa adanya (lab kembali seperti sebelumnya)',
    nothing: 'lab sudah menjalankan definisi ini; tidak ada yang berubah',
    refused: 'lab tidak menerima definisi yang diubah',
  },
} satisfies Record<Lang, unknown>;

/** `2 account(s), 1 alias, 1 MX, backup MX` for the description. */
function summary(step: ReloadStep): string {
  const adds = Object.values(step.reload.add ?? {});
  const n = (f: (a: (typeof adds)[number]) => number) => adds.reduce((s, a) => s + f(a), 0);
  return [
    [n((a) => a.accounts?.length ?? 0), 'account'],
    [n((a) => Object.keys(a.aliases ?? {}).length), 'alias'],
    [n((a) => a.mx?.length ?? 0), 'MX'],
    [n((a) => a.relayDomains?.length ?? 0), 'relayDomains'],
  ]
    .filter(([k]) => (k as number) > 0)
    .map(([k, w]) => `${k} ${w}`)
    .join(', ');
}

export function describeReloadStep(lang: Lang, step: Step): string | undefined {
  if (!('reload' in step)) return undefined;
  return step.reload.add ? texts[lang].describeAdd(summary(step)) : texts[lang].describeRestore;
}

export async function runReloadStep(ctx: StepContext, step: ReloadStep): Promise<StepResult> {
  const t = texts[ctx.lang ?? 'en'];
  const file = ctx.target.config.source;
  const original = readFileSync(file, 'utf8');
  const text = step.reload.add ? addToDefinition(original, step.reload.add) : original;
  const r = await reloadLab(ctx.target.lab, () => ctx.target, text, relative(process.cwd(), file) || file, { force: step.reload.force });
  if (r.exit) throw new StepFailure(t.refused, r.lines);
  return { status: 'ok', detail: r.changes.length ? [...r.changes, ...r.lines.filter((l) => l.startsWith('taken in '))] : [t.nothing] };
}

/** What the runner does when a scenario fails after it changed the lab: the definition file again. */
export function reloadUndo(done: Step[]): Step[] {
  return done.some((s) => 'reload' in s && s.reload.add) ? [{ reload: { restore: true, force: true } } as Step] : [];
}
