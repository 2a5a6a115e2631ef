/**
 * The lab's two secrets on Kubernetes, made on the host when the lab is
 * rendered (or deployed), not in the cluster:
 *
 *   lab-admin  `token`: the admin token (services/core/src/admin/token.ts).
 *              Compose shares it through the volume `lab-admin`, which the
 *              first service to start fills. Pods of a lab may run on
 *              different nodes, and a volume every pod can write needs a
 *              ReadWriteMany storage class that most small clusters lack;
 *              making it in the cluster would need a pod allowed to create
 *              Secrets (RBAC) in a namespace students reach. So the CLI
 *              makes it and the DNS and mail pods mount it read-only at
 *              /var/mail-lab-admin/token, where the services look for it
 *              (an existing token is read, never replaced).
 *   lab-ca     `ca.crt`, `ca.key`: the lab CA, made by the same code the mail
 *              servers use (services/mail-domain/src/tls/pki.ts), so the lab
 *              has one CA that both domains sign with and a student trusts
 *              once. Each mail pod's init container copies it into the pod's
 *              CA volume, where the server then makes its own host
 *              certificate as it does in Compose; the client pod mounts
 *              `ca.crt` alone.
 *
 * Both are made once: `render k8s` keeps the secrets file it wrote before
 * (0600, beside the manifests, never in them), and `up --engine k8s` creates
 * a Secret only when the cluster has none, so a running lab's token and CA
 * do not change under it.
 */
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import { newAdminToken, parseAdminToken } from '../../services/core/src/admin/token';
import { ensureLabCa } from '../../services/mail-domain/src/tls/pki';
import { labLabels } from './labels';
import type { K8sLab } from './lab';

export const ADMIN_SECRET = 'lab-admin';
export const CA_SECRET = 'lab-ca';

export interface LabSecrets {
  token: string;
  caCert: string;
  caKey: string;
}

/** A new token and a new lab CA. */
export async function makeLabSecrets(): Promise<LabSecrets> {
  const dir = mkdtempSync(join(tmpdir(), 'mail-lab-ca-'));
  try {
    const ca = await ensureLabCa(dir);
    return { token: newAdminToken(), caCert: ca.certPem, caKey: ca.keyPem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The two Secret objects of a lab. */
export function secretObjects(lab: Pick<K8sLab, 'n' | 'namespace'>, s: LabSecrets): ISecret[] {
  const meta = (name: string) => ({ name, namespace: lab.namespace, labels: labLabels(lab) });
  return [
    { apiVersion: 'v1', kind: 'Secret', metadata: meta(ADMIN_SECRET), type: 'Opaque', stringData: { token: s.token } },
    { apiVersion: 'v1', kind: 'Secret', metadata: meta(CA_SECRET), type: 'Opaque', stringData: { 'ca.crt': s.caCert, 'ca.key': s.caKey } },
  ];
}

/** A Secret's value, from `stringData` or base64 `data` (as the API returns it). */
export function secretValue(secret: { data?: Record<string, string>; stringData?: Record<string, string> } | undefined, key: string): string | undefined {
  if (!secret) return undefined;
  if (secret.stringData?.[key] !== undefined) return secret.stringData[key];
  const b64 = secret.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
}

/** The secrets back from the two Secret objects (a secrets file or the cluster); undefined when one is missing or wrong. */
export function secretsFromObjects(objects: { metadata?: { name?: string }; data?: Record<string, string>; stringData?: Record<string, string> }[]): LabSecrets | undefined {
  const admin = objects.find((o) => o.metadata?.name === ADMIN_SECRET);
  const ca = objects.find((o) => o.metadata?.name === CA_SECRET);
  const token = parseAdminToken(secretValue(admin, 'token') ?? '');
  const caCert = secretValue(ca, 'ca.crt');
  const caKey = secretValue(ca, 'ca.key');
  if (!token || !caCert?.includes('BEGIN CERTIFICATE') || !caKey?.includes('PRIVATE KEY')) return undefined;
  return { token, caCert, caKey };
}

/** Reads a file if it is there. */
export function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
