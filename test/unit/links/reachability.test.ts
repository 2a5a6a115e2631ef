/**
 * No-Docker link control: reachability.ts (who is unreachable, and why, in
 * the queue's words) and in-server.ts (the LinkControl on top of it:
 * idempotent changes, the view, slow-link refused as unsupported).
 */
import { ApiError } from '../../../services/core/src/admin/errors';
import type { DomainConfig } from '../../../services/core/src/config';
import { InServerLinks, SLOW_LINK_NEEDS_DOCKER } from '../../../services/mail-domain/src/links/in-server';
import { Reachability, UNREACHABLE_BECAUSE } from '../../../services/mail-domain/src/links/reachability';

const domain = (name: string, address: string) => ({ name, address }) as DomainConfig;
const garuda = domain('garudayaksa.com', '172.29.25.10');
const dadali = domain('dadali.com', '172.29.25.20');
const third = domain('ketiga.net', '172.29.25.30');

const clock = new Date('2025-01-01T10:00:00Z');
const now = () => clock;

describe('Reachability', () => {
  test('a cut peer is unreachable with the queue wording; other domains are not', () => {
    const r = new Reachability(now);
    expect(r.blockedReason('dadali.com')).toBeNull();
    expect(r.cut('Dadali.com.', 'break')).toBe(true);
    expect(r.cut('dadali.com', 'break')).toBe(false);
    expect(r.blockedReason('DADALI.COM')).toBe('link broken by the instructor');
    expect(r.blockedReason('ketiga.net')).toBeNull();
    expect(r.cutPeers()).toEqual(['dadali.com']);
    expect(r.restore('dadali.com', 'break')).toBe(true);
    expect(r.restore('dadali.com', 'break')).toBe(false);
    expect(r.blockedReason('dadali.com')).toBeNull();
    expect(r.peers()).toEqual([]);
  });

  test('this domain isolated: every remote domain (lab or not) is unreachable; a broken link keeps its own wording', () => {
    const r = new Reachability(now);
    r.cut('dadali.com', 'break');
    expect(r.setIsolated(true)).toBe(true);
    expect(r.setIsolated(true)).toBe(false);
    expect(r.isolatedSince()).toEqual(clock);
    expect(r.blockedReason('ketiga.net')).toBe('cut off from the lab backbone by the instructor');
    expect(r.blockedReason('example.org')).toBe(UNREACHABLE_BECAUSE.selfIsolated);
    expect(r.blockedReason('dadali.com')).toBe('link broken by the instructor');
    expect(r.setIsolated(false)).toBe(true);
    expect(r.setIsolated(false)).toBe(false);
    expect(r.blockedReason('ketiga.net')).toBeNull();
    expect(r.blockedReason('dadali.com')).toBe('link broken by the instructor');
  });

  test('reasons are kept apart: clearing the isolation of a peer leaves its broken link broken, and the other way round', () => {
    const r = new Reachability(now);
    r.cut('dadali.com', 'isolate');
    expect(r.blockedReason('dadali.com')).toBe('dadali.com is cut off from the lab backbone by the instructor');
    r.cut('dadali.com', 'break');
    expect(r.blockedReason('dadali.com')).toBe('link broken by the instructor');
    expect(r.cutPeers('isolate')).toEqual(['dadali.com']);
    r.restore('dadali.com', 'isolate');
    expect(r.blockedReason('dadali.com')).toBe('link broken by the instructor');
    r.cut('dadali.com', 'isolate');
    r.restore('dadali.com', 'break');
    expect(r.blockedReason('dadali.com')).toBe('dadali.com is cut off from the lab backbone by the instructor');
    expect(r.cutPeers('break')).toEqual([]);
  });

  test('isolation of this domain and of a peer are kept apart; clear() forgets everything', () => {
    const r = new Reachability(now);
    r.setIsolated(true);
    r.cut('ketiga.net', 'isolate');
    expect(r.isolatedSince()).not.toBeNull();
    expect(r.cutPeers('isolate')).toEqual(['ketiga.net']);
    r.setIsolated(false);
    r.restore('ketiga.net', 'isolate');
    expect(r.isolatedSince()).toBeNull();
    expect(r.peers()).toEqual([]);
    r.cut('a.test', 'break');
    r.cut('a.test', 'isolate');
    r.setIsolated(true);
    expect(r.clear()).toBe(3);
    expect(r.blockedReason('a.test')).toBeNull();
  });
});

