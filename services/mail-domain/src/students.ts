/**
 * The generated student accounts of a domain (`students:` in the lab
 * definition: siswa01 … siswa30), for a class that shares one lab. Each
 * gets its own password, made by the server on its first start: only the
 * hash stays in the domain's data (`students.json`, mode 0600), beside the
 * password in the clear until the cards are printed once
 * (`POST /students/passwords` hands it out and forgets it); asked again,
 * the answer says it was printed, or makes new passwords when asked to.
 */
import { randomInt } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { studentAccounts, type AccountConfig, type DomainConfig } from '../../core/src/config';
import { replaceDurable } from '../../core/src/durable-file';
import type { Logger } from '../../core/src/logger';
import { hashPassword } from '../../core/src/password';

interface Stored {
  user: string;
  passwordHash: string;
  /** In the clear until the cards were printed. */
  initialPassword?: string;
}

/** Letters and digits a student cannot misread (no 0/o, 1/l/i). */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const newStudentPassword = () => Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

export class StudentPasswords {
  private stored: Stored[] = [];
  private readonly file: string;

  constructor(private d: DomainConfig, dataDir: string, private readonly log: Logger) {
    this.file = join(dataDir, 'students.json');
  }

  /** A reloaded definition's `students:` (`npx mail-lab reload`); `init` then makes the passwords of new accounts. */
  setDomain(d: DomainConfig): void {
    this.d = d;
  }

  /** Reads the stored hashes and makes a password for every generated account that has none yet. */
  async init(): Promise<void> {
    try {
      this.stored = (JSON.parse(await readFile(this.file, 'utf8')) as { accounts: Stored[] }).accounts ?? [];
    } catch {
      this.stored = [];
    }
    const wanted = studentAccounts(this.d);
    const missing = wanted.filter((s) => !this.stored.some((x) => x.user === s.user));
    for (const s of missing) {
      const password = newStudentPassword();
      this.stored.push({ user: s.user, passwordHash: await hashPassword(password), initialPassword: password });
    }
    this.stored = this.stored.filter((x) => wanted.some((s) => s.user === x.user));
    if (missing.length) {
      await this.save();
      this.log.info(`made passwords for ${missing.length} student account(s) (${missing[0].user} …); \`npx mail-lab class cards --shared\` prints them once`);
    }
  }

  /** The generated accounts with their hashes, as accounts of the lab definition. */
  accounts(): AccountConfig[] {
    return studentAccounts(this.d).map((s) => ({ user: s.user, name: s.name, passwordHash: this.stored.find((x) => x.user === s.user)!.passwordHash }));
  }

  /**
   * The passwords for the cards: those not printed yet (then forgotten), or,
   * with `renew`, new ones for every account (the old ones stop working).
   */
  async handOut(renew: boolean, onChange: (user: string, hash: string) => void): Promise<{ user: string; name: string; password: string | null }[]> {
    if (renew) {
      for (const x of this.stored) {
        const password = newStudentPassword();
        x.passwordHash = await hashPassword(password);
        x.initialPassword = password;
        onChange(x.user, x.passwordHash);
      }
    }
    const out = studentAccounts(this.d).map((s) => ({ user: s.user, name: s.name, password: this.stored.find((x) => x.user === s.user)?.initialPassword ?? null }));
    for (const x of this.stored) delete x.initialPassword;
    await this.save();
    return out;
  }

  private async save(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await replaceDurable(this.file, JSON.stringify({ accounts: this.stored }, null, 1), { mode: 0o600 });
  }
}
