/**
 * The languages the scenario runner speaks, as every part of the runner
 * imports them: the list and its type are the CLI's (scripts/i18n/lang.ts,
 * which also chooses the language); the runner's words are in messages.ts.
 */
export { LANGS, type Lang } from '../i18n/lang';
