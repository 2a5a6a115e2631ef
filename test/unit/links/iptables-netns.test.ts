/**
 * The Docker lab's link control (links/iptables.ts) for real, without
 * Docker: run as root inside two network namespaces of the test's own
 * (netns.ts) with the host's iptables and tc. Checks that cut/restore,
 * isolate and slow/unslow make exactly the intended rules and remove them
 * completely, that doing a thing twice changes nothing, that view() reads
 * back what is there, and, with packets, that a cut link times out and a
 * restored one works. This kernel has no netem: the tbf + statistic path
 * is the one made; the netem path is checked with a fake tc.
 */
import type { DomainConfig } from '../../../services/core/src/config';
import { IptablesLinks } from '../../../services/mail-domain/src/links/iptables';
import { parseRoutes } from '../../../services/mail-domain/src/links/isolate-rules';
import { execFileRunner, type CommandRunner } from '../../../services/mail-domain/src/links/runner';
import { ADDR_A, ADDR_B, canUseNetns, GATEWAY, inNs, makeNetnsPair, nsRunner, SUBNET, type NetnsPair } from './netns';

const domain = (name: string, address: string) => ({ name, address }) as DomainConfig;
const self = domain('garudayaksa.test', ADDR_A);
const peerB = domain('dadali.test', ADDR_B);
/** A peer with no namespace behind it (rules only). */
const peerC = domain('ketiga.test', '10.212.0.30');

const HOST_TOOLS = { iptables: 'iptables', tc: 'tc', ip: 'ip' };

describe('parseRoutes', () => {
  test('the subnet of the container address and the default gateway', () => {
    const routes = 'default via 172.29.25.1 dev eth0 \n172.29.25.0/24 dev eth0 proto kernel scope link src 172.29.25.10 \n';
    expect(parseRoutes(routes)).toEqual({ subnet: '172.29.25.0/24', gateway: '172.29.25.1' });
    const two = 'default via 172.29.25.1 dev eth1 \n10.9.0.0/16 dev eth0 proto kernel scope link src 10.9.0.5 \n172.29.25.0/24 dev eth1 proto kernel scope link src 172.29.25.10 \n';
    expect(parseRoutes(two, '172.29.25.10')).toEqual({ subnet: '172.29.25.0/24', gateway: '172.29.25.1' });
    expect(parseRoutes(two)).toEqual({ subnet: '172.29.25.0/24', gateway: '172.29.25.1' });
    expect(parseRoutes('172.29.25.0/24 dev eth0 proto kernel scope link src 172.29.25.10\n')).toBeNull();
  });
});

describe('netem path (fake tc that has netem)', () => {
  test('one netem leaf does rate, delay and loss; no iptables loss rule; nothing missing', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (file, args) => {
      calls.push([file, ...args].join(' '));
      if (file === 'ip') return { code: 0, stdout: `${ADDR_B} dev eth0 src ${ADDR_A} uid 0 \\    cache \n`, stderr: '' };
      if (file === 'iptables') return { code: 0, stdout: '-P OUTPUT ACCEPT\n', stderr: '' };
      if (args[0] === 'qdisc' && args[1] === 'show') return { code: 0, stdout: 'qdisc htb 1: root refcnt 2 r2q 10 default 0\nqdisc netem 10: parent 1:10 limit 1000 delay 500ms loss 10% rate 64Kbit\n', stderr: '' };
      if (args[0] === 'class' && args[1] === 'show') return { code: 0, stdout: 'class htb 1:10 root leaf 10: prio 0 rate 10Gbit ceil 10Gbit\n', stderr: '' };
      return { code: 0, stdout: '', stderr: '' };
    };
    const links = new IptablesLinks({ self, peers: [peerB], run, tools: HOST_TOOLS, now: () => new Date('2025-01-01T00:00:00Z') });
    const r = await links.slow(peerB, { rate: '64kbit', delayMs: 500, loss: 10 });
    expect(r.slow).toEqual({ rate: '64kbit', delayMs: 500, loss: 10, since: '2025-01-01T00:00:00.000Z', methods: [`tc netem (rate 64kbit, delay 500ms, loss 10%) on eth0 for ${ADDR_B}`], missing: [] });
    expect(calls).toContain('tc qdisc add dev eth0 parent 1:10 handle 10: netem delay 500ms loss 10% rate 64kbit');
    expect(calls.filter((c) => c.startsWith('iptables -w -I'))).toEqual([]);
    expect((await links.slow(peerB, { rate: '64kbit', delayMs: 500, loss: 10 })).changed).toBe(false);
  });
});

