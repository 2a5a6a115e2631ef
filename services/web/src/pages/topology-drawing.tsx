/**
 * The drawing of one lab (an SVG, no script): the client, the lab DNS and
 * each mail host with its address from the lab definition, all on the
 * backbone; the SMTP path between each pair of domains drawn up, cut or
 * slowed (rate, loss), a domain cut off from the backbone (isolate) drawn
 * so; fault badges at the node they belong to, services that do not answer
 * greyed out, and each domain's queue size. Every state is also in a data-*
 * attribute (data-link-state, data-up, data-isolated) for tests and scripts.
 */
import { describeSlowLink } from '../../../core/src/faults';
import type { ActiveFault } from '../../../core/src/admin/api';
import { addMessages } from '../i18n';
import type { WebLab } from '../labs';
import type { LabStatus } from '../status/lab-status';

addMessages({
  'topology.backbone': { en: 'lab network {subnet}', id: 'jaringan lab {subnet}' },
  'topology.client': { en: 'client', id: 'klien' },
  'topology.dns': { en: 'lab DNS', id: 'DNS lab' },
  'topology.mailServices': { en: 'SMTP · POP3 · IMAP', id: 'SMTP · POP3 · IMAP' },
  'topology.link.up': { en: 'SMTP path up', id: 'jalur SMTP tersambung' },
  'topology.link.cut': { en: 'CUT', id: 'PUTUS' },
  'topology.link.slow': { en: 'SLOW: {how}', id: 'LAMBAT: {how}' },
  'topology.link.unknown': { en: 'link state unknown', id: 'status jalur tidak diketahui' },
  'topology.isolated': { en: 'ISOLATED', id: 'TERISOLASI' },
  'topology.down': { en: 'NOT ANSWERING', id: 'TIDAK MENJAWAB' },
  'topology.queue': { en: 'queue: {n}', id: 'antrian: {n}' },
  'topology.queueDeferred': { en: 'queue: {n} ({deferred} waiting to retry)', id: 'antrian: {n} ({deferred} menunggu dicoba lagi)' },
  'topology.alt': { en: 'Lab {n}: client, lab DNS and mail servers on the lab network', id: 'Lab {n}: klien, DNS lab dan server e-mail di jaringan lab' },
  'badge.dns-down': { en: 'DNS DOWN', id: 'DNS MATI' },
  'badge.dns-servfail': { en: 'SERVFAIL {target}', id: 'SERVFAIL {target}' },
  'badge.server-down': { en: 'PORT 25 DOWN', id: 'PORT 25 MATI' },
  'badge.greylist': { en: 'GREYLISTING', id: 'GREYLISTING' },
  'badge.greet-delay': { en: 'LATE GREETING', id: 'SALAM TERLAMBAT' },
  'badge.reject': { en: 'REJECTS {target}', id: 'MENOLAK {target}' },
});

type T = (key: string, params?: Record<string, string | number>) => string;

const W = 1000;
const H = 500;
const BUS_Y = 212;
const NODE_W = 300;
const NODE_H = 96;

interface Pos {
  x: number;
  y: number;
}

/** A box with its lines of text; `down` greys it out. */
function Node(props: { id: string; pos: Pos; title: string; lines: string[]; kind: string; up: boolean; isolated?: boolean; badges: string[]; badgesBelow?: boolean; t: T }) {
  const { pos } = props;
  const x = pos.x - NODE_W / 2;
  const y = pos.y - NODE_H / 2;
  const badges = props.up ? props.badges : [props.t('topology.down'), ...props.badges];
  const by = props.badgesBelow ? y + NODE_H + 10 : y - 40;
  return (
    <g class={`node ${props.kind}${props.up ? '' : ' down'}${props.isolated ? ' isolated' : ''}`} data-node={props.id} data-up={String(props.up)} data-isolated={String(!!props.isolated)}>
      <rect x={x} y={y} width={NODE_W} height={NODE_H} rx="10" />
      <text x={pos.x} y={y + 30} class="node-title">
        {props.title}
      </text>
      {props.lines.map((l, i) => (
        <text x={pos.x} y={y + 56 + i * 24} class="node-line">
          {l}
        </text>
      ))}
      {badges.map((b, i) => (
        <g class={`badge${!props.up && i === 0 ? ' badge-down' : ''}`}>
          <rect x={pos.x - NODE_W / 2} y={by + (props.badgesBelow ? i * 34 : -i * 34)} width={NODE_W} height="30" rx="15" />
          <text x={pos.x} y={by + 21 + (props.badgesBelow ? i * 34 : -i * 34)}>
            {b}
          </text>
        </g>
      ))}
    </g>
  );
}

/** A fault's badge text, at the node it belongs to. */
function badgeOf(f: ActiveFault, t: T): { at: string; text: string } | null {
  switch (f.kind) {
    case 'dns-down':
      return { at: 'dns', text: t('badge.dns-down') };
    case 'dns-servfail':
      return { at: 'dns', text: t('badge.dns-servfail', { target: f.target }) };
    case 'server-down':
    case 'greylist':
    case 'greet-delay':
      return { at: f.target, text: t(`badge.${f.kind}`) };
    case 'reject': {
      const domain = f.target.slice(f.target.lastIndexOf('@') + 1);
      return { at: domain, text: t('badge.reject', { target: f.target.slice(0, f.target.lastIndexOf('@')) }) };
    }
    default:
      return null;
  }
}

