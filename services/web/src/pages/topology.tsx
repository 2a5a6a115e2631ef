/**
 * The instructor's Topology page of one lab: the drawing
 * (topology-drawing.tsx), redrawn live when a link, fault or queue event of
 * the lab arrives, and the buttons for break/heal, isolate and each fault.
 *
 *   GET  /topology                    the first running lab's topology
 *   GET  /lab/:n/topology             the page
 *   GET  /lab/:n/topology/drawing     the drawing (htmx fragment; ?part=faults: the active faults in words)
 *   POST /lab/:n/action               op=apply|clear|clear-all|profile and the fault's fields
 */
import { describeSlowLink } from '../../../core/src/faults';
import { requireInstructor, requireLab } from '../auth/middleware';
import { currentLab, isHtmx, type WebApp, type WebContext } from '../context';
import { errorPage } from '../error-page';
import { addMessages } from '../i18n';
import { CsrfField, page } from '../layout';
import type { WebLab } from '../labs';
import { liveTrigger, liveUrl } from '../live/tabs';
import { domainPairs, type LabStatus } from '../status/lab-status';
import { ActionResults, readAction, runAction } from './actions';
import { TopologyDrawing } from './topology-drawing';

addMessages({
  'topology.title': { en: 'Topology of lab {n}', id: 'Topologi lab {n}' },
  'topology.student': { en: 'Student: {name}', id: 'Siswa: {name}' },
  'topology.activeFaults': { en: 'Active faults', id: 'Gangguan aktif' },
  'topology.noFaults': { en: 'No fault: the lab works normally.', id: 'Tidak ada gangguan: lab berjalan normal.' },
  'topology.unknown': { en: 'Not answering: {parts}', id: 'Tidak menjawab: {parts}' },
  'topology.links': { en: 'Links', id: 'Jalur' },
  'topology.domains': { en: 'Mail servers', id: 'Server e-mail' },
  'topology.dnsFaults': { en: 'Lab DNS', id: 'DNS lab' },
  'topology.reject': { en: 'Refuse an address', id: 'Tolak sebuah alamat' },
  'topology.everything': { en: 'Everything', id: 'Semua' },
  'topology.otherLabs': { en: 'Other labs', id: 'Lab lain' },
});

type T = (key: string, params?: Record<string, string | number>) => string;

