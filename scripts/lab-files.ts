/**
 * Where the host keeps what belongs to one lab (issue 11: many labs on one
 * host): `.lab-data/labs/NN/` holds lab N's rendered compose file and
 * resolv.conf, the host's copy of its admin token, and, for a no-Docker lab
 * N ≥ 1, its process list and data. Lab 0 keeps the places it always had
 * without Docker (`.lab-data/local.json`, `.lab-data/<domain>/`), which the
 * worksheets name.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { LabConfig } from '../services/core/src/config';
import { labLabel, labProject } from '../services/core/src/labs';
import { renderCompose, renderResolvConf } from './compose/render';
import { repoRoot, type ComposeLab } from './lab-docker';

/** `.lab-data/labs/NN`. */
export const labDir = (n: number) => join(repoRoot(), '.lab-data', 'labs', labLabel(n));

/** The no-Docker lab's data root: `.lab-data` for lab 0, `.lab-data/labs/NN` otherwise. */
export const localDataRoot = (n: number) => (n === 0 ? join(repoRoot(), '.lab-data') : labDir(n));

/** The lab definition as the compose file names it: relative to the repository root when inside it. */
export function composeConfigPath(file: string): string {
  const abs = resolve(file);
  const rel = relative(repoRoot(), abs);
  return rel.startsWith('..') || isAbsolute(rel) ? abs : `./${rel}`;
}

/**
 * Renders lab N's compose file (and its resolv.conf) into `.lab-data/labs/NN/`
 * and returns it for compose. Lab 0 of the shipped definition uses the
 * committed docker/resolv.conf (docker-compose.yml names it).
 */
export function prepareComposeLab(config: LabConfig, n: number, configFile: string): ComposeLab {
  const dir = labDir(n);
  mkdirSync(dir, { recursive: true });
  const shippedResolv = join(repoRoot(), 'docker', 'resolv.conf');
  const resolvText = renderResolvConf(config, n);
  let resolvConf: string;
  if (n === 0 && readFileSync(shippedResolv, 'utf8') === resolvText) resolvConf = './docker/resolv.conf';
  else {
    writeFileSync(join(dir, 'resolv.conf'), resolvText);
    resolvConf = composeConfigPath(join(dir, 'resolv.conf'));
  }
  const file = join(dir, 'compose.yml');
  writeFileSync(file, renderCompose(config, n, { configPath: composeConfigPath(configFile), resolvConf }));
  return { project: labProject(n), file };
}
