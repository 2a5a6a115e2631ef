/**
 * The `slow-link` fault (Docker mode only): a slow, lossy path between two
 * mail containers, made inside both of them (they have NET_ADMIN) and only
 * for traffic to the other one, so students' sessions from the host and the
 * DNS stay fast.
 *
 * - Classification: an HTB root qdisc whose unclassified traffic goes out
 *   directly, one class per slowed peer, a u32 filter on the peer's address.
 * - With `sch_netem` in the kernel: a netem leaf does rate, delay and loss.
 * - Without it (this lab's kernel): a tbf leaf does the rate, an iptables
 *   `statistic --mode random` DROP rule for the peer does the loss, and delay
 *   cannot be made; the result says so plainly.
 *
 * What was asked and how it was made is kept in each container in
 * /run/mail-lab-faults/slow-link.json, so `status` can show it; every change
 * rebuilds the container's qdiscs from that file (idempotent).
 */
import type { DomainConfig, LabConfig } from '../../services/core/src/config';
import { requireDomain } from '../../services/core/src/config';
import { formatDuration } from '../../services/core/src/duration';
import { containerOf } from '../lab-target';

export type Exec = (container: string, cmd: string[]) => Promise<{ code: number; output: string }>;

export interface SlowLinkParams {
  /** tc rate, e.g. `64kbit`. */
  rate?: string;
  delayMs?: number;
  /** Percent, 0 < loss < 100. */
  loss?: number;
}

/** One slowed peer as recorded in a container. */
export interface SlowLinkState extends SlowLinkParams {
  peer: string;
  peerAddress: string;
  since: string;
  /** How each part was made, e.g. `rate: tc tbf`. */
  methods: string[];
  /** What could not be made, said plainly. */
  missing: string[];
}

const STATE_FILE = '/run/mail-lab-faults/slow-link.json';
const HANDLE = '1:';

function describeParams(p: SlowLinkParams): string {
  return [p.rate && `rate ${p.rate}`, p.delayMs !== undefined && `delay ${formatDuration(p.delayMs)}`, p.loss !== undefined && `loss ${p.loss}%`].filter(Boolean).join(', ');
}

export const slowLinkSummary = (s: SlowLinkState) => describeParams(s);

