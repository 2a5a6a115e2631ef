/**
 * The instructor's action forms, shared by the Class page (every lab at
 * once) and the Topology page (one lab): what a form asks (`op`: apply,
 * clear, clear-all, profile; the fault as fields or as one encoded `fault`
 * value of a chooser), running it through status/lab-actions.ts, and the
 * results in the page's language.
 */
import { describeFault, FaultArgumentError, type FaultSpec } from '../../../core/src/faults';
import type { WebContext } from '../context';
import { formFields } from '../auth/middleware';
import { addMessages } from '../i18n';
import type { WebLab } from '../labs';
import { clearAll, inEveryLab, setFault, setQueueProfile, specFromForm, type ActionResult } from '../status/lab-actions';

addMessages({
  'action.results': { en: 'Result', id: 'Hasil' },
  'action.applied': { en: '{what}: applied', id: '{what}: diterapkan' },
  'action.cleared': { en: '{what}: cleared', id: '{what}: dihapus' },
  'action.broken': { en: 'link {a} ↔ {b}: broken', id: 'jalur {a} ↔ {b}: diputus' },
  'action.healed': { en: 'link {a} ↔ {b}: healed', id: 'jalur {a} ↔ {b}: disambung lagi' },
  'action.unchanged': { en: '{what}: nothing changed (it already was so)', id: '{what}: tidak ada yang berubah (memang sudah begitu)' },
  'action.clearedAll': { en: 'cleared {n} fault(s)', id: '{n} gangguan dihapus' },
  'action.noneActive': { en: 'no fault was active', id: 'tidak ada gangguan yang aktif' },
  'action.profile': { en: 'queue profile {profile}', id: 'profil antrian {profile}' },
  'action.profileSame': { en: 'already queue profile {profile}', id: 'sudah memakai profil antrian {profile}' },
  'action.failed': { en: 'failed: {error}', id: 'gagal: {error}' },
  'action.summary': { en: 'Done in {ok} of {all} lab(s).', id: 'Berhasil di {ok} dari {all} lab.' },
  'action.badRequest': { en: 'This action is not known: {detail}', id: 'Tindakan ini tidak dikenal: {detail}' },
  'action.noLabs': { en: 'No lab to act on.', id: 'Tidak ada lab untuk ditindak.' },
  'btn.break': { en: 'Break', id: 'Putuskan' },
  'btn.heal': { en: 'Heal', id: 'Sambungkan' },
  'btn.slow': { en: 'Slow down', id: 'Perlambat' },
  'btn.unslow': { en: 'Full speed', id: 'Kecepatan penuh' },
  'btn.isolate': { en: 'Isolate', id: 'Isolasi' },
  'btn.reconnect': { en: 'Reconnect', id: 'Sambungkan lagi' },
  'btn.apply': { en: 'Apply', id: 'Terapkan' },
  'btn.clear': { en: 'Clear', id: 'Hapus' },
  'btn.clearAll': { en: 'Clear all faults', id: 'Hapus semua gangguan' },
  'field.rate': { en: 'rate', id: 'kecepatan' },
  'field.loss': { en: 'loss %', id: 'kehilangan %' },
  'field.address': { en: 'address', id: 'alamat' },
  'field.code': { en: 'reply code', id: 'kode balasan' },
  'fault.kind.link': { en: 'Cut link', id: 'Putus jalur' },
  'fault.kind.dns-down': { en: 'DNS down', id: 'DNS mati' },
  'fault.kind.dns-servfail': { en: 'DNS answers SERVFAIL', id: 'DNS menjawab SERVFAIL' },
  'fault.kind.server-down': { en: 'SMTP port 25 down', id: 'Port SMTP 25 mati' },
  'fault.kind.greylist': { en: 'Greylisting', id: 'Greylisting' },
  'fault.kind.greet-delay': { en: 'Late greeting (early talkers refused)', id: 'Salam terlambat (klien yang bicara duluan ditolak)' },
  'fault.kind.reject': { en: 'Refuse an address (5xx)', id: 'Tolak sebuah alamat (5xx)' },
  'fault.kind.slow-link': { en: 'Slow link', id: 'Jalur lambat' },
  'fault.kind.isolate': { en: 'Isolated from the network', id: 'Terisolasi dari jaringan' },
});

