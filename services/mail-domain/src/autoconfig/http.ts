/**
 * The mail domain's public HTTP side for mail programs: the autoconfig file
 * (services/core/src/autoconfig.ts) at the two places Thunderbird looks,
 *
 *   GET /mail/config-v1.1.xml?emailaddress=<address>            (host autoconfig.<domain>)
 *   GET /.well-known/autoconfig/mail/config-v1.1.xml            (host <domain>)
 *
 * and nothing else. It has two doors:
 * - in front of the admin API (admin/server.ts): the only routes there that
 *   need no token besides GET /health; every other path, known or not, still
 *   goes to the admin router and its token check. This door is published on
 *   the host's loopback, so it answers with the host view: the address the
 *   program used (127.0.0.1, localhost) and the lab's host ports.
 * - in the Docker lab, port 80 of the mail host ({@link createAutoconfigServer}),
 *   where `autoconfig.<domain>` of the lab DNS points, as at a real provider;
 *   it answers with the lab-network view (mail.<domain>, standard ports) and
 *   serves nothing but the file.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4 } from 'node:net';
import { autoconfigXml, type AutoconfigView } from '../../../core/src/autoconfig';
import type { LabConfig } from '../../../core/src/config';
import type { Logger } from '../../../core/src/logger';

/** Where Thunderbird asks (FetchConfig: the ISP's own server), path only. */
export const AUTOCONFIG_PATHS = ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml'] as const;

export interface AutoconfigHttpOptions {
  config: LabConfig;
  /** This server's domain: the only one it describes, as a provider's autoconfig host does. */
  domain: string;
  /** `host`: the admin door (published on the host); `lab`: port 80 on the lab network. */
  view: 'host' | 'lab';
  /** Whether the servers offer STARTTLS. */
  tls: boolean;
  logger?: Logger;
}

/**
 * The host name a host-side program used to reach us, when it is one the
 * mail ports answer on too: `localhost` or an IPv4 literal (the Host header
 * is the client's word; anything else falls back to 127.0.0.1).
 */
export function hostSideName(req: IncomingMessage): string {
  const host = (req.headers.host ?? '').trim().toLowerCase().replace(/:\d+$/, '');
  return host === 'localhost' || isIPv4(host) ? host : '127.0.0.1';
}

function reply(res: ServerResponse, status: number, type: string, body: string, head: boolean, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...headers });
  res.end(head ? undefined : body);
}

/**
 * A request handler for the autoconfig paths. Returns false, having done
 * nothing, for any other path (the caller decides what those get).
 */
export function autoconfigHandler(o: AutoconfigHttpOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const log = o.logger?.child('autoconfig');
  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://autoconfig');
    } catch {
      return false;
    }
    if (!(AUTOCONFIG_PATHS as readonly string[]).includes(url.pathname)) return false;
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    if (method !== 'GET' && !head) {
      reply(res, 405, 'text/plain; charset=utf-8', `${url.pathname} takes GET (or HEAD), not ${method}\n`, false, { allow: 'GET, HEAD' });
      return true;
    }
    const address = url.searchParams.get('emailaddress');
    if (address !== null) {
      const at = address.lastIndexOf('@');
      const asked = at < 0 ? '' : address.slice(at + 1).trim().toLowerCase();
      if (asked !== o.domain) {
        const other = o.config.domains.find((d) => d.name === asked);
        const why = other ? `ask that domain's server: autoconfig.${other.name}` : `${o.domain} only describes its own accounts (user@${o.domain})`;
        reply(res, 404, 'text/plain; charset=utf-8', `no mail settings here for "${address}": ${why}\n`, head);
        return true;
      }
    }
    const view: AutoconfigView = o.view === 'lab' ? { kind: 'lab' } : { kind: 'host', hostname: hostSideName(req) };
    const xml = autoconfigXml(o.config, o.domain, view, { tls: o.tls });
    log?.info(`autoconfig for ${address ?? o.domain} (${o.view} view) to ${req.socket.remoteAddress ?? '?'}`);
    reply(res, 200, 'application/xml; charset=utf-8', xml, head);
    return true;
  };
}

/** Port 80 of the mail host in the Docker lab: the autoconfig file, a 404 for anything else. */
export function createAutoconfigServer(o: Omit<AutoconfigHttpOptions, 'view'>): Server {
  const handle = autoconfigHandler({ ...o, view: 'lab' });
  return createServer((req, res) => {
    if (!handle(req, res)) reply(res, 404, 'text/plain; charset=utf-8', `only the mail settings are served here: GET ${AUTOCONFIG_PATHS[0]}?emailaddress=<you>@${o.domain}\n`, req.method === 'HEAD');
  });
}
