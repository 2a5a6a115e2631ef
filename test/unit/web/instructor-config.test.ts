/** The instructor login of the lab definition (`instructor:` in lab.yaml), read by `mail-lab web`. */
import { readFileSync } from 'node:fs';
import { formatProblem, LabConfigError, parseLabConfig } from '../../../services/core/src/config';
import { verifyPassword } from '../../../services/core/src/password';
import { LAB_YAML } from '../helpers/test-lab';

const text = readFileSync(LAB_YAML, 'utf8');

test('the shipped lab definition has the instructor guru with the lab password, as a scrypt hash', async () => {
  const { config, warnings } = parseLabConfig(text, 'lab.yaml');
  expect(warnings).toEqual([]);
  expect(config.instructor).toMatchObject({ user: 'guru', name: 'Guru' });
  expect(config.instructor?.password).toBeUndefined();
  expect(await verifyPassword('rahasia123', config.instructor!.passwordHash!)).toBe(true);
  expect(await verifyPassword('rahasia124', config.instructor!.passwordHash!)).toBe(false);
});

test('the instructor is optional; a plain password is a warning; both or neither is an error', () => {
  const without = text.replace(/^instructor: .*$/m, '');
  expect(parseLabConfig(without, 'lab.yaml').config.instructor).toBeUndefined();
  const plain = text.replace(/^instructor: .*$/m, 'instructor: { user: Guru, password: "rahasia123" }');
  const { config, warnings } = parseLabConfig(plain, 'lab.yaml');
  expect(config.instructor).toEqual({ user: 'guru', password: 'rahasia123' });
  expect(warnings.map(formatProblem)).toEqual([expect.stringMatching(/warning: instructor\.password: plain-text password/)]);
  for (const bad of ['instructor: { user: guru }', 'instructor: { user: guru, password: a, passwordHash: "scrypt$1$8$1$AA==$AA==" }', 'instructor: { user: "gu ru", password: a }', 'instructor: { user: guru, password: a, role: admin }']) {
    expect(() => parseLabConfig(text.replace(/^instructor: .*$/m, bad), 'lab.yaml')).toThrow(LabConfigError);
  }
});
