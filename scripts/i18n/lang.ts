/**
 * The languages of the whole command line (English, and Indonesian, the
 * lesson's language) and how one is chosen, for every command: the global
 * `--lang en|id` (scripts/cli.ts), else MAIL_LAB_LANG, else Indonesian when
 * LANG starts with `id` (id_ID.UTF-8…), else English. The scenario runner
 * and the CLI's own output (status, queue, trace, check, errors) take the
 * language from here; the words are in the catalogues next to this file and
 * in scripts/scenario/messages.ts.
 */
export const LANGS = ['en', 'id'] as const;
export type Lang = (typeof LANGS)[number];

/** Thrown for a language we have no catalog for; the CLI exits with status 2. */
export class UnknownLanguageError extends Error {
  constructor(
    readonly value: string,
    readonly source: string,
  ) {
    super(
      `unknown language "${value}" (${source}): use en (English) or id (Bahasa Indonesia) / ` +
        `bahasa "${value}" tidak dikenal (${source}): pakai en (English) atau id (Bahasa Indonesia)`,
    );
  }
}

export const isUnknownLanguageError = (e: unknown): e is UnknownLanguageError => e instanceof UnknownLanguageError;

/** `en`, `id`, also `EN`, `id-ID`, `id_ID.UTF-8`; anything else throws UnknownLanguageError. */
export function parseLang(value: string, source = '--lang'): Lang {
  const m = /^(en|id)(?:[-_.@].*)?$/i.exec(value.trim());
  if (!m) throw new UnknownLanguageError(value, source);
  return m[1].toLowerCase() as Lang;
}

/**
 * The language to use: the `--lang` value if given, else MAIL_LAB_LANG (both
 * must name a known language), else Indonesian when LANG starts with `id`,
 * else English.
 */
export function chooseLang(flag: string | undefined, env: Record<string, string | undefined> = {}): Lang {
  if (flag !== undefined) return parseLang(flag, '--lang');
  if (env.MAIL_LAB_LANG) return parseLang(env.MAIL_LAB_LANG, 'MAIL_LAB_LANG');
  return /^id/i.test(env.LANG ?? '') ? 'id' : 'en';
}
