/**
 * Numbered labs from one lab definition (issue 11): lab N's addresses and
 * host ports (services/core/src/labs.ts), and its compose file rendered from
 * the definition (scripts/compose/render.ts). The committed
 * docker-compose.yml must be exactly what the renderer makes for lab 0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadLabConfig } from '../../../services/core/src/config';
import { deriveLab, labHostPorts, labProject, labSubnet, parseLabNumber } from '../../../services/core/src/labs';
import { renderCompose, renderResolvConf } from '../../../scripts/compose/render';

const root = join(__dirname, '../../..');
const base = loadLabConfig(join(root, 'lab-scenarios/lab.yaml')).config;

test('the committed docker-compose.yml and docker/resolv.conf are lab 0 as the renderer makes it', () => {
  expect(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).toBe(renderCompose(base, 0, { configPath: './lab-scenarios/lab.yaml', resolvConf: './docker/resolv.conf' }));
  expect(readFileSync(join(root, 'docker/resolv.conf'), 'utf8')).toBe(renderResolvConf(base, 0));
});

test('lab 0 is the contract: project mail-lab, 172.29.25.0/24, the ports of lab.yaml', () => {
  expect(labProject(0)).toBe('mail-lab');
  expect(deriveLab(base, 0)).toBe(base);
  expect(labSubnet(base, 0)).toBe('172.29.25.0/24');
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'));
  expect(compose.services['mail-dadali'].ports).toContain('${MAIL_LAB_BIND:-127.0.0.1}:20025:25');
  expect(compose.services['mail-dadali'].ports).toContain('127.0.0.1:20080:8080');
  expect(compose.services['mail-dadali'].container_name).toBe('mail-lab-dadali');
  expect(compose.networks.backbone.ipam.config[0].subnet).toBe('172.29.25.0/24');
  // No exec health checks: 30 labs would spend the CPU on them.
  for (const s of Object.values(compose.services) as Record<string, unknown>[]) expect(s.healthcheck).toBeUndefined();
});

test('lab 3: every host port + 300, the backbone 172.29.103.0/24, names and project of its own', () => {
  const lab = deriveLab(base, 3);
  const g = lab.domains.find((d) => d.name === 'garudayaksa.com')!;
  const d = lab.domains.find((x) => x.name === 'dadali.com')!;
  expect(g.ports).toEqual({ smtp: 10325, submission: 10887, pop3: 10410, imap: 10443, admin: 10380, smtps: 10765, imaps: 11293, pop3s: 11295 });
  expect(d.ports.smtp).toBe(20325);
  expect([lab.dns.hostPort, lab.dns.adminPort]).toEqual([10353, 10354]);
  expect([lab.dns.address, g.address, d.address, lab.client?.address]).toEqual(['172.29.103.53', '172.29.103.10', '172.29.103.20', '172.29.103.100']);
  expect(g.records.find((r) => r.type === 'A')?.value).toBe('172.29.103.10');
  const compose = parse(renderCompose(base, 3, { configPath: './lab-scenarios/lab.yaml', resolvConf: './.lab-data/labs/03/resolv.conf' }));
  expect(compose.services.dns.container_name).toBe('mail-lab-03-dns');
  expect(compose.services['mail-dadali'].networks.backbone.ipv4_address).toBe('172.29.103.20');
  expect(compose.services['mail-garudayaksa'].ports).toContain('127.0.0.1:10380:8080');
  expect(compose['x-app-env'].MAIL_LAB_LAB).toBe('3');
  expect(compose.networks.backbone.ipam.config[0].subnet).toBe('172.29.103.0/24');
  expect(renderResolvConf(base, 3)).toContain('nameserver 172.29.103.53\n');
});

test('every pair of labs uses different host ports and networks', () => {
  const seen = new Map<number, number>();
  for (let n = 0; n <= 90; n++) {
    for (const { port } of labHostPorts(deriveLab(base, n))) {
      expect(seen.get(port)).toBeUndefined();
      seen.set(port, n);
    }
  }
  expect(new Set(Array.from({ length: 91 }, (_, n) => labSubnet(base, n))).size).toBe(91);
});

test('--lab outside 0-90 or not a number is refused with the reason', () => {
  expect(parseLabNumber('7')).toBe(7);
  expect(parseLabNumber(undefined)).toBe(0);
  expect(() => parseLabNumber('91')).toThrow('--lab must be a lab number from 0 to 90 (got 91)');
  expect(() => parseLabNumber('-1')).toThrow('--lab must be a lab number from 0 to 90 (got "-1")');
  expect(() => parseLabNumber('tiga')).toThrow('--lab must be a lab number from 0 to 90 (got "tiga")');
  expect(() => parseLabNumber('3.5', 'MAIL_LAB_LAB')).toThrow('MAIL_LAB_LAB must be a lab number');
});
