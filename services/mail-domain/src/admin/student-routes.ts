/**
 * The generated student accounts on a mail domain's admin API (students.ts):
 * `POST /students/passwords` hands out the passwords not printed yet (and
 * forgets them), or with `{ renew: true }` makes new ones for every student
 * account; the account directory takes the new hashes at once.
 */
import { MAIL_API } from '../../../core/src/admin/api';
import type { AdminRouter } from '../../../core/src/admin/router';
import type { AccountDirectory } from '../accounts';
import type { StudentPasswords } from '../students';

export function studentRoutes(router: AdminRouter, o: { domain: string; students: StudentPasswords; accounts: AccountDirectory }): void {
  router.on(MAIL_API.studentPasswords, async ({ renew }) => {
    const list = await o.students.handOut(renew, (user, hash) => o.accounts.setPasswordHash(user, hash));
    return { accounts: list.map((s) => ({ address: `${s.user}@${o.domain}`, name: s.name, password: s.password })) };
  });
}