type T = (key: string, params?: Record<string, string | number>) => string;

export type ActionRequest = { op: 'apply' | 'clear'; fields: Record<string, string | undefined> } | { op: 'clear-all' } | { op: 'profile'; profile: string };

const str = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);

/** The action a posted form asks for, or an error text. */
export async function readAction(c: WebContext): Promise<ActionRequest | { error: string }> {
  const f = await formFields(c);
  const op = str(f.op);
  if (op === 'clear-all') return { op };
  if (op === 'profile') {
    const profile = str(f.profile);
    return profile ? { op, profile } : { error: 'profile' };
  }
  if (op !== 'apply' && op !== 'clear') return { error: `op ${op ?? '(none)'}` };
  // A chooser gives the whole fault as one value: `kind=server-down&domain=dadali.com`.
  const encoded = str(f.fault);
  const fields: Record<string, string | undefined> = {};
  if (encoded) for (const [k, v] of new URLSearchParams(encoded)) fields[k] = v;
  for (const k of ['kind', 'a', 'b', 'domain', 'address', 'rate', 'loss', 'delayMs', 'code', 'text']) if (str(f[k]) !== undefined && str(f[k]) !== '') fields[k] = str(f[k]);
  if (!fields.kind) return { error: 'kind' };
  return { op, fields };
}

/** Runs an action in each lab (at most 8 at once). A fault that does not fit a lab fails in that lab. */
export function runAction(labs: WebLab[], a: ActionRequest): Promise<ActionResult[]> {
  return inEveryLab(labs, async (lab) => {
    if (a.op === 'clear-all') return clearAll(lab);
    if (a.op === 'profile') return setQueueProfile(lab, a.profile);
    let spec: FaultSpec;
    try {
      spec = specFromForm(lab, a.fields, a.op === 'clear');
    } catch (e) {
      if (e instanceof FaultArgumentError) return { lab: lab.n, ok: false, changed: false, op: a.op, error: e.message };
      throw e;
    }
    return setFault(lab, spec, a.op === 'apply');
  });
}

/** One result in words. */
export function resultText(r: ActionResult, t: T): string {
  if (!r.ok) return t('action.failed', { error: r.error ?? '?' });
  switch (r.op) {
    case 'clear-all':
      return r.count ? t('action.clearedAll', { n: r.count }) : t('action.noneActive');
    case 'profile':
      return t(r.changed ? 'action.profile' : 'action.profileSame', { profile: r.profile ?? '' });
    default: {
      const spec = r.spec!;
      const what = describeFault(spec);
      if (!r.changed) return t('action.unchanged', { what });
      if (spec.kind === 'link') return t(r.op === 'apply' ? 'action.broken' : 'action.healed', { a: spec.a, b: spec.b });
      return t(r.op === 'apply' ? 'action.applied' : 'action.cleared', { what });
    }
  }
}

export function ActionResults(props: { results: ActionResult[]; t: T; summary?: boolean }) {
  const { results, t } = props;
  const ok = results.filter((r) => r.ok).length;
  return (
    <div class="results" role="status" data-ok={String(ok)} data-all={String(results.length)}>
      {(props.summary ?? results.length > 1) && <p class="summary">{t('action.summary', { ok, all: results.length })}</p>}
      <ul>
        {results.map((r) => (
          <li class={r.ok ? 'ok' : 'failed'} data-lab={String(r.lab)}>
            <strong>{t('lab.n', { n: r.lab })}</strong> {resultText(r, t)}
          </li>
        ))}
      </ul>
    </div>
  );
}
