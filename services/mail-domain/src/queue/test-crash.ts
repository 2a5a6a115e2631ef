/**
 * Test-only crash points (never set in a lab): with MAIL_LAB_TEST_CRASH set
 * to `name`, the process kills itself with SIGKILL there, so a test can
 * prove what a crash at that exact moment does. `after-remote-250`: the
 * remote server accepted a message (250 to DATA) and the queue has not yet
 * recorded it (the redelivery the receiver recognises: dedupe.ts).
 */
export function testCrashPoint(name: 'after-remote-250'): void {
  if (process.env.MAIL_LAB_TEST_CRASH === name) process.kill(process.pid, 'SIGKILL');
}
