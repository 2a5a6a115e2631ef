/**
 * The instructor's login: the `instructor:` of the lab definition (user,
 * name, scrypt passwordHash or, for experiments, password), checked with
 * services/core/src/password.ts. A wrong user name costs the same scrypt as
 * a wrong password, so the time of the answer does not say which was wrong.
 */
import { timingSafeEqual } from 'node:crypto';
import type { InstructorConfig } from '../../../core/src/config';
import { verifyPassword } from '../../../core/src/password';

/** A hash of a password nobody has, checked when the user name is wrong (same cost as a real check). */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The instructor's name when user and password are right, else null. */
export async function checkInstructor(instructor: InstructorConfig | undefined, user: string, password: string): Promise<{ user: string; name: string } | null> {
  const wanted = instructor?.user ?? '';
  const userOk = !!instructor && sameText(user.trim().toLowerCase(), wanted);
  let passwordOk: boolean;
  if (instructor && userOk && instructor.password !== undefined) passwordOk = sameText(password, instructor.password);
  else passwordOk = await verifyPassword(password, instructor && userOk && instructor.passwordHash ? instructor.passwordHash : DUMMY_HASH);
  if (!instructor || !userOk || !passwordOk) return null;
  return { user: instructor.user, name: instructor.name ?? instructor.user };
}
