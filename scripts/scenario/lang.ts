/**
 * The languages the scenario runner speaks (English, and Indonesian, the
 * lesson's language): the list and its type, imported by every part of the
 * runner that takes a language. The words themselves, and how the language
 * is chosen, are in messages.ts.
 */
export const LANGS = ['en', 'id'] as const;
export type Lang = (typeof LANGS)[number];
