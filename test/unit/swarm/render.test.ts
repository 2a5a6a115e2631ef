/**
 * The stack file of a lab on Docker Swarm (scripts/swarm/render.ts): what
 * `docker stack deploy` gets for lab N. The container suite deploys it for
 * real (test/containers/swarm.test.ts); here its shape is checked.
 */
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadLabConfig } from '../../../services/core/src/config';
import { deriveLab } from '../../../services/core/src/labs';
import { renderStack, stackName, swarmServiceName } from '../../../scripts/swarm/render';
import { chosenEngine, LabSelectionError } from '../../../scripts/lab-select';

const base = loadLabConfig(join(__dirname, '../../../lab-scenarios/lab.yaml')).config;
const opts = { configFile: '/x/lab.yaml', configText: 'a', entryFile: '/x/entry.sh', entryText: 'b', tokenFile: '/x/token', token: 'T'.repeat(43), caCertFile: '/x/ca.crt', caCertText: 'c', caKeyFile: '/x/ca.key' };

test('lab 63 as a stack: the services, host-mode ports, the overlay with the lab subnet, no compose-only keys', () => {
  const text = renderStack(base, 63, opts);
  const stack = parse(text, { merge: true, version: '1.1' });
  const lab = deriveLab(base, 63);
  expect(stackName(63)).toBe('mail-lab-63');
  expect(swarmServiceName(63, 'dns')).toBe('mail-lab-63_dns');
  expect(Object.keys(stack.services).sort()).toEqual(['client', 'dns', 'mail-dadali', 'mail-garudayaksa']);
  for (const [name, s] of Object.entries<Record<string, unknown>>(stack.services)) {
    for (const key of ['container_name', 'build', 'depends_on', 'restart']) expect([name, key, s[key]]).toEqual([name, key, undefined]);
    expect((s.deploy as { endpoint_mode: string }).endpoint_mode).toBe('dnsrr');
    expect((s.environment as Record<string, string>).MAIL_LAB_DISCOVERY).toBe('swarm');
    expect((s.environment as Record<string, string>).MAIL_LAB_LAB).toBe('63');
    // The image's compose labels are blanked, so no compose lookup takes a task for its own container.
    expect((s.labels as Record<string, string>)['com.docker.compose.project']).toBe('');
  }
  expect(text).not.toMatch(/ipv4_address/);
  const dadali = stack.services['mail-dadali'];
  expect(dadali.ports).toContainEqual({ target: 25, published: lab.domains[1].ports.smtp, protocol: 'tcp', mode: 'host' });
  expect(dadali.ports).toContainEqual({ target: 8080, published: lab.domains[1].ports.admin, protocol: 'tcp', mode: 'host' });
  expect(dadali.ports.every((p: { mode: string }) => p.mode === 'host')).toBe(true);
  expect(dadali.cap_drop).toEqual(['ALL']);
  expect(dadali.cap_add).toContain('NET_ADMIN');
  expect(dadali.environment.MAIL_LAB_KEEP_CAPS).toBe('+net_admin');
  expect(stack.services.client.environment.MAIL_LAB_KEEP_CAPS).toBe('');
  expect(stack.services.client.cap_add).not.toContain('NET_ADMIN');
  expect(stack.services.dns.user).toBe('mail-lab');
  expect(stack.services.dns.ports).toContainEqual({ target: 53, published: lab.dns.hostPort, protocol: 'udp', mode: 'host' });
  expect(stack.networks.backbone).toEqual({ driver: 'overlay', ipam: { config: [{ subnet: '172.29.163.0/24' }] } });
  expect(Object.keys(stack.volumes).sort()).toEqual(['dadali-data', 'garudayaksa-data', 'lab-ca']);
  // One lab CA on every node: its certificate a config, its key a secret (mail services only).
  expect(stack.services.client.configs).toContainEqual({ source: 'ca-crt', target: '/var/mail-lab-ca/ca.crt', mode: 0o444 });
  expect(stack.services.client.secrets).toBeUndefined();
  expect(dadali.secrets).toContainEqual({ source: 'ca-key', target: 'mail-lab-ca-key', uid: '999', gid: '999', mode: 0o400 });
  expect(stack.secrets['ca-key'].file).toBe('/x/ca.key');
  expect(stack.secrets['admin-token'].file).toBe('/x/token');
  expect(stack.secrets['admin-token'].name).toMatch(/^mail-lab-63-admin-token-[0-9a-f]{12}$/);
  expect(stack.services.dns.secrets[0]).toMatchObject({ source: 'admin-token', target: 'mail-lab-admin-token', mode: 0o400 });
  expect(stack.configs['lab-yaml']).toMatchObject({ file: '/x/lab.yaml' });
  // The token is not in the file, only the path of the file that holds it.
  expect(text).not.toContain(opts.token);
});

test('MAIL_LAB_SWARM_PUBLISH=ingress: the routing mesh, with virtual IPs', () => {
  const stack = parse(renderStack(base, 63, { ...opts, publish: 'ingress' }), { merge: true, version: '1.1' });
  expect(stack.services['mail-dadali'].ports.every((p: { mode: string }) => p.mode === 'ingress')).toBe(true);
  expect(stack.services.dns.deploy.endpoint_mode).toBe('vip');
  expect(parse(renderStack(base, 63, opts), { merge: true, version: '1.1' }).services.dns.deploy.endpoint_mode).toBe('dnsrr');
});

test('MAIL_LAB_SWARM_PLACEMENT: constraints per service, none by default', () => {
  const stack = parse(renderStack(base, 63, { ...opts, placement: { 'mail-dadali': ['node.hostname==node2'] } }), { merge: true, version: '1.1' });
  expect(stack.services['mail-dadali'].deploy.placement).toEqual({ constraints: ['node.hostname==node2'] });
  expect(stack.services.dns.deploy.placement).toBeUndefined();
});

test('config and secret names follow their content (a swarm config cannot change)', () => {
  const a = parse(renderStack(base, 63, opts), { merge: true, version: '1.1' });
  const b = parse(renderStack(base, 63, { ...opts, configText: 'changed' }), { merge: true, version: '1.1' });
  expect(a.configs['lab-yaml'].name).not.toBe(b.configs['lab-yaml'].name);
  expect(a.configs.entry.name).toBe(b.configs.entry.name);
});

test('--engine and MAIL_LAB_ENGINE: compose by default, swarm, anything else said', () => {
  const saved = process.env.MAIL_LAB_ENGINE;
  try {
    delete process.env.MAIL_LAB_ENGINE;
    expect(chosenEngine({})).toBe('compose');
    expect(chosenEngine({ engine: 'swarm' })).toBe('swarm');
    process.env.MAIL_LAB_ENGINE = 'swarm';
    expect(chosenEngine({})).toBe('swarm');
    expect(() => chosenEngine({ engine: 'nomad' })).toThrow(LabSelectionError);
    expect(() => chosenEngine({ engine: 'nomad' })).toThrow(/--engine must be compose or swarm \(got "nomad"\)/);
  } finally {
    if (saved === undefined) delete process.env.MAIL_LAB_ENGINE;
    else process.env.MAIL_LAB_ENGINE = saved;
  }
});
