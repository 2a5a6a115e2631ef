/**
 * `npx mail-lab admin-token`: prints the running lab's admin token alone on
 * a line, for an instructor who calls the admin API with curl
 * (`curl -H "Authorization: Bearer $(npx mail-lab admin-token)" 127.0.0.1:10080/queue`).
 * Where it is kept: scripts/admin-token.ts.
 */
import type { Command } from 'commander';
import type { CommandHelpers } from './helpers';

import { DNS_API } from '../../services/core/src/admin/api';

export type AdminTokenCommandHelpers = CommandHelpers;

export function registerAdminTokenCommand(program: Command, h: AdminTokenCommandHelpers): void {
  program
    .command('admin-token')
    .description("print the lab's admin token (every admin API call but /health needs it as `Authorization: Bearer <token>`)")
    .action(async () => {
      try {
        const target = h.target();
        // One call that needs the token: a copy kept from an earlier lab is replaced by the right one.
        await target.dns().call(DNS_API.faults);
        h.out(await target.token());
      } catch (e) {
        throw new h.UsageError((e as Error).message);
      }
    });
}
