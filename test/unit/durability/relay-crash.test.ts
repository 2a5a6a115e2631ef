/**
 * End to end (issue 5, "after 250"): garudayaksa.com relays a message to
 * dadali.com, gets dadali's 250, and is killed (SIGKILL) before its queue
 * records the delivery: the test-only crash point MAIL_LAB_TEST_CRASH=
 * after-remote-250 (queue/test-crash.ts). Restarted without it, garudayaksa
 * still owes the message and sends it again, as RFC 5321 6.1 says it must.
 * dadali recognises the relayed copy it already accepted and answers 250
 * without queuing it: jpri@dadali.com has exactly one copy, and both
 * queues end empty. Two real mail-domain processes, the lab DNS in this
 * process, swaks as the user's mail client; nothing but loopback.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLabConfig } from '../../../services/core/src/config';
import { createLogger } from '../../../services/core/src/logger';
import { startDnsServer, type StartedDnsServer } from '../../../services/dns/src/server';
import { eventually, LAB_YAML } from '../helpers/test-lab';
import { buildMailDomain, freeDomainPorts, killAllChildren, removeDir, startChildDomain, tempDir, writeLabYaml } from './child-domain';

jest.setTimeout(90_000);

let build: string;
let dir: string;
let dns: StartedDnsServer | undefined;

beforeAll(() => {
  build = buildMailDomain();
  dir = tempDir('mail-lab-relay-crash-');
});
afterAll(async () => {
  await killAllChildren();
  await dns?.close();
  removeDir(build);
  removeDir(dir);
});

function swaks(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('swaks', args, { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }));
  });
}

/** Messages with this subject in an mbox file, read without the store. */
function copiesIn(mbox: string, subject: string): number {
  if (!existsSync(mbox)) return 0;
  return readFileSync(mbox, 'latin1').split('\n').filter((l) => l === `Subject: ${subject}`).length;
}

/** The spool's message files (queue/spool.ts: `<id>.msg`, the envelope as it arrived on its first line). */
const spooled = (data: string) => (existsSync(join(data, 'queue')) ? readdirSync(join(data, 'queue')).filter((f) => f.endsWith('.msg')) : []);

test('the sender killed after the remote 250 sends again after its restart; the recipient gets exactly one copy', async () => {
  const { config } = parseLabConfig(readFileSync(LAB_YAML, 'utf8'), LAB_YAML);
  dns = await startDnsServer({ config, mode: 'local', host: '127.0.0.1', port: 0, logger: createLogger({ level: 'warn', write: () => undefined }) });
  const ports = { 'garudayaksa.com': await freeDomainPorts(), 'dadali.com': await freeDomainPorts() };
  const labYaml = join(dir, 'lab.yaml');
  writeLabYaml(labYaml, ports, dns.port, '{ retryInterval: 1s, warnAfter: 1h, returnAfter: 2h, connectTimeout: 2s, commandTimeout: 10s }');
  const data = { sender: join(dir, 'garudayaksa'), receiver: join(dir, 'dadali') };
  const receiver = await startChildDomain({ build, labYaml, domain: 'dadali.com', dataDir: data.receiver });
  const crashing = await startChildDomain({ build, labYaml, domain: 'garudayaksa.com', dataDir: data.sender, env: { MAIL_LAB_TEST_CRASH: 'after-remote-250' } });

  const subject = `Sekali saja ${Date.now()}`;
  const sent = await swaks([
    '--server', `127.0.0.1:${ports['garudayaksa.com'].submission}`,
    '--auth', 'PLAIN', '--auth-user', 'mbrain', '--auth-password', 'rahasia123',
    '--from', 'mbrain@garudayaksa.com', '--to', 'jpri@dadali.com',
    '--header', `Subject: ${subject}`, '--body', 'Rapat besok jam 9.',
  ]); // prettier-ignore
  expect(sent.out).toMatch(/<- {2}250 2\.6\.0 Ok: queued as \S+/);
  const senderId = /queued as (\S+)/.exec(sent.out)![1];

  // The sender dies by its own SIGKILL right after dadali's 250.
  await crashing.exited;
  expect(crashing.child.signalCode).toBe('SIGKILL');
  expect(receiver.output()).toMatch(/queued as|"queued \S+"/);
  // Its queue still owes the message (the 250 was never recorded)...
  expect(spooled(data.sender)).toEqual([`${senderId}.msg`]);
  // No attempt finished, so no state was written beside it: the arrival's envelope line is the state.
  expect(existsSync(join(data.sender, 'queue', `${senderId}.json`))).toBe(false);
  const entry = JSON.parse(readFileSync(join(data.sender, 'queue', `${senderId}.msg`), 'utf8').split('\n')[0]) as { recipients: { status: string }[] };
  expect(entry.recipients.map((r) => r.status)).toEqual(['pending']);
  // ...while dadali already delivered it.
  const mbox = join(data.receiver, 'mail', 'jpri');
  await eventually('dadali delivered the first copy', () => copiesIn(mbox, subject) === 1, 15_000);

  // Restarted without the crash point: the queue sends the message again, dadali answers 250 as a duplicate.
  const sender = await startChildDomain({ build, labYaml, domain: 'garudayaksa.com', dataDir: data.sender });
  await eventually('the sender recorded the delivery and emptied its queue', () => spooled(data.sender).length === 0, 20_000);
  expect(sender.output()).toMatch(new RegExp(`recovered ${senderId} from the spool`));
  expect(sender.output()).toMatch(new RegExp(`delivered ${senderId} to jpri@dadali.com[^\\n]*duplicate of`));
  expect(receiver.output()).toMatch(/duplicate of \S+: relayed message \S+ was accepted before for jpri@dadali\.com/);
  await eventually("dadali's queue is empty", () => spooled(data.receiver).length === 0, 10_000);
  expect(copiesIn(mbox, subject)).toBe(1);
  // The duplicate is in dadali's trace too.
  expect(readFileSync(join(data.receiver, 'trace.jsonl'), 'utf8')).toMatch(/S: 250 2\.6\.0 Ok: duplicate of /);
  await sender.kill();
  await receiver.kill();
});
