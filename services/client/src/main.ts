/**
 * Entry point of `mail-lab-client` (the wrapper in the image runs
 * `node /app/dist/services/client/src/main.js`). It only hands argv, the
 * environment and the standard streams to cli.ts and exits with its status.
 *
 * Environment: MAIL_LAB_PASSWORD, MAIL_LAB_HOME_DOMAIN (completes bare user
 * names), MAIL_LAB_SERVER, MAIL_LAB_SUBMISSION_PORT, MAIL_LAB_POP3_PORT,
 * MAIL_LAB_IMAP_PORT, MAIL_LAB_TIMEOUT (seconds), MAIL_LAB_DNS (host:port of
 * a DNS server to resolve names with, e.g. the lab DNS from the host),
 * MAIL_LAB_CLIENT_DIR (this computer's copy of the mail and the outbox;
 * default ~/.mail-lab-client).
 */
import { run } from './cli';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// A library failing late, after the command has its answer, still ends in one line, not a stack trace.
process.on('unhandledRejection', (e) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

run(process.argv.slice(2), {
  env: process.env,
  out: (data) => void process.stdout.write(data),
  err: (text) => void process.stderr.write(text),
  readStdin,
}).then((code) => {
  process.exitCode = code;
  // Whatever a library left open must not keep a finished command waiting.
  setTimeout(() => process.exit(code), 2000).unref();
});
