/**
 * Fault `slow-link`, this container's half: traffic to one peer made slow
 * and lossy, and nothing else (students' sessions from the host and the DNS
 * stay fast).
 *
 * - Classification: an HTB root qdisc (handle 1:) whose unclassified traffic
 *   goes out directly, one class per slowed peer, a u32 filter on the
 *   peer's address.
 * - With `sch_netem` in the kernel: a netem leaf does rate, delay and loss.
 * - Without it (this lab's kernel): a tbf leaf does the rate, an iptables
 *   `statistic --mode random` DROP rule for the peer does the loss, and the
 *   delay cannot be made; `missing` says so plainly.
 *
 * Every change rebuilds the whole shaping from what is asked for (kept in
 * memory by iptables.ts), so it is idempotent; `check` tells whether what
 * was made is still there (a restarted container has a fresh namespace).
 */
import type { DomainConfig } from '../../../core/src/config';
import type { SlowLinkInfo } from '../../../core/src/admin/api';
import { describeSlowLink } from '../../../core/src/faults';
import { formatDuration } from '../../../core/src/duration';
import type { NetTools } from './runner';
import type { SlowParams } from './types';

export const SHAPING_HANDLE = '1:';
export const lossComment = (peer: string) => `mail-lab-slow-${peer}`;

/** What is asked for one peer. */
export interface SlowWanted {
  peer: DomainConfig;
  params: SlowParams;
  since: Date;
}

/** What was made for one peer. */
export interface SlowMade extends SlowWanted {
  dev: string;
  classid: string;
  /** The iptables rule (after -I/-D) of the loss, when iptables makes it. */
  lossRule?: string[];
  methods: string[];
  missing: string[];
}

export const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Does an `iptables -S` listing hold a rule with this comment (quoted or not: iptables 1.8.9 quotes `a.b`)? */
export const hasComment = (listing: string, comment: string) => new RegExp(`--comment "?${escapeRe(comment)}"?(\\s|$)`, 'm').test(listing);

/** The interface the container reaches `address` through (eth0 in the compose lab). */
export async function deviceFor(net: NetTools, address: string): Promise<string> {
  const out = await net.must('ip', ['-o', 'route', 'get', address]);
  const dev = /\bdev (\S+)/.exec(out)?.[1];
  if (!dev) throw new Error(`cannot tell which interface leads to ${address}: ${out.trim()}`);
  return dev;
}

