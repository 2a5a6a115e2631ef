/**
 * `npx mail-lab ca [--out file]`: the lab CA certificate (PEM), the one
 * certificate a student's mail program has to trust for STARTTLS and the
 * implicit-TLS ports. The mail servers make it on first start: in Docker
 * mode it lives in the `lab-ca` volume (read here from a running mail or
 * client container with `docker exec cat`), in no-Docker mode in
 * `.lab-data/ca/ca.crt`. The PEM goes to standard output (or `--out`); the
 * fingerprint and how to trust it in Thunderbird go to standard error, so
 * `npx mail-lab ca > mail-lab-ca.crt` gives a clean file.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CommandHelpers } from './helpers';
import { localDataRoot } from '../lab-files';
import type { LabTarget } from '../lab-target';

/** Where the CA certificate is in the containers (the `lab-ca` volume). */
export const CONTAINER_CA_FILE = '/var/mail-lab-ca/ca.crt';
/** Where the no-Docker lab keeps it. */
export const localCaFile = (n = 0) => join(localDataRoot(n), 'ca', 'ca.crt');

export const THUNDERBIRD_HINT =
  'Thunderbird: Settings > Privacy & Security > Certificates > Manage Certificates > Authorities > Import, pick the saved file, tick "Trust this CA to identify websites".';

export type CaCommandHelpers = CommandHelpers;

const PEM = /-----BEGIN CERTIFICATE-----[^]*?-----END CERTIFICATE-----\n?/;

/** The lab CA certificate of the running lab, and where it was read. */
export async function readLabCa(target: LabTarget): Promise<{ pem: string; from: string }> {
  const local = localCaFile(target.lab);
  if (target.mode === 'local') {
    if (!existsSync(local)) throw new Error(`no lab CA in ${local} yet: the mail servers make it when they start (\`npx mail-lab up --local\`)`);
    return { pem: readFileSync(local, 'utf8'), from: local };
  }
  const tried: string[] = [];
  const containers = [...target.config.domains.map((d) => target.container(d.name)), target.container('client')];
  for (const container of containers) {
    try {
      const r = await target.exec!(container, ['cat', CONTAINER_CA_FILE]);
      const m = PEM.exec(r.output);
      if (r.code === 0 && m) return { pem: m[0].endsWith('\n') ? m[0] : m[0] + '\n', from: `${container}:${CONTAINER_CA_FILE} (volume lab-ca)` };
      tried.push(`${container}: ${r.output.trim().split('\n')[0] || `exit status ${r.code}`}`);
    } catch (e) {
      tried.push(`${container}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // No container answers, but a no-Docker lab left its CA behind.
  if (existsSync(local)) return { pem: readFileSync(local, 'utf8'), from: `${local} (no container answered)` };
  throw new Error(`cannot read the lab CA (is the lab up? \`npx mail-lab status\`): ${tried.join('; ')}`);
}

export function registerCaCommand(program: Command, h: CaCommandHelpers): void {
  program
    .command('ca')
    .description('print the lab CA certificate (PEM) that mail programs must trust for TLS, and how to trust it')
    .option('--out <file>', 'write the PEM to a file instead of standard output')
    .action(async (opts: { out?: string }) => {
      let ca: { pem: string; from: string };
      try {
        ca = await readLabCa(h.target());
      } catch (e) {
        throw new h.UsageError((e as Error).message);
      }
      const cert = new X509Certificate(ca.pem);
      if (opts.out) writeFileSync(opts.out, ca.pem);
      else process.stdout.write(ca.pem);
      const note = (line: string) => process.stderr.write(`# ${line}\n`);
      note(`${cert.subject.replace(/\n/g, ', ')}, valid until ${cert.validTo}, SHA-256 ${cert.fingerprint256} (from ${ca.from})`);
      if (opts.out) note(`written to ${opts.out}`);
      note(`${THUNDERBIRD_HINT}${opts.out ? '' : ' (save it first: npx mail-lab ca --out mail-lab-ca.crt)'}`);
    });
}
