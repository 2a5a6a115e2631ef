/**
 * No mail is lost across reloads under load (issue 13): while four senders
 * deliver a bounded number of messages (local on port 25, and from
 * garudayaksa.com to dadali.com through submission and the queue), the lab
 * takes six reloads in turn (an account added and removed, a second MX added
 * and removed). Every message must arrive exactly once. Speed is measured by
 * the bench (bench/reload), not here.
 */
import nodemailer from 'nodemailer';
import { reloadLab } from '../../../scripts/reload/reload';
import { startTestLab, eventually, type TestLab } from '../helpers/test-lab';
import { accountLine, labYaml, ports, subjects, withAccount } from './helpers';

let lab: TestLab;
beforeAll(async () => {
  lab = await startTestLab();
}, 60_000);
afterAll(() => lab?.close());

const SENDERS = 4;
const PER_SENDER = 40;

async function sender(n: number): Promise<void> {
  const local = nodemailer.createTransport({ host: '127.0.0.1', port: ports(lab, 'garudayaksa.com').smtp, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 });
  const remote = nodemailer.createTransport({ host: '127.0.0.1', port: ports(lab, 'garudayaksa.com').submission, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, auth: { user: 'mbrain@garudayaksa.com', pass: 'rahasia123' } });
  try {
    for (let i = 0; i < PER_SENDER; i++) {
      if (i % 2) await remote.sendMail({ from: 'mbrain@garudayaksa.com', to: 'jpri@dadali.com', subject: `load ${n}-${i}`, text: 'x\n' });
      else await local.sendMail({ from: 'jpri@dadali.com', to: 'siswa1@garudayaksa.com', subject: `load ${n}-${i}`, text: 'x\n' });
    }
  } finally {
    local.close();
    remote.close();
  }
}

test(`${SENDERS * PER_SENDER} messages under six reloads: every one delivered exactly once`, async () => {
  const plain = labYaml();
  const versions = [withAccount(plain, accountLine('siswa6', 'Siswa 6')), plain.replace('      - { host: mail.dadali.com, preference: 10 }\n', '      - { host: mail.dadali.com, preference: 10 }\n      - { host: mail.garudayaksa.com, preference: 20 }\n').replace(/(  - name: garudayaksa\.com\n)/, '$1    relayDomains: [dadali.com]\n'), plain];
  const sending = Promise.all(Array.from({ length: SENDERS }, (_, n) => sender(n)));
  for (let r = 0; r < 6; r++) {
    await new Promise((res) => setTimeout(res, 150));
    const out = await reloadLab(0, () => lab.target(), versions[r % versions.length], 'lab.yaml');
    expect([out.exit, out.lines.filter((l) => / error: /.test(l))]).toEqual([0, []]);
    expect(out.changes.length).toBeGreaterThan(0);
  }
  await sending;
  const want = (parity: number) => Array.from({ length: SENDERS }, (_, n) => Array.from({ length: PER_SENDER }, (_, i) => i).filter((i) => i % 2 === parity).map((i) => `load ${n}-${i}`)).flat().sort();
  const got = async (domain: string, user: string) => (await subjects(lab, domain, user)).filter((s) => s.startsWith('load ')).sort();
  await eventually('every message delivered', async () => (await got('garudayaksa.com', 'siswa1')).length >= want(0).length && (await got('dadali.com', 'jpri')).length >= want(1).length, 30_000);
  await new Promise((res) => setTimeout(res, 500)); // a duplicate would come right behind
  expect(await got('garudayaksa.com', 'siswa1')).toEqual(want(0));
  expect(await got('dadali.com', 'jpri')).toEqual(want(1));
}, 120_000);
