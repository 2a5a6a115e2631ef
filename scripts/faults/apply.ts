/**
 * Applying and clearing one fault of the fault family on the running lab
 * (the kinds and their argument rules: services/core/src/faults.ts; made
 * through the admin APIs by services/core/src/admin/fault-actions.ts, which
 * the web pages use too), in words: what changed, or "already …" when
 * nothing did; `break`/`heal`, `fault …`, `fault clear …` and the scenario
 * steps all come here.
 */
import type { FaultChange } from '../../services/core/src/admin/api';
import { setFaultThroughApis, type FaultOutcome } from '../../services/core/src/admin/fault-actions';
import { formatDuration } from '../../services/core/src/duration';
import { describeSlowLink, GREET_DELAY_DEFAULT_MS, GREYLIST_DEFAULT_MS, rejectReply, type FaultSpec, type FaultSpecOf } from '../../services/core/src/faults';
import type { LabTarget } from '../lab-target';

export interface FaultResult {
  changed: boolean;
  lines: string[];
  /** How it was done, in words (a cut link: iptables in the containers, or blocks in the servers). */
  how?: string;
}

const clearHint = (args: string) => `remove it with \`npx mail-lab fault clear ${args}\``;
const retryHint = 'queued mail goes out at the next retry; `npx mail-lab flush <domain>` sends it now';
const pair = (a: string, b: string) => `${a} <-> ${b}`;

function linkWords(spec: FaultSpecOf<'link'>, on: boolean, o: FaultOutcome): FaultResult {
  const sides = o.sides!;
  const changed = o.changed;
  if (!changed) return { changed, lines: [`the link ${pair(spec.a, spec.b)} was already ${on ? 'broken' : 'healthy'}; nothing changed`] };
  if (on) return { changed, how: sides[0].how, lines: [`link ${pair(spec.a, spec.b)} BROKEN (${sides[0].how})`] };
  return { changed, lines: [`link ${pair(spec.a, spec.b)} healed`, `queued mail goes out at the next retry; \`npx mail-lab flush ${spec.a}\` sends it now`] };
}

function slowLinkWords(spec: FaultSpecOf<'slow-link'>, on: boolean, o: FaultOutcome): FaultResult {
  const p = pair(spec.a, spec.b);
  const sides = o.sides!;
  if (!on) {
    return o.changed
      ? { changed: true, lines: [`fault slow-link ${p} cleared: tc shaping and loss rules removed in both mail containers`] }
      : { changed: false, lines: [`the link ${p} was not slowed (no slow-link fault); nothing changed`] };
  }
  const params = { rate: spec.rate, delayMs: spec.delayMs, loss: spec.loss };
  const changed = o.changed;
  const slow = sides.find((s) => s.slow)?.slow;
  const lines = [changed ? `fault slow-link ${p} applied (${describeSlowLink(params)}) inside both mail containers, only to traffic between them` : `the link ${p} was already slowed like this; nothing changed`];
  for (const s of sides) for (const m of s.slow?.methods ?? []) lines.push(`  ${s.domain}: ${m}`);
  for (const miss of slow?.missing ?? []) lines.push(`  ${miss}`);
  if (changed) lines.push(clearHint(`slow-link ${spec.a} ${spec.b}`));
  return { changed, lines };
}

/** Isolation of a domain (in a no-Docker lab the other domains were told too: fault-actions.ts). */
function isolateWords(spec: FaultSpecOf<'isolate'>, on: boolean, o: FaultOutcome): FaultResult {
  const changed = o.changed;
  const how = o.change?.how;
  if (!changed) return { changed, lines: [on ? `${spec.domain} was already cut off from the backbone (fault isolate); nothing changed` : `${spec.domain} was not cut off (no isolate fault); nothing changed`] };
  return {
    changed,
    lines: on
      ? [
          `fault isolate ${spec.domain} applied: ${spec.domain} is cut off from the lab backbone (no DNS, no other domain, no client container)`,
          `its outgoing mail waits in its queue (attempts time out), mail to it waits in the other domains' queues; nothing bounces before the return time`,
          ...(how ? [`how: ${how}`] : []),
          clearHint(`isolate ${spec.domain}`),
        ]
      : [`fault isolate ${spec.domain} cleared: ${spec.domain} is back on the backbone`, retryHint],
  };
}

