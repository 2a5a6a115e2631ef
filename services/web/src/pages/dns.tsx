/**
 * The instructor's DNS page of one lab: the lab DNS's query log, live
 * (`GET /queries` of its admin API, reloaded on each `dns.query` event; the
 * new rows flash, dns.js), with who asked (the lab's hosts by address),
 * the question, the answer code and the answers; and the zones exactly as
 * served (`GET /zones`), MX and A records marked.
 *
 *   GET /lab/:n/dns          the page
 *   GET /lab/:n/dns/log      the query log (htmx fragment)
 */
import { DNS_API, type DnsQuery, type DnsZoneView } from '../../../core/src/admin/api';
import { requireInstructor, requireLab } from '../auth/middleware';
import { currentLab, type WebApp } from '../context';
import { addMessages } from '../i18n';
import { page } from '../layout';
import type { WebLab } from '../labs';
import { liveTrigger, liveUrl } from '../live/tabs';
import { clockMs, type T } from './lab-format';

addMessages({
  'dns.title': { en: 'DNS of lab {n}', id: 'DNS lab {n}' },
  'dns.log': { en: 'Query log (live)', id: 'Log kueri (langsung)' },
  'dns.logCount': { en: 'the last {n} question(s), newest first', id: '{n} pertanyaan terakhir, yang terbaru di atas' },
  'dns.zones': { en: 'Zones as served', id: 'Zona yang dilayani' },
  'dns.time': { en: 'Time', id: 'Waktu' },
  'dns.who': { en: 'Asked by', id: 'Penanya' },
  'dns.question': { en: 'Question', id: 'Pertanyaan' },
  'dns.answer': { en: 'Answer', id: 'Jawaban' },
  'dns.none': { en: 'No question yet. Send a message, or ask with dig.', id: 'Belum ada pertanyaan. Kirim pesan, atau tanyakan dengan dig.' },
  'dns.noAnswer': { en: '(no record)', id: '(tidak ada rekaman)' },
  'dns.filter': { en: 'Show', id: 'Tampilkan' },
  'dns.all': { en: 'all types', id: 'semua tipe' },
  'dns.failed': { en: 'The lab DNS does not answer: {error}', id: 'DNS lab tidak menjawab: {error}' },
  'dns.dig': { en: 'Try it: dig @127.0.0.1 -p {port} {name} MX', id: 'Coba: dig @127.0.0.1 -p {port} {name} MX' },
  'dns.records': { en: '{n} record(s)', id: '{n} rekaman' },
  'dns.labDns': { en: 'lab DNS', id: 'DNS lab' },
});

const LOG_LIMIT = 150;
const TYPES = ['MX', 'A', 'PTR', 'TXT', 'NS', 'SOA'];

/** The lab's hosts by address: who asked. */
function hostsOf(lab: WebLab, t: T): Map<string, string> {
  const m = new Map<string, string>();
  const cfg = lab.config;
  for (const d of cfg.domains) m.set(d.address, d.mailHost);
  if (cfg.client?.address) m.set(cfg.client.address, cfg.client.hostname ?? 'client');
  m.set(cfg.dns.address, t('dns.labDns'));
  return m;
}