/** A one-button form posting an action of lab n (htmx: the result goes to #action-result). */
export function ActionButton(props: { c: WebContext; action: string; label: string; fields: Record<string, string>; kind?: 'danger' | 'ok' | 'plain'; target?: string }) {
  return (
    <form method="post" action={props.action} hx-post={props.action} hx-target={props.target ?? '#action-result'} hx-swap="innerHTML" class="inline">
      <CsrfField c={props.c} />
      {Object.entries(props.fields).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={props.kind ?? 'plain'}>
        {props.label}
      </button>
    </form>
  );
}

/** The active faults in words, beside the drawing (redrawn live too). */
function ActiveFaults(props: { status: LabStatus; t: T }) {
  const { status, t } = props;
  // The detail is the server's own words (how it was made), shown small under the fault.
  const lines: { what: string; detail?: string }[] = [
    ...status.links.filter((l) => l.cut).map((l) => ({ what: `${t('fault.kind.link')}: ${l.a} ↔ ${l.b}` })),
    ...status.links.filter((l) => l.slow).map((l) => ({ what: `${t('fault.kind.slow-link')}: ${l.a} ↔ ${l.b}`, detail: describeSlowLink(l.slow!) })),
    ...status.faults.map((f) => ({ what: `${t(`fault.kind.${f.kind}`)}: ${f.target}`, detail: f.detail })),
  ];
  return (
    <div class="active-faults">
      <h2>{t('topology.activeFaults')}</h2>
      {lines.length ? (
        <ul>
          {lines.map((l) => (
            <li>
              {l.what}
              {l.detail && <small>{l.detail}</small>}
            </li>
          ))}
        </ul>
      ) : (
        <p class="ok">{t('topology.noFaults')}</p>
      )}
      {status.unknown.length > 0 && <p class="notice error">{t('topology.unknown', { parts: status.unknown.join('; ') })}</p>}
    </div>
  );
}

/** Break/heal of each link and clear-all, beside the drawing (the rest is below it). */
function QuickActions(props: { c: WebContext; lab: WebLab; t: T }) {
  const { c, lab, t } = props;
  const action = `/lab/${lab.n}/action`;
  return (
    <div class="quick">
      {domainPairs(lab).map(([a, b]) => (
        <div class="control-row" data-quick-pair={`${a} ${b}`}>
          <span class="what">
            {a} ↔ {b}
          </span>
          <ActionButton c={c} action={action} label={t('btn.break')} fields={{ op: 'apply', kind: 'link', a, b }} kind="danger" />
          <ActionButton c={c} action={action} label={t('btn.heal')} fields={{ op: 'clear', kind: 'link', a, b }} kind="ok" />
        </div>
      ))}
      <div class="control-row">
        <ActionButton c={c} action={action} label={t('btn.clearAll')} fields={{ op: 'clear-all' }} kind="ok" />
      </div>
    </div>
  );
}

function Controls(props: { c: WebContext; lab: WebLab; t: T }) {
  const { c, lab, t } = props;
  const action = `/lab/${lab.n}/action`;
  const B = (label: string, fields: Record<string, string>, kind?: 'danger' | 'ok' | 'plain') => <ActionButton c={c} action={action} label={label} fields={fields} kind={kind} />;
  const addresses = lab.config.domains.flatMap((d) => d.accounts.map((a) => `${a.user}@${d.name}`));
  return (
    <section class="controls" aria-label={t('topology.links')}>
      <div class="control-group">
        <h2>{t('topology.links')}</h2>
        {domainPairs(lab).map(([a, b]) => (
          <div class="control-row" data-pair={`${a} ${b}`}>
            <span class="what">
              {a} ↔ {b}
            </span>
            {B(t('btn.break'), { op: 'apply', kind: 'link', a, b }, 'danger')}
            {B(t('btn.heal'), { op: 'clear', kind: 'link', a, b }, 'ok')}
            <form method="post" action={action} hx-post={action} hx-target="#action-result" class="inline slow-form">
              <CsrfField c={c} />
              <input type="hidden" name="op" value="apply" />
              <input type="hidden" name="kind" value="slow-link" />
              <input type="hidden" name="a" value={a} />
              <input type="hidden" name="b" value={b} />
              <label>
                {t('field.rate')} <input name="rate" value="64kbit" size={7} />
              </label>
              <label>
                {t('field.loss')} <input name="loss" type="number" min="0" max="99" step="1" size={3} />
              </label>
              <button type="submit" class="danger">
                {t('btn.slow')}
              </button>
            </form>
            {B(t('btn.unslow'), { op: 'clear', kind: 'slow-link', a, b }, 'ok')}
          </div>
        ))}
      </div>
      <div class="control-group">
        <h2>{t('topology.domains')}</h2>
        {lab.config.domains.map((d) => (
          <div class="control-row" data-domain={d.name}>
            <span class="what">{d.name}</span>
            {B(t('btn.isolate'), { op: 'apply', kind: 'isolate', domain: d.name }, 'danger')}
            {B(t('btn.reconnect'), { op: 'clear', kind: 'isolate', domain: d.name }, 'ok')}
            {(['server-down', 'greylist', 'greet-delay', 'dns-servfail'] as const).map((k) => (
              <span class="pair">
                <span class="label">{t(`fault.kind.${k}`)}</span>
                {B(t('btn.apply'), { op: 'apply', kind: k, domain: d.name }, 'danger')}
                {B(t('btn.clear'), { op: 'clear', kind: k, domain: d.name }, 'ok')}
              </span>
            ))}
          </div>
        ))}
      </div>
      <div class="control-group">
        <h2>{t('topology.dnsFaults')}</h2>
        <div class="control-row">
          <span class="what">{t('fault.kind.dns-down')}</span>
          {B(t('btn.apply'), { op: 'apply', kind: 'dns-down' }, 'danger')}
          {B(t('btn.clear'), { op: 'clear', kind: 'dns-down' }, 'ok')}
        </div>
        <h2>{t('topology.reject')}</h2>
        <form method="post" action={action} hx-post={action} hx-target="#action-result" class="control-row">
          <CsrfField c={c} />
          <input type="hidden" name="kind" value="reject" />
          <label>
            {t('field.address')}{' '}
            <select name="address">
              {addresses.map((a) => (
                <option value={a}>{a}</option>
              ))}
            </select>
          </label>
          <label>
            {t('field.code')} <input name="code" type="number" min="500" max="559" value="550" size={4} />
          </label>
          <button type="submit" name="op" value="apply" class="danger">
            {t('btn.apply')}
          </button>
          <button type="submit" name="op" value="clear" class="ok">
            {t('btn.clear')}
          </button>
        </form>
        <h2>{t('topology.everything')}</h2>
        <div class="control-row">{B(t('btn.clearAll'), { op: 'clear-all' }, 'ok')}</div>
      </div>
    </section>
  );
}

export function registerTopologyPages(app: WebApp): void {
  app.get('/topology', requireInstructor, async (c) => {
    const labs = await c.var.deps.labs.list();
    if (!labs.length) return errorPage(c, 404, 'lab.none');
    return c.redirect(`/lab/${labs[0].n}/topology`, 302);
  });

  app.get('/lab/:n/topology', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    const status = await c.var.deps.status.get(lab);
    const labs = await c.var.deps.labs.list();
    const drawing = `/lab/${lab.n}/topology/drawing`;
    return page(c, {
      title: t('topology.title', { n: lab.n }),
      nav: 'topology',
      lab: lab.n,
      body: (
        <div class="topology-page" sse-connect={liveUrl({ labs: [lab.n], types: ['link', 'fault', 'queue'] })}>
          <div class="page-head">
            <h1>{t('topology.title', { n: lab.n })}</h1>
            {lab.student && <p class="student">{t('topology.student', { name: lab.student })}</p>}
            {labs.length > 1 && (
              <nav class="lab-switch" aria-label={t('topology.otherLabs')}>
                {labs.map((l) => (
                  <a href={`/lab/${l.n}/topology`} class={l.n === lab.n ? 'current' : undefined}>
                    {l.n}
                  </a>
                ))}
              </nav>
            )}
          </div>
          <div class="drawing">
            <div id="drawing" hx-get={drawing} hx-trigger={liveTrigger('every 15s')} hx-swap="innerHTML">
              <TopologyDrawing lab={lab} status={status} t={t} />
            </div>
            <aside class="side">
              <QuickActions c={c} lab={lab} t={t} />
              <div id="faults" hx-get={`${drawing}?part=faults`} hx-trigger={liveTrigger('every 15s')} hx-swap="innerHTML">
                <ActiveFaults status={status} t={t} />
              </div>
              <div id="action-result" class="action-result" aria-live="polite"></div>
            </aside>
          </div>
          <Controls c={c} lab={lab} t={t} />
        </div>
      ),
    });
  });

  app.get('/lab/:n/topology/drawing', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const status = await c.var.deps.status.get(lab);
    if (c.req.query('part') === 'faults') return c.html(<ActiveFaults status={status} t={c.var.t} />);
    return c.html(<TopologyDrawing lab={lab} status={status} t={c.var.t} />);
  });

  app.post('/lab/:n/action', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const a = await readAction(c);
    if ('error' in a) return errorPage(c, 400, 'action.badRequest', { detail: a.error });
    const results = await runAction([lab], a);
    c.var.deps.status.invalidate(lab.n);
    c.var.deps.logger.info('instructor action', { lab: lab.n, op: a.op, ok: results[0].ok, error: results[0].error });
    const body = <ActionResults results={results} t={c.var.t} />;
    if (isHtmx(c)) return c.html(body);
    return page(c, { title: c.var.t('topology.title', { n: lab.n }), nav: 'topology', lab: lab.n, body: <>{body}<p><a href={`/lab/${lab.n}/topology`}>{c.var.t('topology.title', { n: lab.n })}</a></p></> });
  });
}