/** The words for a fault that one server applied or cleared. */
function words(spec: FaultSpec, on: boolean, r: FaultChange): FaultResult {
  const changed = r.changed;
  switch (spec.kind) {
    case 'dns-down':
      if (!changed) return { changed, lines: [on ? 'the lab DNS was already down (fault dns-down); nothing changed' : 'the lab DNS was already answering (no dns-down fault); nothing changed'] };
      return {
        changed,
        lines: on
          ? ['fault dns-down applied: the lab DNS stops answering; queries are logged and dropped, so lookups time out', 'senders cannot look up MX records: their queues defer and retry (nothing bounces)', clearHint('dns-down')]
          : ['fault dns-down cleared: the lab DNS answers again', retryHint],
      };
    case 'dns-servfail':
      if (!changed) return { changed, lines: [on ? `the lab DNS already answers SERVFAIL for ${spec.domain}; nothing changed` : `the lab DNS already answers normally for ${spec.domain} (no dns-servfail fault); nothing changed`] };
      return {
        changed,
        lines: on
          ? [`fault dns-servfail ${spec.domain} applied: every name in ${spec.domain} gets SERVFAIL from the lab DNS`, `mail to ${spec.domain} is deferred and retried, not bounced (SERVFAIL is a temporary failure)`, clearHint(`dns-servfail ${spec.domain}`)]
          : [`fault dns-servfail ${spec.domain} cleared: the lab DNS answers for ${spec.domain} again`, retryHint],
      };
    case 'server-down':
      if (spec.all && on) {
        if (!changed) return { changed, lines: [`every mail port of ${spec.domain} was already down (fault server-down --all); nothing changed`] };
        return {
          changed,
          lines: [
            `fault server-down ${spec.domain} --all applied: no mail port of ${spec.domain} listens (25, 587, 465, POP3, IMAP: connection refused)`,
            'mail programs cannot send or read: what they write waits in their outbox, what they synced is all they can read; the queue and the admin API keep working',
            clearHint(`server-down ${spec.domain}`),
          ],
        };
      }
      if (!changed) return { changed, lines: [on ? `port 25 of ${spec.domain} was already down (fault server-down); nothing changed` : `port 25 of ${spec.domain} was already listening (no server-down fault); nothing changed`] };
      return {
        changed,
        lines: on
          ? [`fault server-down ${spec.domain} applied: SMTP port 25 of ${spec.domain} no longer listens (connection refused)`, 'submission (587), POP3, IMAP and its outbound queue keep working; senders to it defer and retry', clearHint(`server-down ${spec.domain}`)]
          : [`fault server-down ${spec.domain} cleared: the stopped ports of ${spec.domain} listen again`, 'senders deliver at their next retry; `npx mail-lab flush <domain>` sends now'],
      };
    case 'greylist': {
      if (!on) return changed ? { changed, lines: [`fault greylist ${spec.domain} cleared: no more greylisting; the triplets seen are forgotten`] } : { changed, lines: [`${spec.domain} was not greylisting (no greylist fault); nothing changed`] };
      const delay = formatDuration(r.delayMs ?? spec.delayMs ?? GREYLIST_DEFAULT_MS);
      if (!changed) return { changed, lines: [`${spec.domain} was already greylisting with a delay of ${delay}; nothing changed`] };
      return {
        changed,
        lines: [
          `fault greylist ${spec.domain} applied: port 25 answers the first RCPT of each new (client IP, sender, recipient) with "451 4.7.1 Greylisted, try again in N s"`,
          `the same triplet is accepted once ${delay} have passed, so a real sender's queue delivers at its next retry`,
          clearHint(`greylist ${spec.domain}`),
        ],
      };
    }
    case 'greet-delay': {
      if (!on) return changed ? { changed, lines: [`fault greet-delay ${spec.domain} cleared: port 25 of ${spec.domain} greets at once again`] } : { changed, lines: [`port 25 of ${spec.domain} was already greeting at once (no greet-delay fault); nothing changed`] };
      const delay = formatDuration(r.delayMs ?? spec.delayMs ?? GREET_DELAY_DEFAULT_MS);
      if (!changed) return { changed, lines: [`port 25 of ${spec.domain} already waits ${delay} before its greeting; nothing changed`] };
      return {
        changed,
        lines: [
          `fault greet-delay ${spec.domain} applied: port 25 of ${spec.domain} waits ${delay} before its "220" greeting`,
          'a client that sends a command before the greeting gets "421 You talk too soon" and is cut off; mail servers wait for the greeting, so mail still arrives',
          clearHint(`greet-delay ${spec.domain}`),
        ],
      };
    }
    case 'reject': {
      if (!on) return changed ? { changed, lines: [`fault reject ${spec.address} cleared: RCPT TO:<${spec.address}> is accepted again`] } : { changed, lines: [`${spec.address} was not being rejected (no reject fault); nothing changed`] };
      const reply = r.code !== undefined ? { code: r.code, text: r.text ?? '' } : rejectReply(spec);
      if (!changed) return { changed, lines: [`${spec.address} was already rejected with "${reply.code} ${reply.text}"; nothing changed`] };
      return { changed, lines: [`fault reject ${spec.address} applied: RCPT TO:<${spec.address}> answers "${reply.code} ${reply.text}"`, 'a sending server bounces at once: its sender gets a delivery status notification', clearHint(`reject ${spec.address}`)] };
    }
    default:
      return { changed, lines: [`${spec.kind}: ${changed ? (on ? 'applied' : 'cleared') : 'nothing changed'}`] };
  }
}

/** Applies a fault (on: true) or clears it (on: false). */
export async function setFault(target: LabTarget, spec: FaultSpec, on: boolean): Promise<FaultResult> {
  const r = await change(target, spec, on);
  // The commands the lines suggest are for this lab.
  return target.lab ? { ...r, lines: r.lines.map((l) => l.replace(/`npx mail-lab ([^`]+)`/g, `\`npx mail-lab $1 --lab ${target.lab}\``)) } : r;
}

async function change(target: LabTarget, spec: FaultSpec, on: boolean): Promise<FaultResult> {
  const o = await setFaultThroughApis(target, spec, on);
  if (spec.kind === 'link') return linkWords(spec, on, o);
  if (spec.kind === 'slow-link') return slowLinkWords(spec, on, o);
  if (spec.kind === 'isolate') return isolateWords(spec, on, o);
  return words(spec, on, o.change!);
}
