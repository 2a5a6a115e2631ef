/**
 * The lab on Docker Swarm learns its hosts' addresses from the platform
 * (issue 14; services/core/src/swarm.ts): `tasks.<service>` answers, the lab
 * DNS serving them (zones rebuilt on every change), the mail server's link
 * faults made with the peer's address of the moment. The lookups are faked
 * here; the container suite (test/containers/swarm.test.ts) runs the real one.
 */
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { loadLabConfig } from '../../../services/core/src/config';
import { deriveLab } from '../../../services/core/src/labs';
import { memoryLogger } from '../../../services/core/src/logger';
import { AddressWatcher, inSubnet, lookupLabAddresses, ownAddressIn, swarmServiceOf, withAddresses, type TaskLookup } from '../../../services/core/src/swarm';
import { startDnsServer } from '../../../services/dns/src/server';
import { DiscoveringLinks, followingResolver } from '../../../services/mail-domain/src/swarm';
import type { LinkControl } from '../../../services/mail-domain/src/links/types';
import { mailService } from '../../../scripts/compose/render';

const base = loadLabConfig(join(__dirname, '../../../lab-scenarios/lab.yaml')).config;
const lab = deriveLab(base, 63);

const fakeLookup = (table: Record<string, string[]>): TaskLookup => async (service) => table[service] ?? [];

test('the stack services are named as the compose services are', () => {
  for (const d of lab.domains) expect(swarmServiceOf(d)).toBe(mailService(d));
  expect(swarmServiceOf('dns')).toBe('dns');
});

test('inSubnet and the own backbone address', () => {
  expect(inSubnet('172.29.163.7', '172.29.163.0/24')).toBe(true);
  expect(inSubnet('172.18.0.3', '172.29.163.0/24')).toBe(false);
  expect(inSubnet('10.1.2.3', '0.0.0.0/0')).toBe(true);
  const ifs = { eth1: [{ address: '172.18.0.3', family: 'IPv4', internal: false }], eth0: [{ address: '172.29.163.9', family: 'IPv4', internal: false }] };
  expect(ownAddressIn('172.29.163.0/24', ifs as never)).toBe('172.29.163.9');
  expect(ownAddressIn('172.29.164.0/24', ifs as never)).toBeNull();
});

test('the addresses the platform gives replace the definition: hosts and the A records that named them', async () => {
  const found = await lookupLabAddresses(lab, fakeLookup({ dns: ['172.29.163.2'], 'mail-garudayaksa': ['10.0.0.9', '172.29.163.5'], 'mail-dadali': ['172.29.163.4'] }));
  expect(found).toEqual({ dns: '172.29.163.2', client: undefined, domains: { 'garudayaksa.com': '172.29.163.5', 'dadali.com': '172.29.163.4' } });
  const moved = withAddresses(lab, found);
  expect(moved.dns.address).toBe('172.29.163.2');
  expect(moved.domains.map((d) => d.address)).toEqual(['172.29.163.5', '172.29.163.4']);
  expect(moved.domains[0].records.find((r) => r.name === 'www')).toMatchObject({ type: 'A', value: '172.29.163.5' });
  // The client keeps the definition's address while it has no task.
  expect(moved.client?.address).toBe(lab.client?.address);
});

test('the lab DNS serves the addresses the watcher learns, A and PTR, and follows a rescheduled task', async () => {
  const logger = memoryLogger('info');
  const server = await startDnsServer({ config: lab, mode: 'docker', host: '127.0.0.1', port: 0, logger });
  const table: Record<string, string[]> = { dns: ['172.29.163.2'], 'mail-garudayaksa': ['172.29.163.5'], 'mail-dadali': [] };
  const watcher = new AddressWatcher({ config: lab, lookup: fakeLookup(table), onChange: (f) => server.setConfig(withAddresses(lab, f)), fastMs: 20, slowMs: 20 });
  const r = new Resolver({ timeout: 1000, tries: 1 });
  r.setServers([`127.0.0.1:${server.port}`]);
  try {
    await watcher.start();
    expect(await r.resolve4('mail.garudayaksa.com')).toEqual(['172.29.163.5']);
    expect(await r.resolvePtr('5.163.29.172.in-addr.arpa')).toEqual(['mail.garudayaksa.com']);
    // dadali has no task yet: the definition's address until it has one.
    expect(await r.resolve4('mail.dadali.com')).toEqual([lab.domains[1].address]);
    table['mail-dadali'] = ['172.29.163.4'];
    table['mail-garudayaksa'] = ['172.29.163.8'];
    await new Promise((res) => setTimeout(res, 150));
    expect(await r.resolve4('mail.dadali.com')).toEqual(['172.29.163.4']);
    expect(await r.resolve4('mail.garudayaksa.com')).toEqual(['172.29.163.8']);
    expect(watcher.current()?.domains['dadali.com']).toBe('172.29.163.4');
  } finally {
    watcher.stop();
    await server.close();
  }
});

test('link faults use the peer where its task is, and restore the address they cut', async () => {
  const calls: string[] = [];
  const inner: LinkControl = {
    method: 'iptables',
    view: async () => ({ domain: 'garudayaksa.com', method: 'iptables', peers: [], isolated: null }),
    cut: async (p, why) => (calls.push(`cut ${p.name} ${p.address} ${why}`), { domain: 'garudayaksa.com', peer: p.name, changed: true, how: '' }),
    restore: async (p, why) => (calls.push(`restore ${p.name} ${p.address} ${why}`), { domain: 'garudayaksa.com', peer: p.name, changed: true, how: '' }),
    slow: async (p) => (calls.push(`slow ${p.address}`), { domain: 'garudayaksa.com', peer: p.name, changed: true, how: '' }),
    unslow: async (p) => (calls.push(`unslow ${p.address}`), { domain: 'garudayaksa.com', peer: p.name, changed: true, how: '' }),
    isolate: async () => ({ changed: true, how: '' }),
  };
  const table: Record<string, string[]> = { 'mail-dadali': ['172.29.163.4'] };
  const links = new DiscoveringLinks(inner, fakeLookup(table), '172.29.163.0/24');
  const dadali = lab.domains[1];
  await links.cut(dadali, 'break');
  table['mail-dadali'] = ['172.29.163.9'];
  await links.restore(dadali, 'break');
  await links.slow(dadali, { rate: '64kbit' });
  await links.unslow(dadali);
  expect(calls).toEqual(['cut dadali.com 172.29.163.4 break', 'restore dadali.com 172.29.163.4 break', 'slow 172.29.163.9', 'unslow 172.29.163.9']);
  table['mail-dadali'] = [];
  await expect(links.cut(dadali, 'break')).rejects.toThrow(/no task of dadali\.com runs/);
});

test('the mail server asks the lab DNS wherever it is, and says so while it has no task', async () => {
  let at: string | undefined;
  const r = followingResolver(() => at);
  await expect(r.resolveMx('dadali.com')).rejects.toThrow(/no task in the swarm yet/);
  const server = await startDnsServer({ config: lab, mode: 'docker', host: '127.0.0.1', port: 0, logger: memoryLogger('info') });
  try {
    at = `127.0.0.1:${server.port}`;
    expect(await r.resolveMx('dadali.com')).toEqual([{ exchange: 'mail.dadali.com', priority: 10 }]);
  } finally {
    await server.close();
  }
});
