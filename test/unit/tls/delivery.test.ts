/**
 * Server to server: the sending queue uses STARTTLS when the receiving
 * server offers it and verifies the certificate against the lab CA; the
 * receiving hop's Received header says ESMTPS (RFC 3848) and the sender's
 * attempt record says TLS. A server with a certificate from another CA gets
 * nothing (deferred, never plain text); a server without STARTTLS gets the
 * message in plain text, and the attempt says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createLogger } from '../../../services/core/src/logger';
import { deliverRemote } from '../../../services/mail-domain/src/queue/outbound';
import type { LabResolver } from '../../../services/mail-domain/src/resolver';
import { ensureHostCertificate } from '../../../services/mail-domain/src/tls/pki';
import { startTestLab, type TestLab } from '../helpers/test-lab';
import { D, G, submit, waitForMessage } from './helpers';

describe('cross-domain delivery in a lab with TLS', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab({ tls: true });
  }, 30_000);
  afterAll(() => lab.close());

  test('garudayaksa.com -> dadali.com over STARTTLS: ESMTPS at the receiving hop, TLS in the attempt', async () => {
    const id = await submit(lab, `mbrain@${G}`, [`jpri@${D}`], 'Rapat lewat TLS');
    const msg = await waitForMessage(lab, D, 'jpri', 'Rapat lewat TLS');
    const received = msg.match(/^Received: [^]*?(?=\r\n\S)/gm)!;
    expect(received).toHaveLength(2);
    expect(received[0]).toMatch(/^Received: from mail\.garudayaksa\.com \(localhost \[127\.0\.0\.1\]\)\r\n\tby mail\.dadali\.com \(mail-lab\) with ESMTPS id \w+\r\n\tfor <jpri@dadali\.com>/);
    // The student's own submission was plain text with AUTH.
    expect(received[1]).toMatch(new RegExp(`by mail\\.garudayaksa\\.com \\(mail-lab\\) with ESMTPA id ${id}`));

    const sent = lab.domains[G].queue.finished(id)!;
    const attempt = sent.history.find((h) => h.result === 'delivered')!;
    expect(attempt.tls).toMatch(/^TLSv1\.[23] \S+/);
    expect(attempt.transcript).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^C: STARTTLS$/),
        expect.stringMatching(/^S: 220 .*Ready to start TLS/),
        expect.stringMatching(/^TLS: TLSv1\.[23] .*; the certificate of mail\.dadali\.com verified against the lab CA$/),
      ]),
    );
  });
});

describe('deliverRemote against servers outside the lab CA', () => {
  let dir: string;
  let labCa: string;
  let stranger: { key: string; cert: string };
  const servers: SMTPServer[] = [];
  const resolver: LabResolver = {
    resolveMx: async () => [{ exchange: 'mail.dadali.com', priority: 10 }],
    resolve4: async () => ['127.0.0.1'],
    reverse: async () => [],
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mail-lab-tls-out-'));
    labCa = (await ensureHostCertificate({ dir: join(dir, 'lab'), host: 'mail.garudayaksa.com' })).caPem;
    // A certificate with the right name, from a CA the lab does not know.
    const other = await ensureHostCertificate({ dir: join(dir, 'other'), host: 'mail.dadali.com' });
    stranger = { key: other.keyPem, cert: other.certPem };
  });
  afterAll(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function receiver(options: ConstructorParameters<typeof SMTPServer>[0]): Promise<number> {
    const s = new SMTPServer({ ...options, authOptional: true, logger: false, onData: (stream, _session, cb) => stream.on('end', () => cb()).resume() });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return (s.server.address() as AddressInfo).port;
  }

  const deliver = (port: number) =>
    deliverRemote({
      domain: 'dadali.com',
      from: 'mbrain@garudayaksa.com',
      recipients: ['jpri@dadali.com'],
      message: Buffer.from('Subject: x\r\n\r\nhalo\r\n'),
      resolver,
      portFor: () => port,
      heloName: 'mail.garudayaksa.com',
      connectTimeout: 2000,
      commandTimeout: 5000,
      logger: createLogger({ level: 'error', write: () => undefined }),
      tls: { ca: labCa },
    });

  test('a certificate the lab CA did not sign: deferred, the message is not sent in plain text instead', async () => {
    const port = await receiver({ key: stranger.key, cert: stranger.cert });
    const r = await deliver(port);
    expect(r.outcomes[0]).toMatchObject({ result: 'deferred' });
    expect(r.outcomes[0].detail).toMatch(/^mail\.dadali\.com\[127\.0\.0\.1\]:\d+: TLS failed: .*certificate.* \(the certificate of mail\.dadali\.com must be signed by the lab CA and name mail\.dadali\.com\); nothing was sent$/);
    expect(r.transcript.some((l) => /^C: MAIL FROM/.test(l))).toBe(false);
  });

  test('no STARTTLS offered: delivered in plain text, and the attempt says so', async () => {
    const port = await receiver({ disabledCommands: ['STARTTLS'], hideSTARTTLS: true });
    const r = await deliver(port);
    expect(r.outcomes[0]).toMatchObject({ result: 'delivered' });
    expect(r.tls).toBe('none');
    expect(r.transcript).toContain('TLS: none (mail.dadali.com did not offer STARTTLS): the message goes in plain text');
  });
});
