/**
 * Opening an IMAP session with imapflow (cleartext, as in the lab), with its
 * errors turned into the client's sentences, and closing it politely.
 */
import { ImapFlow } from 'imapflow';
import { ClientError, loginFailed, messageOf, networkError } from './errors';
import { imapflowLogger } from './transcript';
import type { Endpoint } from './endpoint';

/** The library's error as a client error for this endpoint. */
export function imapError(e: unknown, ep: Endpoint): ClientError {
  const net = networkError(e, ep);
  if (net) return net;
  const x = e as { authenticationFailed?: boolean; responseText?: string; serverResponseCode?: string };
  if (x?.authenticationFailed || x?.serverResponseCode === 'AUTHENTICATIONFAILED') return loginFailed(ep.user);
  const said = x?.responseText ? ` (the server said: ${x.responseText})` : '';
  return new ClientError(`IMAP ${ep.host}:${ep.port}: ${messageOf(e)}${said}`);
}

/** Connects and logs in; the caller must call `closeImap`. */
export async function openImap(ep: Endpoint, address: string): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: address,
    port: ep.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: ep.user, pass: ep.password },
    logger: imapflowLogger(ep.transcript),
    disableAutoIdle: true,
    connectionTimeout: ep.timeoutMs,
    greetingTimeout: ep.timeoutMs,
    socketTimeout: ep.timeoutMs,
  });
  // Errors also arrive as events; without a listener they would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    client.close();
    throw imapError(e, ep);
  }
  return client;
}

export async function closeImap(client: ImapFlow): Promise<void> {
  await client.logout().catch(() => client.close());
}

/** Runs `work` in a logged-in session, mapping library errors. */
export async function withImap<T>(ep: Endpoint, address: string, work: (c: ImapFlow) => Promise<T>): Promise<T> {
  const client = await openImap(ep, address);
  try {
    return await work(client);
  } catch (e) {
    throw e instanceof ClientError ? e : imapError(e, ep);
  } finally {
    await closeImap(client);
  }
}
