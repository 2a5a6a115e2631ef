/**
 * The instructor's Class page: every running lab of the host in one grid
 * (services up or down, the links between the domains, the active faults,
 * the queues), redrawn live when a lab's link, fault or queue event arrives,
 * and the class-wide actions (break, heal, a fault, clear all, the queue
 * profile) done in every lab at once through the admin APIs.
 *
 *   GET  /class          the page
 *   GET  /class/grid     the grid (htmx fragment)
 *   POST /class/action   op=apply|clear (fault=<encoded spec>), clear-all, profile (profile=…)
 */
import { describeSlowLink } from '../../../core/src/faults';
import { requireInstructor } from '../auth/middleware';
import { isHtmx, type WebApp, type WebContext } from '../context';
import { addMessages } from '../i18n';
import { CsrfField, page } from '../layout';
import type { WebLab } from '../labs';
import { liveTrigger, liveUrl } from '../live/tabs';
import { domainPairs, type LabStatus } from '../status/lab-status';
import { ActionResults, readAction, runAction } from './actions';

addMessages({
  'class.title': { en: 'Class', id: 'Kelas' },
  'class.count': { en: '{n} lab(s) on this computer', id: '{n} lab di komputer ini' },
  'class.services': { en: 'Services', id: 'Layanan' },
  'class.up': { en: 'up', id: 'jalan' },
  'class.down': { en: 'DOWN', id: 'MATI' },
  'class.linkOk': { en: 'link ok', id: 'jalur baik' },
  'class.linkCut': { en: 'link CUT', id: 'jalur PUTUS' },
  'class.linkSlow': { en: 'link slow ({how})', id: 'jalur lambat ({how})' },
  'class.linkUnknown': { en: 'link ?', id: 'jalur ?' },
  'class.noFaults': { en: 'no faults', id: 'tanpa gangguan' },
  'class.queue': { en: '{domain}: {n} in queue', id: '{domain}: {n} di antrian' },
  'class.queueDeferred': { en: '{domain}: {n} in queue, {deferred} waiting', id: '{domain}: {n} di antrian, {deferred} menunggu' },
  'class.queueUnknown': { en: '{domain}: queue ?', id: '{domain}: antrian ?' },
  'class.profile': { en: 'profile {profile}', id: 'profil {profile}' },
  'class.everyLab': { en: 'In every lab at once', id: 'Di semua lab sekaligus' },
  'class.fault': { en: 'Fault', id: 'Gangguan' },
  'class.queueProfile': { en: 'Queue profile', id: 'Profil antrian' },
  'class.switch': { en: 'Switch', id: 'Ganti' },
  'class.open': { en: 'topology', id: 'topologi' },
});

type T = (key: string, params?: Record<string, string | number>) => string;