describe('InServerLinks', () => {
  const make = () => {
    const reachability = new Reachability(now);
    return { reachability, links: new InServerLinks({ self: garuda, peers: [garuda, dadali, third], reachability }) };
  };

  test('view lists the other lab domains; cut/restore are idempotent and show up in the view and the queue reason', async () => {
    const { reachability, links } = make();
    expect(links.method).toBe('in-server');
    expect(await links.view()).toEqual({
      domain: 'garudayaksa.com',
      method: 'in-server',
      peers: [
        { domain: 'dadali.com', cut: false, peerIsolated: false },
        { domain: 'ketiga.net', cut: false, peerIsolated: false },
      ],
      isolated: null,
    });
    const c = await links.cut(dadali, 'break');
    expect(c).toEqual({ domain: 'garudayaksa.com', peer: 'dadali.com', changed: true, how: expect.stringContaining('treats dadali.com as unreachable') });
    expect((await links.cut(dadali, 'break')).changed).toBe(false);
    expect((await links.cut(third, 'isolate')).changed).toBe(true);
    expect(reachability.blockedReason('dadali.com')).toBe('link broken by the instructor');
    expect(reachability.blockedReason('ketiga.net')).toBe('ketiga.net is cut off from the lab backbone by the instructor');
    expect((await links.view()).peers).toEqual([
      { domain: 'dadali.com', cut: true, peerIsolated: false },
      { domain: 'ketiga.net', cut: false, peerIsolated: true },
    ]);
    expect((await links.restore(dadali, 'break')).changed).toBe(true);
    expect((await links.restore(dadali, 'break')).changed).toBe(false);
    expect((await links.restore(dadali, 'isolate')).changed).toBe(false);
    expect(reachability.blockedReason('dadali.com')).toBeNull();
  });

  test('restore says when the peer is still unreachable for another reason', async () => {
    const { links } = make();
    await links.cut(dadali, 'break');
    await links.isolate(true);
    expect((await links.restore(dadali, 'break')).how).toBe('dadali.com is still unreachable from here: cut off from the lab backbone by the instructor');
  });

  test('isolate: on, already on, in the view with its since, off', async () => {
    const { reachability, links } = make();
    const on = await links.isolate(true);
    expect(on.changed).toBe(true);
    expect(on.how).toBe('no-Docker lab: the queue of garudayaksa.com treats every remote domain as unreachable; students on this machine still reach its ports');
    expect(await links.isolate(true)).toEqual({ changed: false, how: '' });
    expect((await links.view()).isolated).toEqual({ since: '2025-01-01T10:00:00.000Z', how: on.how });
    expect(reachability.blockedReason('dadali.com')).toBe('cut off from the lab backbone by the instructor');
    expect((await links.isolate(false)).changed).toBe(true);
    expect((await links.isolate(false)).changed).toBe(false);
    expect((await links.view()).isolated).toBeNull();
  });

  test('slow-link (and clearing it) is 400 unsupported with the CLI words; a link to itself is a bad argument', async () => {
    const { links } = make();
    for (const p of [links.slow(dadali, { rate: '64kbit' }), links.unslow(dadali)]) {
      const e = await p.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect(e).toMatchObject({ status: 400, code: 'unsupported', message: SLOW_LINK_NEEDS_DOCKER });
    }
    expect(SLOW_LINK_NEEDS_DOCKER).toMatch(/^slow-link needs the Docker lab/);
    await expect(links.cut(garuda, 'break')).rejects.toMatchObject({ status: 400, code: 'bad-argument', field: 'peer' });
  });
});
