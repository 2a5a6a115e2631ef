/**
 * The pieces of reload that need no running lab: what a new definition
 * changes and what needs a restart (core/src/reload/plan.ts), a reloaded
 * definition kept for a restart until the file changes (reload/saved.ts),
 * the backup MX's checks in the definition, the MX hosts a server leaves
 * out when it is one of them (RFC 5321 5.1), and the self-check's edits of
 * lab.yaml (scripts/reload/edit.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabConfig, LabConfigError } from '../../../services/core/src/config';
import { deriveLab } from '../../../services/core/src/labs';
import { planReload, withReloadable } from '../../../services/core/src/reload/plan';
import { saveDefinition, startDefinition } from '../../../services/core/src/reload/saved';
import { withoutSelf } from '../../../services/mail-domain/src/queue/outbound';
import { addToDefinition } from '../../../scripts/reload/edit';
import { accountLine, labYaml, withAccount } from './helpers';

const lab = (text = labYaml()) => parseLabConfig(text, 'lab.yaml').config;

test('a plan says each change in words, and a restart when one is needed', () => {
  const before = lab();
  const after = lab(
    withAccount(labYaml(), accountLine('siswa6', 'Siswa 6'))
      .replace('{ user: siswa5, name: "Siswa 5"', '{ user: siswa5, name: "Siswa Lima"')
      .replace('      staff: [mbrain, siswa1]\n', '      staff: [mbrain, siswa2]\n')
      .replace('      - { name: www, type: A, value: 172.29.25.10 }\n', '      - { name: www, type: A, value: 172.29.25.10 }\n      - { name: intranet, type: A, value: 172.29.25.11 }\n')
      .replace('profile: classroom', 'profile: demo'),
  );
  const plan = planReload(before, after);
  expect(plan).toEqual({
    changes: [
      'garudayaksa.com: account siswa6 added',
      'garudayaksa.com: account siswa5 changed (name or password)',
      'garudayaksa.com: alias staff now mbrain, siswa2',
      'garudayaksa.com: DNS record intranet A 172.29.25.11 added',
      'queue profile classroom -> demo',
    ],
    needsRestart: [],
    accounts: [
      { domain: 'garudayaksa.com', added: ['siswa6'], removed: [], changed: ['siswa5'] },
      { domain: 'dadali.com', added: [], removed: [], changed: [] },
    ],
  });
  const restart = planReload(before, lab(labYaml().replace('smtp: 20025', 'smtp: 20026').replace('address: 172.29.25.20', 'address: 172.29.25.21').replace('  vrfy: true', '  vrfy: false')));
  expect(restart.needsRestart).toEqual([
    'dadali.com: address 172.29.25.20 -> 172.29.25.21: Docker publishes ports and gives addresses when it creates the containers (a no-Docker lab listens where it started)',
    'dadali.com: port smtp 20025 -> 20026: Docker publishes ports and gives addresses when it creates the containers (a no-Docker lab listens where it started)',
    'smtp.vrfy: the SMTP, POP3 and IMAP servers take it when they start',
  ]);
  // Lab 7 of both: the same plan, in lab 7's addresses.
  expect(planReload(deriveLab(before, 7), deriveLab(after, 7))).toMatchObject({ changes: plan.changes.map((c) => c.replace('172.29.25.11', '172.29.107.11')), needsRestart: [] });
});

test('withReloadable takes only the reloadable parts; what runs keeps its places', () => {
  const running = { ...lab(), domains: lab().domains.map((d) => ({ ...d, address: '10.0.0.99' })) };
  const next = lab(withAccount(labYaml(), accountLine('siswa6', 'Siswa 6')));
  const taken = withReloadable(running, next);
  expect(taken.domains[0].address).toBe('10.0.0.99');
  expect(taken.domains[0].accounts.map((a) => a.user)).toContain('siswa6');
});

test('a reloaded definition is used at start while the file is as it was; once the file changes, the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mail-lab-saved-'));
  try {
    const saved = join(dir, 'reloaded-lab.json');
    expect(startDefinition('v1', 'lab.yaml', saved)).toEqual({ text: 'v1', file: 'lab.yaml' });
    await saveDefinition(saved, { baseText: 'v1', text: 'v2', file: 'other.yaml', now: new Date('2026-11-26T08:00:00Z') });
    expect(startDefinition('v1', 'lab.yaml', saved)).toEqual({ text: 'v2', file: 'other.yaml', note: 'using the definition reloaded at 2026-11-26T08:00:00.000Z from other.yaml (`npx mail-lab reload`); lab.yaml is unchanged since' });
    expect(startDefinition('v3', 'lab.yaml', saved)).toEqual({ text: 'v3', file: 'lab.yaml', note: 'lab.yaml changed after the reload of 2026-11-26T08:00:00.000Z: using it (it is newer)' });
    writeFileSync(saved, '{ not json');
    expect(startDefinition('v1', 'lab.yaml', saved).text).toBe('v1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('relayDomains: only other lab domains; each half of a backup MX without the other is warned about', () => {
  expect(() => lab(labYaml().replace('  - name: dadali.com\n', '  - name: dadali.com\n    relayDomains: [dadali.com, example.org]\n'))).toThrow(LabConfigError);
  try {
    lab(labYaml().replace('  - name: dadali.com\n', '  - name: dadali.com\n    relayDomains: [dadali.com, example.org]\n'));
  } catch (e) {
    expect((e as LabConfigError).problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`)).toEqual([
      'domains[1].relayDomains[0]: dadali.com is this domain itself: its own mail is delivered here anyway',
      'domains[1].relayDomains[1]: "example.org" is not a domain of this lab (a backup MX here relays only for lab domains: garudayaksa.com, dadali.com)',
    ]);
  }
  const { warnings } = parseLabConfig(labYaml().replace('  - name: dadali.com\n', '  - name: dadali.com\n    relayDomains: [garudayaksa.com]\n'), 'lab.yaml');
  expect(warnings.map((w) => w.message)).toEqual(['dadali.com accepts mail for garudayaksa.com as a backup MX, but no MX record of garudayaksa.com names mail.dadali.com, so no sender will come here: add `{ host: mail.dadali.com, preference: 20 }` to the mx of garudayaksa.com']);
});

test('RFC 5321 5.1: a server that is one of the MX hosts leaves out itself and every less preferred one', () => {
  const mx = [
    { exchange: 'mail.garudayaksa.com', priority: 10 },
    { exchange: 'mail.dadali.com', priority: 20 },
    { exchange: 'mx3.dadali.com', priority: 30 },
  ];
  expect(withoutSelf(mx, ['mail.dadali.com'])).toEqual({ hosts: [mx[0]], self: mx[1] });
  expect(withoutSelf(mx, ['MAIL.GARUDAYAKSA.COM.'])).toEqual({ hosts: [], self: mx[0] });
  expect(withoutSelf(mx, ['mail.example.org'])).toEqual({ hosts: mx });
  expect(withoutSelf([{ exchange: 'a.test', priority: 10 }, { exchange: 'b.test', priority: 10 }], ['b.test'])).toEqual({ hosts: [], self: { exchange: 'b.test', priority: 10 } });
});

test('the self-check adds to lab.yaml what is missing, keeping the rest of the text', () => {
  const add = {
    'garudayaksa.com': { accounts: [{ user: 'siswa6', name: 'Siswa 6', password: 'rahasia123' }], aliases: { tu: ['mbrain', 'siswa6'] }, mx: [{ host: 'mail.dadali.com', preference: 20 }] },
    'dadali.com': { relayDomains: ['garudayaksa.com'] },
  };
  const text = addToDefinition(labYaml(), add);
  expect(text).toContain('# mail-lab: the lab definition.');
  expect(text).toContain('      - { user: siswa6, name: Siswa 6, password: rahasia123 }\n');
  const after = lab(text);
  const g = after.domains[0];
  expect(g.mx).toEqual([{ host: 'mail.garudayaksa.com', preference: 10 }, { host: 'mail.dadali.com', preference: 20 }]);
  expect(g.aliases.tu).toEqual(['mbrain', 'siswa6']);
  expect(after.domains[1].relayDomains).toEqual(['garudayaksa.com']);
  // Again: nothing doubled.
  expect(addToDefinition(text, add)).toBe(text);
});