function LabCard(props: { s: LabStatus; t: T }) {
  const { s, t } = props;
  const down = s.services.filter((x) => !x.up);
  const faults = [
    ...s.links.filter((l) => l.cut).map((l) => `${t('fault.kind.link')} ${l.a} ↔ ${l.b}`),
    ...s.links.filter((l) => l.slow).map((l) => `${t('fault.kind.slow-link')} ${l.a} ↔ ${l.b}`),
    ...s.faults.map((f) => `${t(`fault.kind.${f.kind}`)} ${f.target}`),
  ];
  const healthy = !down.length && !faults.length;
  // One profile for the lab when its domains agree (they do unless someone switched one by hand).
  const named = s.queues.filter((q) => q.profile);
  const profiles = new Set(named.map((q) => q.profile)).size === 1 ? [named[0].profile!] : named.map((q) => `${q.domain} ${q.profile}`);
  return (
    <article class={`lab-card${down.length ? ' has-down' : ''}${faults.length ? ' has-faults' : ''}`} data-lab={String(s.n)} data-healthy={String(healthy)}>
      <h2>
        <a href={`/lab/${s.n}/topology`} title={t('class.open')}>
          {t('lab.n', { n: s.n })}
        </a>
        {s.student && <span class="student">{s.student}</span>}
      </h2>
      <ul class="services" aria-label={t('class.services')}>
        {s.services.map((x) => (
          <li class={x.up ? 'up' : 'down'} data-service={x.id} title={x.detail}>
            {x.id === 'dns' ? 'DNS' : x.id.split('.')[0]} {x.up ? t('class.up') : t('class.down')}
          </li>
        ))}
      </ul>
      {s.links.map((l) => {
        const known = s.services.find((x) => x.id === l.a)?.up && s.services.find((x) => x.id === l.b)?.up;
        const state = !known ? 'unknown' : l.cut ? 'cut' : l.slow ? 'slow' : 'up';
        return (
          <p class={`link link-${state}`} data-link-state={state}>
            {state === 'cut' ? t('class.linkCut') : state === 'slow' ? t('class.linkSlow', { how: describeSlowLink(l.slow!) }) : state === 'up' ? t('class.linkOk') : t('class.linkUnknown')}
          </p>
        );
      })}
      {faults.length ? (
        <ul class="faults">
          {faults.map((f) => (
            <li>{f}</li>
          ))}
        </ul>
      ) : (
        <p class="no-faults">{t('class.noFaults')}</p>
      )}
      <ul class="queues">
        {s.queues.map((q) => (
          <li data-domain={q.domain} data-size={q.size === null ? '' : String(q.size)}>
            {q.size === null ? t('class.queueUnknown', { domain: q.domain }) : q.deferred ? t('class.queueDeferred', { domain: q.domain, n: q.size, deferred: q.deferred }) : t('class.queue', { domain: q.domain, n: q.size })}
          </li>
        ))}
      </ul>
      {profiles.length > 0 && <p class="profile">{t('class.profile', { profile: profiles.join(', ') })}</p>}
    </article>
  );
}

function Grid(props: { statuses: LabStatus[]; t: T }) {
  if (!props.statuses.length) return <p class="notice info">{props.t('lab.none')}</p>;
  return (
    <>
      <p class="count">{props.t('class.count', { n: props.statuses.length })}</p>
      <div class="lab-grid">
        {props.statuses.map((s) => (
          <LabCard s={s} t={props.t} />
        ))}
      </div>
    </>
  );
}

/** The faults of the chooser: each kind with each target of the lab definition. */
function faultChoices(lab: WebLab, t: T): { value: string; label: string }[] {
  const out: { value: string; label: string }[] = [];
  const q = (o: Record<string, string>) => new URLSearchParams(o).toString();
  for (const [a, b] of domainPairs(lab)) {
    out.push({ value: q({ kind: 'link', a, b }), label: `${t('fault.kind.link')}: ${a} ↔ ${b}` });
    out.push({ value: q({ kind: 'slow-link', a, b, rate: '64kbit' }), label: `${t('fault.kind.slow-link')}: ${a} ↔ ${b} (64kbit)` });
  }
  out.push({ value: q({ kind: 'dns-down' }), label: t('fault.kind.dns-down') });
  for (const d of lab.config.domains) {
    for (const kind of ['dns-servfail', 'server-down', 'greylist', 'greet-delay', 'isolate']) out.push({ value: q({ kind, domain: d.name }), label: `${t(`fault.kind.${kind}`)}: ${d.name}` });
  }
  return out;
}

