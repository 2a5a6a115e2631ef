/**
 * `npx mail-lab render k8s [--labs N | --lab N] [--out DIR]`: the manifests
 * of labs 1…N (or of the one lab) as files, for `kubectl apply -f DIR` or
 * for reading. Per lab:
 *
 *   lab-NN.yaml          every object but the Secrets (manifests.ts)
 *   lab-NN-secrets.yaml  the Secrets (admin token, lab CA; secrets.ts), mode
 *                        0600; kept when it is already there, so rendering
 *                        again does not change a lab's token or CA. It has
 *                        the Namespace too, so the two files can be applied
 *                        in either order (`kubectl apply -f DIR` takes this
 *                        one first)
 *
 * The default DIR is `.lab-data/k8s/` (which git ignores).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { labLabel } from '../../services/core/src/labs';
import { repoRoot } from '../lab-docker';
import { k8sLab, type K8sLab, type K8sOptions } from './lab';
import { labObjects, toYaml } from './manifests';
import { makeLabSecrets, readIfThere, secretObjects, secretsFromObjects, type LabSecrets } from './secrets';

export const defaultK8sDir = () => join(repoRoot(), '.lab-data', 'k8s');

/** A file as the header names it: relative to the repository when inside it. */
function displayPath(file: string): string {
  const rel = relative(repoRoot(), resolve(file));
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

export interface RenderedLab {
  lab: K8sLab;
  manifest: string;
  secretsFile: string;
  /** Whether the secrets file was made now (false: the one there was kept). */
  newSecrets: boolean;
}

/** The header of a lab's manifest: what it is and how its students reach it. */
export function manifestHeader(lab: K8sLab, file: string): string {
  const entries = [{ what: 'lab DNS (UDP and TCP)', nodePort: lab.dns.nodePorts[0].nodePort }, ...lab.mail.flatMap((h) => h.nodePorts)];
  const ports = entries.map((p) => `#   ${p.what.padEnd(28)} node port ${p.nodePort}`);
  return (
    `# mail-lab, lab ${lab.n} on Kubernetes: namespace ${lab.namespace}, backbone ${lab.subnet} (fixed ClusterIPs).\n` +
    `# RENDERED from ${file} by \`npx mail-lab render k8s\`: do not edit by hand. The Secrets (admin token,\n` +
    `# lab CA) are in lab-${labLabel(lab.n)}-secrets.yaml beside this file; apply both (kubectl apply -f <this directory>),\n` +
    `# or let the CLI do it: npx mail-lab up --engine k8s --lab ${lab.n}\n` +
    `# Students reach the lab on the node that runs each pod (externalTrafficPolicy Local):\n` +
    ports.join('\n') +
    `\n# The admin APIs have no node port: kubectl -n ${lab.namespace} port-forward svc/${lab.mail[0].name} ${lab.config.domains[0].ports.admin}:8080\n`
  );
}

/** The secrets in a secrets file (undefined when there is none or it is not one of ours). */
export function secretsOfFile(file: string): LabSecrets | undefined {
  const text = readIfThere(file);
  if (text === undefined) return undefined;
  return secretsFromObjects(parseAllDocuments(text).map((d) => d.toJSON() as never).filter(Boolean));
}

/** Renders lab N of the definition text into `dir`. */
export async function renderK8sLab(text: string, file: string, n: number, dir: string, options: Partial<K8sOptions> = {}): Promise<RenderedLab> {
  const lab = k8sLab(text, file, n, options);
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, `lab-${labLabel(n)}.yaml`);
  const secretsFile = join(dir, `lab-${labLabel(n)}-secrets.yaml`);
  let secrets = secretsOfFile(secretsFile);
  const newSecrets = !secrets;
  if (!secrets) {
    secrets = await makeLabSecrets();
    writeFileSync(secretsFile, toYaml([labObjects(lab)[0], ...secretObjects(lab, secrets)], `# mail-lab lab ${n}: the admin token and the lab CA (with its private key). Keep this file private (0600).\n`), { mode: 0o600 });
    chmodSync(secretsFile, 0o600);
  }
  writeFileSync(manifest, toYaml(labObjects(lab), manifestHeader(lab, displayPath(file))));
  return { lab, manifest, secretsFile, newSecrets };
}
