/**
 * The scenario file format (lab-scenarios/scenarios/<name>.yaml): a title,
 * an explanation of what to observe, and steps that act on the lab and
 * check what a student would see. Text may use `{{run}}` (unique per run,
 * so repeated runs do not see each other's mail) and `{{id}}` / `{{id:name}}`
 * (the queue id of the last send, or of a send with `save: name`).
 * `title`, `explain` and `say` are a plain string (English only) or
 * `{ en: ..., id: ... }`; the runner shows the language chosen with --lang.
 */
import { z } from 'zod';

const domainPair = z.tuple([z.string(), z.string()]);
const within = z.string().default('30s');
/** The instructor's faults (`npx mail-lab fault …`); options as on the command line. */
const faultKind = z.enum(['dns-down', 'dns-servfail', 'server-down', 'greylist', 'greet-delay', 'reject', 'slow-link', 'isolate']);
const faultOptions = { delay: z.string().optional(), code: z.union([z.number(), z.string()]).optional(), text: z.string().optional(), rate: z.string().optional(), loss: z.union([z.number(), z.string()]).optional(), all: z.boolean().optional() };
/** A text shown to the class: a plain string (English only) or both languages, `{ en, id }`. */
export const localizedText = z.union([z.string(), z.object({ en: z.string().min(1), id: z.string().min(1) }).strict()]);

