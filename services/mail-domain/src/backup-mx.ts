/**
 * This server as a backup MX (lab.yaml `relayDomains`, Postfix's
 * relay_domains): port 25 accepts mail for another lab domain listed there,
 * without a login, but only for recipients that domain has (its accounts,
 * generated student accounts and aliases in the lab definition, as Postfix's
 * relay_recipient_maps), so nothing is accepted that would come back as a
 * bounce. The queue then passes it on to that domain's better MX hosts,
 * never to itself (queue/outbound.ts, RFC 5321 5.1). Read from the running
 * lab on every RCPT, so a reload takes effect at once.
 */
import { studentAccounts, type LabConfig } from '../../core/src/config';

export interface BackupMx {
  /** Does this server accept mail for `domain` as its backup MX? */
  accepts(domain: string): boolean;
  /** Is `local`@`domain` a recipient that domain has? */
  knows(domain: string, local: string): boolean;
}

export function backupMx(lab: () => LabConfig, self: string): BackupMx {
  return {
    accepts: (domain) => {
      const me = lab().domains.find((d) => d.name === self);
      return !!me?.relayDomains?.includes(domain.toLowerCase());
    },
    knows: (domain, local) => {
      const d = lab().domains.find((x) => x.name === domain.toLowerCase());
      if (!d) return false;
      const name = local.toLowerCase();
      return d.accounts.some((a) => a.user === name) || studentAccounts(d).some((s) => s.user === name) || Object.hasOwn(d.aliases, name);
    },
  };
}