async function must(exec: Exec, container: string, cmd: string[]): Promise<string> {
  const r = await exec(container, cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${container} failed (exit ${r.code}): ${r.output.trim()}`);
  return r.output;
}

export async function readStates(exec: Exec, container: string): Promise<SlowLinkState[]> {
  const r = await exec(container, ['cat', STATE_FILE]);
  if (r.code !== 0) return [];
  try {
    return JSON.parse(r.output) as SlowLinkState[];
  } catch {
    return [];
  }
}

async function writeStates(exec: Exec, container: string, states: SlowLinkState[]): Promise<void> {
  if (!states.length) {
    await exec(container, ['rm', '-f', STATE_FILE]);
    return;
  }
  await must(exec, container, ['sh', '-c', 'mkdir -p "$(dirname "$1")" && printf %s "$2" > "$1"', 'sh', STATE_FILE, JSON.stringify(states)]);
}

/** The interface the container reaches `address` through (eth0 in the compose lab). */
async function deviceFor(exec: Exec, container: string, address: string): Promise<string> {
  const out = await must(exec, container, ['ip', '-o', 'route', 'get', address]);
  const dev = /\bdev (\S+)/.exec(out)?.[1];
  if (!dev) throw new Error(`cannot tell which interface of ${container} leads to ${address}: ${out.trim()}`);
  return dev;
}

const lossComment = (peer: string) => `mail-lab-slow-${peer}`;

/** Removes our iptables loss rules (every one whose comment starts mail-lab-slow-). */
async function removeLossRules(exec: Exec, container: string): Promise<void> {
  const rules = (await must(exec, container, ['iptables', '-w', '-S', 'OUTPUT'])).split('\n').filter((l) => l.startsWith('-A OUTPUT') && l.includes('mail-lab-slow-'));
  for (const rule of rules) {
    const args = rule.replace(/^-A OUTPUT /, '').match(/"[^"]*"|\S+/g) ?? [];
    await must(exec, container, ['iptables', '-w', '-D', 'OUTPUT', ...args.map((a) => a.replace(/^"(.*)"$/, '$1'))]);
  }
}

/**
 * Rebuilds the container's shaping from `wanted` (peer -> params) and
 * returns the states as made (with methods and what was missing).
 */
async function rebuild(exec: Exec, container: string, wanted: { peer: DomainConfig; params: SlowLinkParams; since: string }[]): Promise<SlowLinkState[]> {
  const states: SlowLinkState[] = [];
  const dev = wanted.length ? await deviceFor(exec, container, wanted[0].peer.address) : 'eth0';
  await exec(container, ['tc', 'qdisc', 'del', 'dev', dev, 'root', 'handle', HANDLE]); // absent: fine
  await removeLossRules(exec, container);
  if (!wanted.length) return states;
  const needsTc = wanted.some((w) => w.params.rate || w.params.delayMs !== undefined || w.params.loss !== undefined);
  if (needsTc) await must(exec, container, ['tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', HANDLE, 'htb']);
  for (const [i, w] of wanted.entries()) {
    const p = w.params;
    const state: SlowLinkState = { peer: w.peer.name, peerAddress: w.peer.address, ...p, since: w.since, methods: [], missing: [] };
    const minor = (16 + i).toString(16);
    const classid = `1:${minor}`;
    await must(exec, container, ['tc', 'class', 'add', 'dev', dev, 'parent', HANDLE, 'classid', classid, 'htb', 'rate', '10gbit']);
    const netemArgs = [...(p.delayMs !== undefined ? ['delay', `${p.delayMs}ms`] : []), ...(p.loss !== undefined ? ['loss', `${p.loss}%`] : []), ...(p.rate ? ['rate', p.rate] : [])];
    const netem = await exec(container, ['tc', 'qdisc', 'add', 'dev', dev, 'parent', classid, 'handle', `${minor}:`, 'netem', ...netemArgs]);
    if (netem.code === 0) {
      state.methods.push(`tc netem (${describeParams(p)}) on ${dev} for ${w.peer.address}`);
    } else {
      const why = /unknown|not supported|No such file/i.test(netem.output) ? 'this kernel has no netem (sch_netem)' : `netem failed: ${netem.output.trim()}`;
      if (p.rate) {
        await must(exec, container, ['tc', 'qdisc', 'add', 'dev', dev, 'parent', classid, 'handle', `${minor}:`, 'tbf', 'rate', p.rate, 'burst', '3000', 'latency', '10s']);
        state.methods.push(`rate: tc tbf ${p.rate} on ${dev} for ${w.peer.address} (${why})`);
      }
      if (p.loss !== undefined) {
        const probability = (p.loss / 100).toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
        await must(exec, container, ['iptables', '-w', '-I', 'OUTPUT', '-d', w.peer.address, '-m', 'statistic', '--mode', 'random', '--probability', probability, '-m', 'comment', '--comment', lossComment(w.peer.name), '-j', 'DROP']);
        state.methods.push(`loss: iptables statistic DROP, probability ${probability}, to ${w.peer.address} (${why})`);
      }
      if (p.delayMs !== undefined) state.missing.push(`delay ${formatDuration(p.delayMs)} NOT applied: delay needs tc netem, and ${why}`);
    }
    await must(exec, container, ['tc', 'filter', 'add', 'dev', dev, 'parent', HANDLE, 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dst', `${w.peer.address}/32`, 'flowid', classid]);
    states.push(state);
  }
  return states;
}

const sameParams = (s: SlowLinkParams, p: SlowLinkParams) => s.rate === p.rate && s.delayMs === p.delayMs && s.loss === p.loss;

/** Sets (or with `params` null, removes) the slow link from `from` to `to` inside `from`'s container. */
async function setSide(exec: Exec, config: LabConfig, from: DomainConfig, to: DomainConfig, params: SlowLinkParams | null): Promise<{ changed: boolean; state?: SlowLinkState }> {
  const container = containerOf(from.name);
  const current = await readStates(exec, container);
  const mine = current.find((s) => s.peer === to.name);
  if (params && mine && sameParams(mine, params)) return { changed: false, state: mine };
  if (!params && !mine) return { changed: false };
  const others = current.filter((s) => s.peer !== to.name);
  const wanted: { peer: DomainConfig; params: SlowLinkParams; since: string }[] = others.map((s) => ({ peer: requireDomain(config, s.peer), params: { rate: s.rate, delayMs: s.delayMs, loss: s.loss }, since: s.since }));
  if (params) wanted.push({ peer: to, params, since: new Date().toISOString() });
  let made: SlowLinkState[];
  try {
    made = await rebuild(exec, container, wanted);
  } catch (e) {
    await rebuild(exec, container, []).catch(() => undefined);
    await writeStates(exec, container, []);
    throw e;
  }
  await writeStates(exec, container, made);
  return { changed: true, state: made.find((s) => s.peer === to.name) };
}

export interface SlowLinkResult {
  changed: boolean;
  /** Per container: how it was made. */
  states: { container: string; state?: SlowLinkState }[];
}

export async function applySlowLink(exec: Exec, config: LabConfig, a: DomainConfig, b: DomainConfig, params: SlowLinkParams): Promise<SlowLinkResult> {
  const r1 = await setSide(exec, config, a, b, params);
  const r2 = await setSide(exec, config, b, a, params);
  return { changed: r1.changed || r2.changed, states: [{ container: containerOf(a.name), state: r1.state }, { container: containerOf(b.name), state: r2.state }] };
}

export async function clearSlowLink(exec: Exec, config: LabConfig, a: DomainConfig, b: DomainConfig): Promise<SlowLinkResult> {
  const r1 = await setSide(exec, config, a, b, null);
  const r2 = await setSide(exec, config, b, a, null);
  return { changed: r1.changed || r2.changed, states: [] };
}

/** Every slowed pair, from the state in the mail containers, checked against tc. */
export async function listSlowLinks(exec: Exec, config: LabConfig): Promise<{ a: string; b: string; state: SlowLinkState; stale: boolean }[]> {
  const out: { a: string; b: string; state: SlowLinkState; stale: boolean }[] = [];
  for (const d of config.domains) {
    const container = containerOf(d.name);
    const states = await readStates(exec, container);
    if (!states.length) continue;
    const dev = await deviceFor(exec, container, states[0].peerAddress).catch(() => 'eth0');
    const qdiscs = (await exec(container, ['tc', 'qdisc', 'show', 'dev', dev])).output;
    const stale = !/qdisc htb 1: root/.test(qdiscs);
    for (const s of states) if (!out.some((x) => (x.a === s.peer && x.b === d.name) || (x.a === d.name && x.b === s.peer))) out.push({ a: d.name, b: s.peer, state: s, stale });
  }
  return out;
}

/** Clears every slow link (for `fault clear all`); returns how many pairs there were. */
export async function clearAllSlowLinks(exec: Exec, config: LabConfig): Promise<number> {
  const links = await listSlowLinks(exec, config);
  for (const d of config.domains) {
    const container = containerOf(d.name);
    if ((await readStates(exec, container)).length) {
      await rebuild(exec, container, []);
      await writeStates(exec, container, []);
    }
  }
  return links.length;
}
