/**
 * The common errors in Indonesian (scripts/i18n/errors.ts): each error is
 * made by its real source (the lab definition, the lab number, the admin
 * client against a closed port, the admin token's lookup, the check's
 * accounts, the engine choice), so a changed English sentence that the
 * translation no longer knows fails here instead of leaking English into an
 * Indonesian run. English stays exactly as it was.
 */
import { createServer } from 'node:net';
import { loadLabConfig, requireDomain } from '../../../services/core/src/config';
import { parseLabNumber } from '../../../services/core/src/labs';
import { AdminClient } from '../../../services/core/src/admin/client';
import { MAIL_API } from '../../../services/core/src/admin/api';
import { accountStudent } from '../../../services/core/src/check/student';
import { dockerAdminToken } from '../../../scripts/admin-token';
import { chosenEngine, selectLab } from '../../../scripts/lab-select';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { translateErrorText } from '../../../scripts/i18n/errors';

// The lab definition itself (not through the test lab, which needs no server here).
const config = loadLabConfig(join(__dirname, '../../../lab-scenarios/lab.yaml')).config;
/** A lab definition with one mistake. */
const badFile = join(mkdtempSync(join(tmpdir(), 'mail-lab-error-text-')), 'lab.yaml');
writeFileSync(badFile, 'domains: []\n');

/** The message of what `f` throws (sync or async). */
async function thrown(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

/** A port on 127.0.0.1 that nothing listens on (taken, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const cases: [string, () => unknown, RegExp][] = [
  ['unknown domain', () => requireDomain(config, 'yahoo.com'), /^domain "yahoo\.com" tidak dikenal; lab ini punya: garudayaksa\.com, dadali\.com$/],
  ['a lab number that is not one', () => parseLabNumber('tiga'), /^--lab harus nomor lab dari 0 sampai 90 \(bukan "tiga"\)$/],
  ['a lab number too high', () => parseLabNumber('99', 'MAIL_LAB_LAB'), /^MAIL_LAB_LAB harus nomor lab dari 0 sampai 90 \(bukan 99\): satu host menampung paling banyak 90 lab bernomor$/],
  ['an unknown engine', () => chosenEngine({ engine: 'nomad' }), /^--engine harus compose atau swarm \(bukan "nomad"\)$/],
  ['a broken lab definition', () => selectLab({ config: badFile }, () => undefined), /: \d+ masalah; tidak ada yang dijalankan$/],
  ['an unknown account', () => accountStudent(config, 4, 'budi'), /^tidak ada akun "budi" di lab 4: akunnya mbrain, .* \(di garudayaksa\.com dan dadali\.com\); sebutkan pengguna \(siswa1\) atau alamat \(siswa1@dadali\.com\)$/],
  [
    'a Docker lab that is not there',
    () => dockerAdminToken(async () => ({ code: 1, output: 'Error: No such container: mail-lab-41-dns' }), ['mail-lab-41-dns'], 41),
    /^lab 41 tidak berjalan: tidak ada satu pun kontainernya \(jalankan: `npx mail-lab up --lab 41`\)$/,
  ],
  [
    'a token that cannot be read',
    () => dockerAdminToken(async () => ({ code: 1, output: 'cat: permission denied' }), ['mail-lab-41-dns'], 41),
    /^token admin lab tidak dapat dibaca \(apakah lab sudah berjalan\? `npx mail-lab status --lab 41`\): mail-lab-41-dns: cat: permission denied$/,
  ],
];

const saved = process.env.MAIL_LAB_ADMIN_TOKEN;
beforeAll(() => delete process.env.MAIL_LAB_ADMIN_TOKEN);
afterAll(() => {
  if (saved !== undefined) process.env.MAIL_LAB_ADMIN_TOKEN = saved;
});

test.each(cases)('%s: Indonesian under id, unchanged under en', async (_, make, indonesian) => {
  const english = await thrown(make);
  expect(translateErrorText(english, 'en')).toBe(english);
  expect(translateErrorText(english, 'id')).toMatch(indonesian);
});

test('the admin API of a lab that is down, also inside a longer line', async () => {
  const port = await closedPort();
  const english = await thrown(() => new AdminClient({ who: 'dadali.com', port, token: 'x' }).call(MAIL_API.queue));
  expect(english).toMatch(/^cannot reach the admin API of dadali\.com/);
  expect(translateErrorText(`lab 3 does not answer (${english})`, 'id')).toBe(
    `lab 3 does not answer (API admin dadali.com di 127.0.0.1:${port} tidak dapat dihubungi (ECONNREFUSED); apakah lab sudah berjalan? (\`npx mail-lab status\`))`,
  );
  const dns = await thrown(() => new AdminClient({ who: 'the lab DNS', port, token: 'x' }).call(MAIL_API.queue));
  expect(translateErrorText(dns, 'id')).toMatch(/^API admin DNS lab di 127\.0\.0\.1:\d+ tidak dapat dihubungi/);
});

test('a sentence it does not know stays as it is', () => {
  expect(translateErrorText('something nobody wrote before', 'id')).toBe('something nobody wrote before');
});
