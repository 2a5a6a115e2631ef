/**
 * The running lab's admin token, as the CLI finds it (the token itself:
 * services/core/src/admin/token.ts):
 *
 * - MAIL_LAB_ADMIN_TOKEN in the environment, when set (tests, or an
 *   instructor's script that already has it);
 * - no-Docker lab: `.lab-data/admin-token`, made by the first service;
 * - Docker lab: the `lab-admin` volume, read in a lab container that mounts
 *   it, as the container's own user (the owner of the 0600 file), once:
 *   then kept on the host in `.lab-data/labs/NN/docker-admin-token` (0600),
 *   read again from the volume when the lab answers 401 (a new lab, new token).
 *
 * `npx mail-lab admin-token` prints it alone on a line.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAdminToken, readAdminToken } from '../services/core/src/admin/token';
import { CONTAINER_ADMIN_TOKEN_FILE } from '../services/core/src/main-helpers';
import { labDir, localDataRoot } from './lab-files';

/** Where a lab on Docker Swarm has its token: a swarm secret (the same as SWARM_TOKEN_FILE of swarm/render.ts). */
const SWARM_ADMIN_TOKEN_FILE = '/run/secrets/mail-lab-admin-token';

/** The no-Docker lab's token file. */
export const localAdminTokenFile = (n = 0) => join(localDataRoot(n), 'admin-token');
/** The host's copy of a Docker lab's token. */
export const dockerTokenCacheFile = (n = 0) => join(labDir(n), 'docker-admin-token');

/** The Docker lab's token as last read, or null. */
export async function cachedDockerToken(n = 0): Promise<string | null> {
  if (process.env.MAIL_LAB_ADMIN_TOKEN) return process.env.MAIL_LAB_ADMIN_TOKEN;
  return readAdminToken(dockerTokenCacheFile(n)).catch(() => null);
}

/** Keeps the Docker lab's token on the host (0600), so the next command needs no exec. */
export async function rememberDockerToken(token: string, n = 0): Promise<void> {
  const file = dockerTokenCacheFile(n);
  await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await fs.writeFile(file + '.tmp', token + '\n', { mode: 0o600 });
  await fs.rename(file + '.tmp', file);
}

/** Runs a command in a container as its own user; Docker mode only. */
export type ContainerExec = (container: string, cmd: string[]) => Promise<{ code: number; output: string }>;

/** The token of the no-Docker lab, or a message saying why there is none. */
export async function localAdminToken(n = 0): Promise<string> {
  const fromEnv = process.env.MAIL_LAB_ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const file = localAdminTokenFile(n);
  const token = await readAdminToken(file);
  if (!token) throw new Error(`no admin token in ${file}: the lab's services make it when they start (\`npx mail-lab up --local\`)`);
  return token;
}

/** The lab is not there at all: said plainly, with the command that starts it. */
export class LabNotRunningError extends Error {
  override readonly name = 'LabNotRunningError';
}

/** The token of the Docker lab, read in the first of `containers` that has it. */
export async function dockerAdminToken(exec: ContainerExec, containers: string[], n = 0): Promise<string> {
  const fromEnv = process.env.MAIL_LAB_ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const tried: string[] = [];
  for (const c of containers) {
    try {
      // The lab-admin volume (compose), else the swarm secret (a lab on Docker Swarm, swarm/render.ts).
      let r = await exec(c, ['cat', CONTAINER_ADMIN_TOKEN_FILE]);
      if (r.code !== 0) r = await exec(c, ['cat', SWARM_ADMIN_TOKEN_FILE]).then((s) => (s.code === 0 ? s : r));
      const token = r.code === 0 ? parseAdminToken(r.output) : null;
      if (token) return token;
      tried.push(`${c}: ${r.output.trim().split('\n')[0] || `exit status ${r.code}`}`);
    } catch (e) {
      tried.push(`${c}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (tried.every((t) => /no such container/i.test(t))) throw new LabNotRunningError(`lab ${n} is not running: none of its containers exists (start it: \`npx mail-lab up${n ? ` --lab ${n}` : ''}\`)`);
  throw new Error(`cannot read the lab's admin token (is the lab up? \`npx mail-lab status${n ? ` --lab ${n}` : ''}\`): ${tried.join('; ')}`);
}