function ClassActions(props: { c: WebContext; sample: WebLab | undefined; t: T }) {
  const { c, sample, t } = props;
  if (!sample) return null;
  const action = '/class/action';
  const pairs = domainPairs(sample);
  const hx = { 'hx-post': action, 'hx-target': '#action-result', 'hx-swap': 'innerHTML' };
  return (
    <section class="class-actions">
      <h2>{t('class.everyLab')}</h2>
      <div class="control-row">
        {pairs.map(([a, b]) => (
          <>
            <form method="post" action={action} class="inline" {...hx}>
              <CsrfField c={c} />
              <input type="hidden" name="op" value="apply" />
              <input type="hidden" name="fault" value={new URLSearchParams({ kind: 'link', a, b }).toString()} />
              <button type="submit" class="danger">
                {t('btn.break')} {a} ↔ {b}
              </button>
            </form>
            <form method="post" action={action} class="inline" {...hx}>
              <CsrfField c={c} />
              <input type="hidden" name="op" value="clear" />
              <input type="hidden" name="fault" value={new URLSearchParams({ kind: 'link', a, b }).toString()} />
              <button type="submit" class="ok">
                {t('btn.heal')} {a} ↔ {b}
              </button>
            </form>
          </>
        ))}
        <form method="post" action={action} class="inline" {...hx}>
          <CsrfField c={c} />
          <input type="hidden" name="op" value="clear-all" />
          <button type="submit" class="ok">
            {t('btn.clearAll')}
          </button>
        </form>
      </div>
      <form method="post" action={action} class="control-row" {...hx}>
        <CsrfField c={c} />
        <label>
          {t('class.fault')}{' '}
          <select name="fault">
            {faultChoices(sample, t).map((f) => (
              <option value={f.value}>{f.label}</option>
            ))}
          </select>
        </label>
        <button type="submit" name="op" value="apply" class="danger">
          {t('btn.apply')}
        </button>
        <button type="submit" name="op" value="clear" class="ok">
          {t('btn.clear')}
        </button>
      </form>
      <form method="post" action={action} class="control-row" {...hx}>
        <CsrfField c={c} />
        <input type="hidden" name="op" value="profile" />
        <label>
          {t('class.queueProfile')}{' '}
          <select name="profile">
            {Object.keys(sample.config.profiles).map((p) => (
              <option value={p} selected={p === sample.config.profile}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">{t('class.switch')}</button>
      </form>
      <div id="action-result" class="action-result" aria-live="polite"></div>
    </section>
  );
}

export function registerClassPages(app: WebApp): void {
  app.get('/class', requireInstructor, async (c) => {
    const t = c.var.t;
    const labs = await c.var.deps.labs.list();
    const statuses = await c.var.deps.status.all();
    return page(c, {
      title: t('class.title'),
      nav: 'class',
      lab: labs[0]?.n ?? null,
      body: (
        <div class="class-page" sse-connect={liveUrl({ labs: 'all', types: ['link', 'fault', 'queue'] })}>
          <h1>{t('class.title')}</h1>
          <ClassActions c={c} sample={labs[0]} t={t} />
          <div id="grid" hx-get="/class/grid" hx-trigger={liveTrigger('every 20s')} hx-swap="innerHTML">
            <Grid statuses={statuses} t={t} />
          </div>
        </div>
      ),
    });
  });

  app.get('/class/grid', requireInstructor, async (c) => c.html(<Grid statuses={await c.var.deps.status.all()} t={c.var.t} />));

  app.post('/class/action', requireInstructor, async (c) => {
    const a = await readAction(c);
    const t = c.var.t;
    if ('error' in a) return c.html(<p class="notice error">{t('action.badRequest', { detail: a.error })}</p>, 400);
    const labs = await c.var.deps.labs.list();
    if (!labs.length) return c.html(<p class="notice error">{t('action.noLabs')}</p>);
    const results = await runAction(labs, a);
    c.var.deps.status.invalidate();
    c.var.deps.logger.info('class action', { op: a.op, labs: labs.length, ok: results.filter((r) => r.ok).length });
    const body = <ActionResults results={results} t={t} summary={true} />;
    if (isHtmx(c)) return c.html(body);
    return page(c, { title: t('class.title'), nav: 'class', body: <>{body}<p><a href="/class">{t('class.title')}</a></p></> });
  });
}
