/**
 * Every scenario in lab-scenarios/scenarios/ loads and has its texts in
 * both languages; the message catalog and the language choice (--lang,
 * MAIL_LAB_LANG, LANG).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlWithSchema, LabConfigError } from '../../../services/core/src/config';
import { loadScenario, scenarioDir } from '../../../scripts/scenario/runner';
import { scenarioSchema } from '../../../scripts/scenario/schema';
import { chooseLang, describeStep, messages, parseLang, pick, UnknownLanguageError, untranslated } from '../../../scripts/scenario/messages';
import { LANGS } from '../../../scripts/scenario/lang';

const files = readdirSync(scenarioDir())
  .filter((f) => f.endsWith('.yaml'))
  .sort();

test('the scenarios the lab guide covers are all there', () => {
  const names = files.map((f) => f.replace(/\.yaml$/, ''));
  for (const n of ['cross-domain-delivery', 'mx-lookup', 'queue-retry', 'open-relay-refused', 'smtp-by-hand', 'pop3-download', 'imap-folders-search']) expect(names).toContain(n);
});

describe.each(files)('%s', (file) => {
  const scenario = loadScenario(join(scenarioDir(), file));

  test('loads, named after its file', () => {
    expect(scenario.name).toBe(file.replace(/\.yaml$/, ''));
  });

  test('title, explain and every say step are in English and Indonesian', () => {
    expect(untranslated(scenario)).toEqual([]);
  });

  test.each(LANGS)('reads in %s: texts and every step description', (lang) => {
    expect(pick(scenario.title, lang).trim()).not.toBe('');
    expect(pick(scenario.explain, lang).trim()).not.toBe('');
    for (const step of scenario.steps) expect(describeStep(lang, step)).toEqual(expect.any(String));
  });

  test('the Indonesian texts are translations, not copies of the English', () => {
    const texts = [scenario.title, scenario.explain, ...scenario.steps.flatMap((s) => ('say' in s ? [s.say] : []))];
    for (const t of texts) expect(pick(t, 'id')).not.toBe(pick(t, 'en'));
  });
});

describe('the scenario format', () => {
  const base = 'name: x\nsteps:\n  - flush: dadali.com\n';
  const parse = (text: string) => parseYamlWithSchema(text, 'x.yaml', scenarioSchema).data;

  test('a plain string is still accepted (English only) and serves both languages', () => {
    const s = parse(`${base}title: Plain\nexplain: Only English.\n`);
    expect(pick(s.title, 'id')).toBe('Plain');
    expect(untranslated(s)).toEqual(['title', 'explain']);
  });

  test('{ en, id } for title, explain and say', () => {
    const s = parse(`name: x\ntitle: { en: Queue, id: Antrian }\nexplain: { en: Wait., id: Tunggu. }\nsteps:\n  - say: { en: Look., id: Lihat. }\n  - say: English only.\n`);
    expect([pick(s.title, 'en'), pick(s.title, 'id'), pick(s.explain, 'id')]).toEqual(['Queue', 'Antrian', 'Tunggu.']);
    expect(s.steps[0]).toEqual({ say: { en: 'Look.', id: 'Lihat.' } });
    expect(untranslated(s)).toEqual(['steps[1].say']);
  });

  test('a language object needs both en and id, and nothing else', () => {
    expect(() => parse(`${base}title: { en: Only }\nexplain: x\n`)).toThrow(LabConfigError);
    expect(() => parse(`${base}title: { en: A, id: B, fr: C }\nexplain: x\n`)).toThrow(LabConfigError);
    expect(() => parse(`${base}title: { en: A, id: "" }\nexplain: x\n`)).toThrow(LabConfigError);
  });
});

describe('choosing the language', () => {
  test('default English; --lang wins over MAIL_LAB_LANG, which wins over LANG', () => {
    expect(chooseLang(undefined, {})).toBe('en');
    expect(chooseLang(undefined, { LANG: 'C.UTF-8' })).toBe('en');
    expect(chooseLang(undefined, { LANG: 'id_ID.UTF-8' })).toBe('id');
    expect(chooseLang(undefined, { LANG: 'id_ID.UTF-8', MAIL_LAB_LANG: 'en' })).toBe('en');
    expect(chooseLang(undefined, { MAIL_LAB_LANG: 'id' })).toBe('id');
    expect(chooseLang('en', { MAIL_LAB_LANG: 'id', LANG: 'id_ID' })).toBe('en');
    expect(chooseLang('id', {})).toBe('id');
    expect(chooseLang(undefined, { MAIL_LAB_LANG: '', LANG: 'en_US.UTF-8' })).toBe('en');
  });

  test('region and encoding suffixes, any case', () => {
    expect(parseLang('ID')).toBe('id');
    expect(parseLang('id-ID')).toBe('id');
    expect(parseLang('en_GB.UTF-8')).toBe('en');
  });

  test('an unknown language is an error that says what is accepted, in both languages', () => {
    expect(() => chooseLang('fr', {})).toThrow(UnknownLanguageError);
    expect(() => chooseLang('indonesia', {})).toThrow(/unknown language "indonesia" \(--lang\): use en \(English\) or id/);
    expect(() => chooseLang(undefined, { MAIL_LAB_LANG: 'jv' })).toThrow(/MAIL_LAB_LANG.*bahasa "jv" tidak dikenal/);
    // LANG is the whole desktop's setting: never an error, just not Indonesian.
    expect(chooseLang(undefined, { LANG: 'fr_FR.UTF-8' })).toBe('en');
  });
});

describe('the message catalog', () => {
  test('the English summary line keeps the format CI parses', () => {
    expect(messages('en').summary(7, 0, 'docker')).toBe('scenarios: 7 passed, 0 failed (Docker lab)');
    expect(messages('en').summary(6, 1, 'local')).toBe('scenarios: 6 passed, 1 failed (no-Docker lab)');
  });

  test('Indonesian: its own words, decimal comma', () => {
    const id = messages('id');
    expect(id.summary(6, 1, 'local')).toBe('skenario: 6 berhasil, 1 gagal (lab tanpa Docker)');
    expect([id.ok, id.skipped, id.failed]).toEqual(['berhasil', 'dilewati', 'GAGAL']);
    expect(id.seconds(2.25)).toBe('2,3 detik');
    expect(id.step.queue('garudayaksa.com')).toBe('periksa antrian garudayaksa.com');
  });

  test('every message has a translation (same keys in both catalogs)', () => {
    const shape = (o: object): string[] => Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? shape(v as object).map((x) => `${k}.${x}`) : [k])).sort();
    expect(shape(messages('id'))).toEqual(shape(messages('en')));
  });
});
