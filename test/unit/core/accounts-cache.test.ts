/**
 * The login cache of the account directory: a successful login is
 * remembered (no second scrypt check), a wrong password is always checked
 * the slow way and refused, and the memory ends after its time.
 * With the real scrypt hashes of lab.yaml.
 */
import { readFileSync } from 'node:fs';
import { parseLabConfig } from '../../../services/core/src/config';
import { verifyPassword } from '../../../services/core/src/password';
import { createAccountDirectory } from '../../../services/mail-domain/src/accounts';
import { LAB_YAML } from '../helpers/test-lab';

const { config } = parseLabConfig(readFileSync(LAB_YAML, 'utf8'), LAB_YAML);
const domain = config.domains.find((d) => d.name === 'garudayaksa.com')!;

function directory(cacheMs?: number) {
  let t = 1_000_000;
  const calls: string[] = [];
  const dir = createAccountDirectory(domain, {
    cacheMs,
    now: () => t,
    verifyHash: (password, stored) => {
      calls.push(password);
      return verifyPassword(password, stored);
    },
  });
  return { dir, calls, advance: (ms: number) => (t += ms) };
}

test('the second good login is not checked with scrypt again; a wrong one always is, and is refused', async () => {
  const { dir, calls } = directory();
  expect(await dir.verify('mbrain', 'rahasia123')).toBe('mbrain');
  expect(await dir.verify('MBrain@garudayaksa.com', 'rahasia123')).toBe('mbrain');
  expect(calls).toEqual(['rahasia123']);
  expect(await dir.verify('mbrain', 'rahasia124')).toBeNull();
  expect(await dir.verify('mbrain', 'rahasia124')).toBeNull();
  expect(calls).toEqual(['rahasia123', 'rahasia124', 'rahasia124']);
  // Another account's password is not this account's.
  expect(await dir.verify('siswa1', 'rahasia123')).toBe('siswa1');
  expect(calls).toHaveLength(4);
});

test('remembered for its time only; cacheMs 0 remembers nothing', async () => {
  const { dir, calls, advance } = directory(60_000);
  await dir.verify('siswa2', 'rahasia123');
  advance(59_000);
  await dir.verify('siswa2', 'rahasia123');
  expect(calls).toHaveLength(1);
  advance(2_000);
  expect(await dir.verify('siswa2', 'rahasia123')).toBe('siswa2');
  expect(calls).toHaveLength(2);

  const none = directory(0);
  await none.dir.verify('siswa2', 'rahasia123');
  await none.dir.verify('siswa2', 'rahasia123');
  expect(none.calls).toHaveLength(2);
});
