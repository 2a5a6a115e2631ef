/**
 * The class roster: which student works in which lab (`class up --roster
 * FILE`). A roster is a text file with one name per line, or a CSV file
 * (`.csv`) whose first column is the name (a header row `name`/`nama` is
 * skipped; quotes as in RFC 4180, so "Nur, Siti" works). Names are kept as
 * written: spaces, apostrophes and accents are fine (Siti Nur'aini). Lines
 * starting with `#` and blank lines are skipped; an empty name in a CSV row,
 * or the same name twice, is refused with its line numbers. Stored with the
 * lab number of each name in `.lab-data/class/roster.json`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { MAX_LAB } from '../../services/core/src/labs';
import { repoRoot } from '../lab-docker';

export interface RosterEntry {
  lab: number;
  name: string;
}

export class RosterError extends Error {
  override readonly name = 'RosterError';
}

export const rosterFile = () => join(repoRoot(), '.lab-data', 'class', 'roster.json');

/** The fields of one CSV line (RFC 4180 quotes; no line breaks inside fields). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === ',' || c === ';') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

/** The names of a roster file, in order, each with its line. */
export function parseRoster(text: string, file: string): { name: string; line: number }[] {
  const csv = extname(file).toLowerCase() === '.csv';
  const names: { name: string; line: number }[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
      const name = (csv ? csvFields(raw)[0] : raw.trim()).replace(/\s+/g, ' ');
      if (csv && names.length === 0 && seen.size === 0 && /^(name|nama|nama siswa|student)$/i.test(name)) return;
      if (name === '') {
        problems.push(`${file}:${line}: the name is empty`);
        return;
      }
      const key = name.toLocaleLowerCase('id');
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push(`${file}:${line}: "${name}" is already on line ${first} (give each student a name of their own, e.g. add the class or a surname)`);
        return;
      }
      seen.set(key, line);
      names.push({ name, line });
    });
  if (problems.length) throw new RosterError(problems.join('\n'));
  if (!names.length) throw new RosterError(`${file}: no names (one per line, or a CSV file whose first column is the name)`);
  return names;
}

/** Reads a roster file and gives each name a lab, 1, 2, … (at most MAX_LAB). */
export function rosterFromFile(file: string, count?: number): RosterEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RosterError(`cannot read the roster ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const names = parseRoster(text, file);
  if (names.length > MAX_LAB) throw new RosterError(`${file}: ${names.length} students, but one host holds at most ${MAX_LAB} labs; split the class over two hosts (or share one lab: accounts siswa01 … in lab.yaml)`);
  if (count !== undefined && count < names.length) throw new RosterError(`${file} has ${names.length} students but --count is ${count}: every student needs a lab (leave --count out to start one per student)`);
  return names.map((n, i) => ({ lab: i + 1, name: n.name }));
}

export function saveRoster(entries: RosterEntry[]): void {
  mkdirSync(dirname(rosterFile()), { recursive: true });
  writeFileSync(rosterFile(), JSON.stringify({ labs: entries }, null, 2) + '\n');
}

/** The stored roster (empty when none was given). */
export function loadRoster(): RosterEntry[] {
  if (!existsSync(rosterFile())) return [];
  try {
    return (JSON.parse(readFileSync(rosterFile(), 'utf8')) as { labs: RosterEntry[] }).labs ?? [];
  } catch {
    return [];
  }
}

export const studentOf = (roster: RosterEntry[], lab: number) => roster.find((e) => e.lab === lab)?.name;