export function TopologyDrawing(props: { lab: WebLab; status: LabStatus; t: T }) {
  const { lab, status, t } = props;
  const cfg = lab.config;
  const service = (id: string) => status.services.find((s) => s.id === id);
  const domains = cfg.domains;
  const mailPos = (i: number): Pos => ({ x: (W * (2 * i + 1)) / (2 * domains.length), y: 350 });
  const clientPos: Pos = { x: 190, y: 84 };
  const dnsPos: Pos = { x: W - 190, y: 84 };
  const badges = new Map<string, string[]>();
  for (const f of status.faults) {
    const b = badgeOf(f, t);
    if (b) badges.set(b.at, [...(badges.get(b.at) ?? []), b.text]);
  }
  const isolated = new Set(status.isolated.map((i) => i.domain));
  const queueLine = (domain: string) => {
    const q = status.queues.find((x) => x.domain === domain);
    if (!q || q.size === null) return '';
    return q.deferred ? t('topology.queueDeferred', { n: q.size, deferred: q.deferred }) : t('topology.queue', { n: q.size });
  };
  const subnet = cfg.network?.subnet ?? `${cfg.dns.address.split('.').slice(0, 3).join('.')}.0/24`;
  return (
    <svg class="topology" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t('topology.alt', { n: lab.n })} xmlns="http://www.w3.org/2000/svg">
      <line class="bus" x1="40" y1={BUS_Y} x2={W - 40} y2={BUS_Y} />
      <text class="bus-label" x="48" y={BUS_Y - 14}>
        {t('topology.backbone', { subnet })}
      </text>
      {/* spokes: each node to the backbone */}
      <line class="spoke" x1={clientPos.x} y1={clientPos.y + NODE_H / 2} x2={clientPos.x} y2={BUS_Y} />
      <line class={`spoke${service('dns')?.up === false ? ' down' : ''}`} x1={dnsPos.x} y1={dnsPos.y + NODE_H / 2} x2={dnsPos.x} y2={BUS_Y} />
      {domains.map((d, i) => {
        const p = mailPos(i);
        const iso = isolated.has(d.name);
        return (
          <g class={`spoke-group${iso ? ' isolated' : ''}`} data-spoke={d.name} data-isolated={String(iso)}>
            <line class={`spoke${iso ? ' cut' : ''}`} x1={p.x} y1={BUS_Y} x2={p.x} y2={p.y - NODE_H / 2} />
            {iso && (
              <text class="cut-mark" x={p.x} y={(BUS_Y + p.y - NODE_H / 2) / 2 + 12}>
                ✕
              </text>
            )}
          </g>
        );
      })}
      {/* the SMTP path between each pair of domains */}
      {domains.flatMap((a, i) =>
        domains.slice(i + 1).map((b, k) => {
          const j = i + 1 + k;
          const l = status.links.find((x) => x.a === a.name && x.b === b.name);
          const pa = mailPos(i);
          const pb = mailPos(j);
          const known = status.services.find((s) => s.id === a.name)?.up && status.services.find((s) => s.id === b.name)?.up;
          const state = !l || !known ? 'unknown' : l.cut ? 'cut' : l.slow ? 'slow' : 'up';
          const y0 = pa.y + NODE_H / 2;
          const dip = 40 + 24 * (j - i - 1);
          const mx = (pa.x + pb.x) / 2;
          const label =
            state === 'cut' ? t('topology.link.cut') : state === 'slow' ? t('topology.link.slow', { how: describeSlowLink(l!.slow!) }) : state === 'up' ? t('topology.link.up') : t('topology.link.unknown');
          return (
            <g class={`link link-${state}`} data-link={`${a.name} ${b.name}`} data-link-state={state}>
              <path d={`M ${pa.x} ${y0} Q ${mx} ${y0 + dip * 2} ${pb.x} ${y0}`} />
              {state === 'cut' && (
                <text class="cut-mark" x={mx} y={y0 + dip + 12}>
                  ✕
                </text>
              )}
              <text class="link-label" x={mx} y={y0 + dip + 44}>
                {label}
              </text>
            </g>
          );
        }),
      )}
      <Node id="client" kind="client" pos={clientPos} title={cfg.client?.hostname ?? t('topology.client')} lines={[cfg.client?.address ?? '', t('topology.client')]} up={true} badges={[]} t={t} />
      <Node id="dns" kind="dns" pos={dnsPos} title={t('topology.dns')} lines={[cfg.dns.address, `:53 → 127.0.0.1:${cfg.dns.hostPort}`]} up={service('dns')?.up ?? false} badges={badges.get('dns') ?? []} badgesBelow={true} t={t} />
      {domains.map((d, i) => (
        <Node
          id={d.name}
          kind="mail"
          pos={mailPos(i)}
          title={d.mailHost}
          lines={[d.address, queueLine(d.name) || t('topology.mailServices')]}
          up={service(d.name)?.up ?? false}
          isolated={isolated.has(d.name)}
          badges={[...(isolated.has(d.name) ? [t('topology.isolated')] : []), ...(badges.get(d.name) ?? [])]}
          badgesBelow={false}
          t={t}
        />
      ))}
    </svg>
  );
}
