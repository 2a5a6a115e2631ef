/**
 * A student's login: their lab account (`user@domain`) in their lab, checked
 * by a real IMAP LOGIN on that domain's IMAP port, so the mail server's own
 * failed-login throttle counts (and slows) web guesses like any other. A
 * domain that is not the lab's fails like a wrong password; only a server
 * that does not answer is said differently (it says nothing of the account).
 */
import type { WebLab } from '../labs';
import { closeStudentImap, openImap } from '../mail-session';

export type StudentCheck =
  | { ok: true; address: string; localPart: string; domain: string; name: string }
  | { ok: false; why: 'credentials' | 'unreachable'; detail?: string };

const ADDRESS = /^([a-z0-9][a-z0-9._+-]{0,63})@([a-z0-9.-]{1,253})$/;

export async function checkStudent(lab: WebLab, account: string, password: string): Promise<StudentCheck> {
  const m = ADDRESS.exec(account.trim().toLowerCase());
  const domain = m && lab.config.domains.find((d) => d.name === m[2]);
  if (!m || !domain || password === '') return { ok: false, why: 'credentials' };
  const address = `${m[1]}@${m[2]}`;
  try {
    const client = await openImap({ port: domain.ports.imap, user: address, password });
    await closeStudentImap(client);
  } catch (e) {
    const x = e as { authenticationFailed?: boolean; serverResponseCode?: string; code?: string; message?: string };
    if (x.authenticationFailed || x.serverResponseCode === 'AUTHENTICATIONFAILED') return { ok: false, why: 'credentials' };
    return { ok: false, why: 'unreachable', detail: x.code ?? x.message };
  }
  const name = domain.accounts.find((a) => a.user === m[1])?.name ?? address;
  return { ok: true, address, localPart: m[1], domain: m[2], name };
}
