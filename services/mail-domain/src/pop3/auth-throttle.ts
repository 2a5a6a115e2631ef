/** The failed-login throttle moved to `../auth-throttle.ts` (shared by POP3 and IMAP); this path keeps the old imports working. */
export * from '../auth-throttle';
