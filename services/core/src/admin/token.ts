/**
 * The lab's admin token: a random secret that every admin route but
 * `GET /health` requires (`Authorization: Bearer <token>`, router.ts).
 * Made at the first start of a lab by whichever service starts first, kept
 * in the lab's data with mode 0600, and read by the CLI
 * (`npx mail-lab admin-token` prints it).
 *
 * Docker: the file `token` in the volume `lab-admin`, mounted at
 * /var/mail-lab-admin in the DNS and mail containers (not in the client
 * container: a student's shell there cannot read it). No-Docker:
 * `.lab-data/admin-token`. Several services may start at once: the token is
 * written to a temp file and hard-linked into place, so exactly one wins
 * and the others read the winner's.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';

/** 32 random bytes, URL-safe base64 (43 characters). */
export const newAdminToken = () => randomBytes(32).toString('base64url');

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,200}$/;

/** The token in `file`, made there (0600) when there is none. */
export async function ensureAdminToken(file: string): Promise<string> {
  const existing = await readAdminToken(file);
  if (existing) return existing;
  await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.token.${process.pid}.${randomBytes(4).toString('hex')}`);
  await fs.writeFile(tmp, newAdminToken() + '\n', { mode: 0o600 });
  try {
    await fs.link(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
  const token = await readAdminToken(file);
  if (!token) throw new Error(`${file} holds no admin token (a token is ${TOKEN_SHAPE.source}); delete it and start again`);
  return token;
}

/** The token in `file`, or null when there is no such file. Throws for a file that holds something else. */
export async function readAdminToken(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const token = text.trim();
  if (!TOKEN_SHAPE.test(token)) throw new Error(`${file} does not hold an admin token; delete it and restart the lab to make a new one`);
  return token;
}

/** Parses a token given as text (e.g. printed by `docker exec … cat`). */
export function parseAdminToken(text: string): string | null {
  const token = text.trim();
  return TOKEN_SHAPE.test(token) ? token : null;
}
