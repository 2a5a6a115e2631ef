/**
 * `up`'s wait for the lab (scripts/readiness.ts waitForLab): a lab whose
 * container keeps failing ends the wait with the reason in words, and the
 * question "is a container failing?" (two docker CLI starts in `up`) is asked
 * about once a second, not at every 100 ms probe round, where it took CPU
 * from the containers that were starting (issue 15 §0).
 */
import { join } from 'node:path';
import { loadLabConfig } from '../../../services/core/src/config';
import { LabNotReadyError, waitForLab } from '../../../scripts/readiness';
import { freePort } from '../helpers/test-lab';

/** lab.yaml with every host port moved to a free loopback port that nothing listens on. */
async function silentLab() {
  const config = loadLabConfig(join(__dirname, '../../../lab-scenarios/lab.yaml')).config;
  config.dns = { ...config.dns, hostPort: await freePort(), adminPort: await freePort() };
  for (const d of config.domains) {
    const ports: Record<string, number> = {};
    for (const key of Object.keys(d.ports)) ports[key] = await freePort();
    d.ports = ports as typeof d.ports;
  }
  return config;
}

test('a failing container ends the wait with its reason; docker is asked about once a second', async () => {
  const config = await silentLab();
  const asked: number[] = [];
  const start = Date.now();
  const broken = async () => {
    asked.push(Date.now() - start);
    return asked.length === 2 ? 'mail-lab-dadali is restarting again and again' : null;
  };
  const logged: string[] = [];
  const err = await waitForLab(config, 20_000, (l) => logged.push(l), broken).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LabNotReadyError);
  expect((err as Error).message).toBe('mail-lab-dadali is restarting again and again');
  // Two questions: the first after a second of waiting, the next a second later (not 100 ms).
  expect(asked).toHaveLength(2);
  expect(asked[0]).toBeGreaterThanOrEqual(1000);
  expect(asked[1] - asked[0]).toBeGreaterThanOrEqual(1000);
  // The wait said what it was waiting for, once.
  expect(logged.filter((l) => l.includes('waiting for:'))).toHaveLength(1);
  expect(logged[0]).toContain('dadali.com smtp');
}, 30_000);

test('with nothing failing, the wait ends at its timeout naming every service that never answered', async () => {
  const config = await silentLab();
  let asked = 0;
  const err = await waitForLab(config, 2500, () => undefined, async () => {
    asked++;
    return null;
  }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LabNotReadyError);
  expect((err as Error).message).toMatch(/^these services did not answer within 3 s: dns \(127\.0\.0\.1:\d+: ECONNREFUSED\); garudayaksa\.com smtp/);
  expect((err as Error).message).toContain('dadali.com admin');
  expect(asked).toBeGreaterThanOrEqual(1);
  expect(asked).toBeLessThanOrEqual(3);
}, 30_000);