export const stepSchema = z.union([
  z.object({ say: localizedText }).strict(),
  z.object({ break: domainPair }).strict(),
  z.object({ heal: domainPair }).strict(),
  z.object({ flush: z.string() }).strict(),
  z
    .object({
      send: z
        .object({
          from: z.string(),
          to: z.array(z.string()).min(1),
          subject: z.string(),
          body: z.string().default('Halo!\n'),
          /** submission (587, logs in as the sender) or smtp (25, no login). */
          via: z.enum(['submission', 'smtp']).default('submission'),
          /** Which domain's server to talk to; the sender's by default. */
          server: z.string().optional(),
          password: z.string().default('rahasia123'),
          save: z.string().default('last'),
          /** The reply expected instead of success, e.g. "554 5.7.1". */
          'expect-error': z.string().optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      'expect-mailbox': z
        .object({
          domain: z.string(),
          user: z.string(),
          subject: z.string(),
          count: z.number().int().min(0).default(1),
          within,
          /** Patterns for the Received: headers, top (newest hop) first; their number must match. */
          received: z.array(z.string()).optional(),
          headers: z.array(z.string()).optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      'expect-queue': z
        .object({
          domain: z.string(),
          id: z.string().default('{{id}}'),
          state: z.enum(['queued', 'gone']),
          'last-error': z.string().optional(),
          /** At least this many delivery attempts so far (watch the retries add up). */
          attempts: z.number().int().min(1).optional(),
          within,
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      'expect-delivery': z
        .object({
          domain: z.string(),
          id: z.string().default('{{id}}'),
          mx: z.array(z.string()).optional(),
          host: z.string().optional(),
          within,
        })
        .strict(),
    })
    .strict(),
  z.object({ dns: z.object({ name: z.string(), type: z.enum(['A', 'MX', 'TXT', 'NS', 'SOA', 'PTR']), expect: z.array(z.string()).optional(), rcode: z.string().optional() }).strict() }).strict(),
  z
    .object({
      smtp: z
        .object({
          domain: z.string(),
          port: z.enum(['smtp', 'submission']).default('smtp'),
          dialogue: z.array(z.object({ send: z.string().optional(), expect: z.string() }).strict()).min(1),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      pop3: z
        .object({
          domain: z.string(),
          /** Commands typed by hand, each reply checked. */
          dialogue: z.array(z.object({ send: z.string().optional(), expect: z.string() }).strict()).min(1).optional(),
          /** Or: what a POP3 mail program does: log in as this user, RETR and DELE every message, QUIT. */
          download: z.object({ user: z.string(), password: z.string().default('rahasia123'), count: z.number().int().min(0).optional() }).strict().optional(),
        })
        .strict()
        .refine((p) => (p.dialogue === undefined) !== (p.download === undefined), { message: 'needs exactly one of dialogue or download' }),
    })
    .strict(),
  z
    .object({
      imap: z
        .object({
          domain: z.string(),
          user: z.string(),
          password: z.string().default('rahasia123'),
          /** A label shown in the output, e.g. "laptop" and "phone" for two clients. */
          client: z.string().default('client'),
          actions: z
            .array(
              z.union([
                z.object({ create: z.string() }).strict(),
                z.object({ move: z.object({ subject: z.string(), from: z.string().default('INBOX'), to: z.string() }).strict() }).strict(),
                z.object({ search: z.object({ folder: z.string().default('INBOX'), subject: z.string().optional(), from: z.string().optional(), body: z.string().optional(), count: z.number().int().min(0) }).strict() }).strict(),
                z.object({ folders: z.object({ includes: z.array(z.string()) }).strict() }).strict(),
                z.object({ delete: z.string() }).strict(),
              ]),
            )
            .min(1),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      /**
       * `messages`: how many the file must hold (not checked when absent); `save: name` keeps the size;
       * `smaller: name` / `same: name` compare with a saved one; `last: true` shows the message at the
       * bottom of the file (its "From " line, From:, To:, Subject: and text), as the lesson shows MBRAIN.TXT.
       */
      'mailbox-file': z
        .object({ domain: z.string(), user: z.string(), messages: z.number().int().min(0).optional(), save: z.string().optional(), smaller: z.string().optional(), same: z.string().optional(), last: z.boolean().optional() })
        .strict(),
    })
    .strict(),
  /**
   * The lab's mail program, `mail-lab-client <args…>` (client-steps.ts): in the client container
   * (Docker) or as a Node process given the host ports (no-Docker). `expect`: patterns its output
   * must match; `show`: only the output lines matching `match`, at most `max` of them.
   */
  z
    .object({
      client: z
        .object({
          args: z.array(z.string()).min(1),
          expect: z.union([z.string(), z.array(z.string())]).optional(),
          show: z.object({ match: z.string().optional(), max: z.number().int().min(1).optional() }).strict().optional(),
        })
        .strict(),
    })
    .strict(),
  /** A file of random bytes (not text) in the scenario's working directory, for the client to attach. */
  z.object({ 'make-file': z.object({ name: z.string().regex(/^[A-Za-z0-9._-]+$/), bytes: z.number().int().min(1).max(1_000_000) }).strict() }).strict(),
  /** The sha256 of each file (paths in the working directory); they must all be the same bytes. */
  z.object({ 'compare-files': z.object({ files: z.array(z.string().regex(/^[A-Za-z0-9._/-]+$/)).min(2) }).strict() }).strict(),
  /** Return a queued message to its sender now, as an administrator would (`npx mail-lab expire`, postsuper -e). */
  z.object({ expire: z.object({ domain: z.string(), id: z.string().default('{{id}}') }).strict() }).strict(),
  z.object({ fault: z.object({ kind: faultKind, args: z.array(z.string()).default([]), ...faultOptions }).strict() }).strict(),
  z.object({ 'clear-fault': z.object({ kind: z.union([faultKind, z.literal('all')]), args: z.array(z.string()).default([]) }).strict() }).strict(),
  /** Switch a domain's queue profile at run time (`npx mail-lab queue-profile`; queue-steps.ts); put back by the runner if the scenario fails. */
  z.object({ 'queue-profile': z.object({ domain: z.string(), profile: z.string() }).strict() }).strict(),
  /**
   * The lab definition changed and reloaded, as `npx mail-lab reload` does (reload-steps.ts): `add`
   * puts accounts, aliases, MX records and relayDomains into the definition file's text where they
   * are missing (the file is not written); `restore` reloads the file as it is. Restored by the
   * runner if the scenario fails.
   */
  z
    .object({
      reload: z
        .object({
          add: z
            .record(
              z.string(),
              z
                .object({
                  accounts: z.array(z.object({ user: z.string(), name: z.string().optional(), passwordHash: z.string().optional(), password: z.string().optional() }).strict()).optional(),
                  aliases: z.record(z.string(), z.array(z.string()).min(1)).optional(),
                  mx: z.array(z.object({ host: z.string(), preference: z.number().int() }).strict()).optional(),
                  relayDomains: z.array(z.string()).optional(),
                })
                .strict(),
            )
            .optional(),
          restore: z.boolean().optional(),
          /** Remove accounts that still have mail (their mailbox files stay). */
          force: z.boolean().default(false),
        })
        .strict()
        .refine((r) => (r.add === undefined) !== (r.restore === undefined), { message: 'needs exactly one of add or restore' }),
    })
    .strict(),
  /** An RFC 3464 report about a queued message in the sender's mailbox: `delayed` (the warning) or `failed` (returned). */
  z
    .object({
      'expect-report': z
        .object({ domain: z.string(), user: z.string(), id: z.string().default('{{id}}'), action: z.enum(['delayed', 'failed']), count: z.number().int().min(0).default(1), within })
        .strict(),
    })
    .strict(),
  z
    .object({
      exec: z
        .object({
          container: z.string(),
          command: z.array(z.string()).min(1),
          expect: z.string().optional(),
        })
        .strict(),
    })
    .strict(),
]);

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9-]+$/),
    title: localizedText,
    explain: localizedText,
    steps: z.array(stepSchema).min(1),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type Step = z.infer<typeof stepSchema>;