function QueryLog(props: { lab: WebLab; queries: DnsQuery[] | null; error?: string; t: T }) {
  const { lab, queries, t } = props;
  if (!queries) return <p class="notice error">{t('dns.failed', { error: props.error ?? '?' })}</p>;
  const hosts = hostsOf(lab, t);
  const rows = [...queries].reverse();
  return (
    <div class="dns-log-body" data-count={String(rows.length)}>
      <p class="dns-count">{t('dns.logCount', { n: rows.length })}</p>
      {rows.length ? (
        <table class="dns-log">
          <thead>
            <tr>
              <th>{t('dns.time')}</th>
              <th>{t('dns.who')}</th>
              <th>{t('dns.question')}</th>
              <th>{t('dns.answer')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((q) => (
              <tr data-key={`${q.time}/${q.id}/${q.clientPort}`} data-type={q.type} data-name={q.name} data-rcode={q.rcode} class={q.rcode === 'NOERROR' ? undefined : 'failed'}>
                <td class="time">{clockMs(q.time)}</td>
                <td class="who">
                  {hosts.get(q.client) ?? q.client}
                  <small>
                    {' '}
                    {hosts.has(q.client) ? `${q.client} ` : ''}
                    {q.transport.toUpperCase()}
                  </small>
                </td>
                <td class="q">
                  <span class={`type t-${q.type}`}>{q.type}</span> <span class="name">{q.name}</span>
                </td>
                <td class="a">
                  <span class="rcode">{q.rcode}</span> {q.answers.length ? <span class="answers">{q.answers.join(', ')}</span> : q.rcode === 'NOERROR' && <span class="none">{t('dns.noAnswer')}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="dns-empty">{t('dns.none')}</p>
      )}
    </div>
  );
}

function Zones(props: { zones: DnsZoneView[] | null; t: T }) {
  const { zones, t } = props;
  if (!zones) return null;
  return (
    <div class="dns-zones">
      {zones.map((z) => (
        <details open={!z.zone.endsWith('.arpa')} data-zone={z.zone}>
          <summary>
            <strong>{z.zone}</strong> <span class="n">{t('dns.records', { n: z.records.length })}</span>
          </summary>
          <pre class="zone">
            {z.records.map((r) => {
              const type = /\sIN\s+(\S+)\s/.exec(r)?.[1] ?? '';
              return <span class={`rr t-${type}`} data-type={type}>{`${r}\n`}</span>;
            })}
          </pre>
        </details>
      ))}
    </div>
  );
}

async function readLog(lab: WebLab): Promise<{ queries: DnsQuery[] | null; error?: string }> {
  try {
    return { queries: await lab.dns().call(DNS_API.queries, { limit: LOG_LIMIT }) };
  } catch (e) {
    return { queries: null, error: (e as Error).message.split('\n')[0] };
  }
}

export function registerDnsPages(app: WebApp): void {
  app.get('/lab/:n/dns', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const t = c.var.t;
    const [log, zones] = await Promise.all([readLog(lab), lab.dns().call(DNS_API.zones).catch(() => null)]);
    return page(c, {
      title: t('dns.title', { n: lab.n }),
      nav: 'dns',
      lab: lab.n,
      assets: ['dns.css', 'dns.js'],
      body: (
        <div class="dns-page" sse-connect={liveUrl({ labs: [lab.n], types: ['dns'], sources: ['dns'] })}>
          <div class="page-head">
            <h1>{t('dns.title', { n: lab.n })}</h1>
            <p class="dig">
              <code>{t('dns.dig', { port: lab.config.dns.hostPort, name: lab.config.domains[1]?.name ?? lab.config.domains[0].name })}</code>
            </p>
          </div>
          <div class="dns-columns">
            <section class="dns-log-part">
              <div class="part-head">
                <h2>{t('dns.log')}</h2>
                <label class="dns-filter">
                  {t('dns.filter')}{' '}
                  <select id="dns-type">
                    <option value="">{t('dns.all')}</option>
                    {TYPES.map((x) => (
                      <option value={x}>{x}</option>
                    ))}
                  </select>
                </label>
              </div>
              <div id="dns-log" hx-get={`/lab/${lab.n}/dns/log`} hx-trigger={liveTrigger('every 30s')} hx-swap="innerHTML">
                <QueryLog lab={lab} queries={log.queries} error={log.error} t={t} />
              </div>
            </section>
            <section class="dns-zones-part">
              <h2>{t('dns.zones')}</h2>
              <Zones zones={zones} t={t} />
            </section>
          </div>
        </div>
      ),
    });
  });

  app.get('/lab/:n/dns/log', requireInstructor, requireLab, async (c) => {
    const lab = currentLab(c);
    const log = await readLog(lab);
    return c.html(<QueryLog lab={lab} queries={log.queries} error={log.error} t={c.var.t} />);
  });
}