/** Removes every loss rule of ours (comment mail-lab-slow-…) from OUTPUT. */
export async function removeLossRules(net: NetTools): Promise<number> {
  // iptables 1.8.9 quotes some comments (`--comment "mail-lab-slow-dadali.com"`), older ones none.
  const rules = (await net.must('iptables', ['-S', 'OUTPUT'])).split('\n').filter((l) => l.startsWith('-A OUTPUT ') && /--comment "?mail-lab-slow-/.test(l));
  for (const rule of rules) {
    const args = rule.replace(/^-A OUTPUT /, '').match(/"[^"]*"|\S+/g) ?? [];
    await net.must('iptables', ['-D', 'OUTPUT', ...args.map((a) => a.replace(/^"(.*)"$/, '$1'))]);
  }
  return rules.length;
}

/** `0.1` for 10 %, as iptables' statistic match takes it. */
export const probability = (lossPercent: number) => (lossPercent / 100).toFixed(4).replace(/0+$/, '').replace(/\.$/, '');

/**
 * Removes all shaping of ours (the root qdisc on each of `devices`, every
 * loss rule) and makes `wanted`; returns what was made, with the methods
 * used and what could not be made.
 */
export async function rebuild(net: NetTools, devices: Iterable<string>, wanted: SlowWanted[]): Promise<SlowMade[]> {
  const withDev = [];
  for (const w of wanted) withDev.push({ ...w, dev: await deviceFor(net, w.peer.address) });
  for (const dev of new Set([...devices, ...withDev.map((w) => w.dev)])) await net.try('tc', ['qdisc', 'del', 'dev', dev, 'root', 'handle', SHAPING_HANDLE]); // absent: fine
  await removeLossRules(net);
  for (const dev of new Set(withDev.map((w) => w.dev))) await net.must('tc', ['qdisc', 'add', 'dev', dev, 'root', 'handle', SHAPING_HANDLE, 'htb']);
  const made: SlowMade[] = [];
  for (const [i, w] of withDev.entries()) {
    const { dev } = w;
    const p = w.params;
    const minor = (16 + i).toString(16);
    const classid = `1:${minor}`;
    const m: SlowMade = { ...w, classid, methods: [], missing: [] };
    await net.must('tc', ['class', 'add', 'dev', dev, 'parent', SHAPING_HANDLE, 'classid', classid, 'htb', 'rate', '10gbit']);
    const netemArgs = [...(p.delayMs !== undefined ? ['delay', `${p.delayMs}ms`] : []), ...(p.loss !== undefined ? ['loss', `${p.loss}%`] : []), ...(p.rate ? ['rate', p.rate] : [])];
    const netem = await net.try('tc', ['qdisc', 'add', 'dev', dev, 'parent', classid, 'handle', `${minor}:`, 'netem', ...netemArgs]);
    if (netem.code === 0) {
      m.methods.push(`tc netem (${describeSlowLink(p)}) on ${dev} for ${w.peer.address}`);
    } else {
      const said = (netem.stderr || netem.stdout).trim();
      const why = /unknown|not supported|No such file/i.test(said) ? 'this kernel has no netem (sch_netem)' : `netem failed: ${said}`;
      if (p.rate) {
        await net.must('tc', ['qdisc', 'add', 'dev', dev, 'parent', classid, 'handle', `${minor}:`, 'tbf', 'rate', p.rate, 'burst', '3000', 'latency', '10s']);
        m.methods.push(`rate: tc tbf ${p.rate} on ${dev} for ${w.peer.address} (${why})`);
      }
      if (p.loss !== undefined) {
        const prob = probability(p.loss);
        m.lossRule = ['OUTPUT', '-d', w.peer.address, '-m', 'statistic', '--mode', 'random', '--probability', prob, '-m', 'comment', '--comment', lossComment(w.peer.name), '-j', 'DROP'];
        await net.must('iptables', ['-I', ...m.lossRule]);
        m.methods.push(`loss: iptables statistic DROP, probability ${prob}, to ${w.peer.address} (${why})`);
      }
      if (p.delayMs !== undefined) m.missing.push(`delay ${formatDuration(p.delayMs)} NOT applied: delay needs tc netem, and ${why}`);
    }
    await net.must('tc', ['filter', 'add', 'dev', dev, 'parent', SHAPING_HANDLE, 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dst', `${w.peer.address}/32`, 'flowid', classid]);
    made.push(m);
  }
  return made;
}

/** Which of `made` are gone (stale): the HTB root, the peer's class or its loss rule missing. Keyed by peer name. */
export async function checkMade(net: NetTools, made: SlowMade[]): Promise<Set<string>> {
  const stale = new Set<string>();
  if (!made.length) return stale;
  const output = made.some((m) => m.lossRule) ? (await net.try('iptables', ['-S', 'OUTPUT'])).stdout : '';
  const perDev = new Map<string, { qdiscs: string; classes: string }>();
  for (const dev of new Set(made.map((m) => m.dev))) {
    perDev.set(dev, { qdiscs: (await net.try('tc', ['qdisc', 'show', 'dev', dev])).stdout, classes: (await net.try('tc', ['class', 'show', 'dev', dev])).stdout });
  }
  for (const m of made) {
    const tc = perDev.get(m.dev)!;
    const ok = /^qdisc htb 1: root/m.test(tc.qdiscs) && new RegExp(`^class htb ${escapeRe(m.classid)} `, 'm').test(tc.classes) && (!m.lossRule || hasComment(output, lossComment(m.peer.name)));
    if (!ok) stale.add(m.peer.name);
  }
  return stale;
}

/** The API's view of what was made. */
export function slowInfo(m: SlowMade, stale = false): SlowLinkInfo {
  const p = m.params;
  return {
    ...(p.rate !== undefined ? { rate: p.rate } : {}),
    ...(p.delayMs !== undefined ? { delayMs: p.delayMs } : {}),
    ...(p.loss !== undefined ? { loss: p.loss } : {}),
    since: m.since.toISOString(),
    methods: [...m.methods],
    missing: [...m.missing],
    ...(stale ? { stale } : {}),
  };
}

export const sameParams = (a: SlowParams, b: SlowParams) => a.rate === b.rate && a.delayMs === b.delayMs && a.loss === b.loss;