const describeNetns = canUseNetns() ? describe : describe.skip;
if (!canUseNetns()) console.warn('links/iptables-netns.test.ts: skipped (needs root, ip netns, iptables and tc)');

describeNetns('IptablesLinks in a network namespace', () => {
  let net: NetnsPair;
  let links: IptablesLinks;
  const tag = String(process.pid % 100000);
  // iptables 1.8.9 prints `--comment "mail-lab-break-dadali.test"` (quoted because of the dots); compared without the quotes.
  const ipt = (chain?: string) => inNs(net.a, ['iptables', '-w', '-S', ...(chain ? [chain] : [])]).trim().replace(/"/g, '').split('\n');
  const qdiscs = () => inNs(net.a, ['tc', 'qdisc', 'show', 'dev', net.devA]);
  const fresh = () => new IptablesLinks({ self, peers: [self, peerB, peerC], run: nsRunner(net.a), tools: HOST_TOOLS });

  beforeAll(async () => {
    net = await makeNetnsPair(tag);
    links = fresh();
  });
  afterAll(() => net?.remove());

  test('a fresh namespace: nothing cut, nothing slowed, not isolated', async () => {
    expect(await links.view()).toEqual({
      domain: 'garudayaksa.test',
      method: 'iptables',
      peers: [
        { domain: 'dadali.test', cut: false, peerIsolated: false },
        { domain: 'ketiga.test', cut: false, peerIsolated: false },
      ],
      isolated: null,
    });
    expect((await net.connect(net.a, ADDR_B)).result).toBe('connected');
  });

  test('break: one OUTPUT DROP with the comment; connections time out; restore removes it and they work again', async () => {
    const cut = await links.cut(peerB, 'break');
    expect(cut).toEqual({ domain: 'garudayaksa.test', peer: 'dadali.test', changed: true, how: `iptables in the container of garudayaksa.test: OUTPUT DROP to ${ADDR_B} (dadali.test); connections to it time out` });
    expect((await links.cut(peerB, 'break')).changed).toBe(false);
    expect(ipt('OUTPUT')).toEqual(['-P OUTPUT ACCEPT', `-A OUTPUT -d ${ADDR_B}/32 -m comment --comment mail-lab-break-dadali.test -j DROP`]);
    expect((await links.view()).peers.map((p) => [p.domain, p.cut])).toEqual([
      ['dadali.test', true],
      ['ketiga.test', false],
    ]);
    // A restarted server (memory lost, namespace kept) reads the same truth.
    expect((await fresh().view()).peers[0].cut).toBe(true);
    const blocked = await net.connect(net.a, ADDR_B, { timeoutMs: 1500 });
    expect(blocked.result).toBe('timeout');

    expect((await links.restore(peerB, 'break')).changed).toBe(true);
    expect((await links.restore(peerB, 'break')).changed).toBe(false);
    expect(ipt()).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
    expect((await links.view()).peers.every((p) => !p.cut)).toBe(true);
    expect(await net.connect(net.a, ADDR_B)).toMatchObject({ result: 'connected', answer: 'hi\ngot 0' });
  });

  test('cut for reason isolate is nothing to do in Docker (the isolated container drops the traffic itself)', async () => {
    const r = await links.cut(peerB, 'isolate');
    expect(r).toMatchObject({ changed: false, how: expect.stringContaining("dadali.test's own container drops the backbone traffic") });
    expect((await links.restore(peerB, 'isolate')).changed).toBe(false);
    expect(ipt()).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
  });

  test('isolate: the INPUT chain drops the backbone except the gateway; off removes the chain and the jump', async () => {
    const on = await links.isolate(true);
    expect(on).toEqual({ changed: true, how: `iptables in the container of garudayaksa.test: DROP of everything arriving from ${SUBNET} except from the gateway ${GATEWAY} (the host's published ports)` });
    expect(await links.isolate(true)).toEqual({ changed: false, how: '' });
    expect(ipt()).toEqual([
      '-P INPUT ACCEPT',
      '-P FORWARD ACCEPT',
      '-P OUTPUT ACCEPT',
      '-N MAIL-LAB-ISOLATE-IN',
      '-A INPUT -m comment --comment mail-lab-isolate -j MAIL-LAB-ISOLATE-IN',
      `-A MAIL-LAB-ISOLATE-IN -s ${GATEWAY}/32 -j RETURN`,
      `-A MAIL-LAB-ISOLATE-IN -s ${SUBNET} -j DROP`,
    ]);
    const view = await links.view();
    expect(view.isolated).toEqual({ since: expect.any(String), how: on.how });
    // A server that did not make it (restarted, namespace kept) still sees it, in general words.
    expect((await fresh().view()).isolated).toEqual({ since: expect.any(String), how: expect.stringContaining('chain MAIL-LAB-ISOLATE-IN drops') });
    // From the backbone: times out. From the gateway (the host's published ports): works.
    expect((await net.connect(net.b, ADDR_A)).result).toBe('timeout');
    expect((await net.connect(net.b, ADDR_A, { from: GATEWAY })).result).toBe('connected');

    expect((await links.isolate(false)).changed).toBe(true);
    expect(await links.isolate(false)).toEqual({ changed: false, how: '' });
    expect(ipt()).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
    expect((await links.view()).isolated).toBeNull();
    expect((await net.connect(net.b, ADDR_A)).result).toBe('connected');
  });

  test('slow-link without netem: HTB + tbf for the rate, iptables statistic for the loss, the delay said to be missing', async () => {
    const r = await links.slow(peerB, { rate: '256kbit', loss: 10 });
    expect(r.changed).toBe(true);
    expect(r.slow).toEqual({
      rate: '256kbit',
      loss: 10,
      since: expect.any(String),
      methods: [`rate: tc tbf 256kbit on ${net.devA} for ${ADDR_B} (this kernel has no netem (sch_netem))`, `loss: iptables statistic DROP, probability 0.1, to ${ADDR_B} (this kernel has no netem (sch_netem))`],
      missing: [],
    });
    expect((await links.slow(peerB, { rate: '256kbit', loss: 10 })).changed).toBe(false);
    expect(ipt('OUTPUT')).toEqual(['-P OUTPUT ACCEPT', `-A OUTPUT -d ${ADDR_B}/32 -m statistic --mode random --probability 0.10000000009 -m comment --comment mail-lab-slow-dadali.test -j DROP`]);
    expect(qdiscs()).toMatch(/^qdisc htb 1: root .*\nqdisc tbf 10: parent 1:10 rate 256Kbit /);
    expect(inNs(net.a, ['tc', 'filter', 'show', 'dev', net.devA])).toMatch(/flowid 1:10[\s\S]*match 0ad40014\/ffffffff at 16/);

    // Packets to the peer go through the tbf: 48 KiB at 256 kbit/s take about 1.5 s (loss aside).
    const t = await net.connect(net.a, ADDR_B, { bytes: 48 * 1024, timeoutMs: 20_000 });
    expect(t).toMatchObject({ result: 'connected', answer: `hi\ngot ${48 * 1024}` });
    expect(t.ms).toBeGreaterThan(1000);
    expect(inNs(net.a, ['tc', '-s', 'qdisc', 'show', 'dev', net.devA])).toMatch(/qdisc tbf 10: [^\n]*\n Sent [1-9]\d* bytes/);

    // Changed parameters: rebuilt; the loss rule goes, the delay is missing and said so.
    const r2 = await links.slow(peerB, { rate: '128kbit', delayMs: 500 });
    expect(r2.changed).toBe(true);
    expect(r2.slow!.methods).toEqual([`rate: tc tbf 128kbit on ${net.devA} for ${ADDR_B} (this kernel has no netem (sch_netem))`]);
    expect(r2.slow!.missing).toEqual(['delay 500ms NOT applied: delay needs tc netem, and this kernel has no netem (sch_netem)']);
    expect(r2.how).toContain('delay 500ms NOT applied');
    expect(ipt('OUTPUT')).toEqual(['-P OUTPUT ACCEPT']);

    // A second peer: its own class and loss rule.
    const r3 = await links.slow(peerC, { loss: 5 });
    expect(r3.slow!.methods).toEqual([`loss: iptables statistic DROP, probability 0.05, to 10.212.0.30 (this kernel has no netem (sch_netem))`]);
    expect(inNs(net.a, ['tc', 'class', 'show', 'dev', net.devA])).toMatch(/class htb 1:10 [\s\S]*class htb 1:11 |class htb 1:11 [\s\S]*class htb 1:10 /);
    const view = await links.view();
    expect(view.peers.map((p) => [p.domain, p.slow?.rate, p.slow?.loss, p.slow?.stale])).toEqual([
      ['dadali.test', '128kbit', undefined, undefined],
      ['ketiga.test', undefined, 5, undefined],
    ]);
  });

  test('only a delay, without netem: 400 unsupported, and the shaping that was there stays', async () => {
    const e = await links.slow(peerB, { delayMs: 300 }).catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 400, code: 'unsupported', message: 'delay 300ms NOT applied: delay needs tc netem, and this kernel has no netem (sch_netem); nothing was applied (--rate and --loss work without netem)' });
    expect((await links.view()).peers[0].slow).toMatchObject({ rate: '128kbit', delayMs: 500 });
    expect(qdiscs()).toMatch(/qdisc tbf 10: parent 1:10 rate 128Kbit/);
  });

  test('shaping gone behind its back (a fresh namespace): stale in the view; asking again remakes it', async () => {
    inNs(net.a, ['tc', 'qdisc', 'del', 'dev', net.devA, 'root']);
    inNs(net.a, ['iptables', '-w', '-F', 'OUTPUT']);
    const view = await links.view();
    expect(view.peers.map((p) => p.slow?.stale)).toEqual([true, true]);
    const again = await links.slow(peerB, { rate: '128kbit', delayMs: 500 });
    expect(again.changed).toBe(true);
    expect((await links.view()).peers.map((p) => p.slow?.stale)).toEqual([undefined, undefined]);
  });

  test('unslow removes everything; twice is changed: false; leftovers of an earlier process are removed too', async () => {
    expect((await links.unslow(peerB)).changed).toBe(true);
    expect((await links.unslow(peerB)).changed).toBe(false);
    expect(qdiscs()).toMatch(/qdisc htb 1: root/); // peerC still slowed
    expect((await links.unslow(peerC)).changed).toBe(true);
    expect(qdiscs()).not.toMatch(/htb|tbf/);
    expect(ipt()).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
    expect((await links.view()).peers.every((p) => !p.slow)).toBe(true);

    await links.slow(peerB, { loss: 20 });
    const other = fresh(); // memory lost, rules left
    expect((await other.unslow(peerB)).changed).toBe(true);
    expect(qdiscs()).not.toMatch(/htb|tbf/);
    expect(ipt()).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
    expect((await other.unslow(peerB)).changed).toBe(false);
  });

  test('changes asked at the same time run one after the other', async () => {
    const rs = await Promise.all([links.cut(peerB, 'break'), links.cut(peerB, 'break'), links.cut(peerC, 'break'), links.isolate(true), links.isolate(true)]);
    expect(rs.map((r) => r.changed)).toEqual([true, false, true, true, false]);
    expect(ipt('OUTPUT')).toHaveLength(3);
    await Promise.all([links.restore(peerB, 'break'), links.restore(peerC, 'break'), links.isolate(false)]);
    expect(ipt()).toEqual(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT']);
  });

  test('a tool that cannot run is a 500 failed naming the command', async () => {
    const missing = await execFileRunner('/nonexistent/iptables', ['-S']);
    expect(missing).toMatchObject({ code: -1, stderr: expect.stringContaining('cannot run /nonexistent/iptables') });
    const broken = new IptablesLinks({ self, peers: [peerB], run: nsRunner(net.a), tools: { ...HOST_TOOLS, iptables: '/nonexistent/iptables' } });
    await expect(broken.cut(peerB, 'break')).rejects.toMatchObject({ status: 500, code: 'failed', message: expect.stringMatching(/^iptables -w -S OUTPUT failed \(exit status/) });
  });
});
