/** The TLS part of the lab definition: `tls.requireTls` and the implicit-TLS ports smtps/imaps/pop3s. */
import { readFileSync } from 'node:fs';
import { LabConfigError, parseLabConfig } from '../../../services/core/src/config';
import { LAB_YAML } from '../helpers/test-lab';

const text = readFileSync(LAB_YAML, 'utf8');

const problems = (yaml: string) => {
  try {
    parseLabConfig(yaml, 'lab.yaml');
  } catch (e) {
    if (e instanceof LabConfigError) return e.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
    throw e;
  }
  return [];
};

test('requireTls is read from lab.yaml and is false when the tls section is left out', () => {
  expect(parseLabConfig(text.replace('requireTls: false', 'requireTls: true'), 'lab.yaml').config.tls.requireTls).toBe(true);
  const without = text.replace(/^tls:\n {2}requireTls: false.*\n/m, '');
  expect(without).not.toMatch(/^tls:/m);
  expect(parseLabConfig(without, 'lab.yaml').config.tls).toEqual({ requireTls: false });
});

test('a bad requireTls or a TLS port used twice is reported with its place', () => {
  const bad = problems(text.replace('requireTls: false', 'requireTls: maybe'));
  expect(bad).toEqual([expect.stringMatching(/^\d+: tls\.requireTls: .*boolean/i)]);
  const twice = problems(text.replace('smtps: 10465', 'smtps: 10025'));
  expect(twice).toEqual([expect.stringMatching(/^\d+: domains\[0\]\.ports\.smtps: port 10025 is already used by domains\[0\]\.ports\.smtp$/)]);
});

test('the implicit-TLS ports are optional (a lab without them listens on none)', () => {
  const without = text.replace(/, smtps: \d+, imaps: \d+, pop3s: \d+/g, '');
  const { config } = parseLabConfig(without, 'lab.yaml');
  expect(config.domains.map((d) => d.ports.smtps ?? null)).toEqual([null, null]);
});
