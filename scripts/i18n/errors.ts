/**
 * The common errors of the command line in Indonesian. Most of them are made
 * by modules that speak English to every caller (the lab definition, the lab
 * number, the admin client, the admin token, the mail servers' admin API,
 * the check's accounts; also the fault lines of `status`, scripts/faults/list.ts):
 * their English sentences are the stable text, and `translateErrorText` puts
 * each one it knows into Indonesian wherever it appears in a line (also
 * nested: `links of x (lab 41 is not running…)`).
 * A sentence it does not know stays as it is. test/unit/cli-lang/ makes each
 * error from its real source, so a changed English sentence is noticed.
 */
import type { Lang } from './lang';

type Rule = [RegExp, (...m: string[]) => string];

/** `the lab DNS` / a domain: who an admin client talks to. */
const who = (w: string) => (w === 'the lab DNS' ? 'DNS lab' : w);

const RULES: Rule[] = [
  [/unknown domain "([^"]*)"; the lab has: ([^;)\n]*)/g, (_, d, list) => `domain "${d}" tidak dikenal; lab ini punya: ${list}`],
  [
    /(--lab|MAIL_LAB_LAB) must be a lab number from 0 to (\d+) \(got ([^)]*)\)(: one host holds at most (\d+) numbered labs)?/g,
    (_, where, max, got, tail, most) => `${where} harus nomor lab dari 0 sampai ${max} (bukan ${got})${tail ? `: satu host menampung paling banyak ${most} lab bernomor` : ''}`,
  ],
  [/(--engine|MAIL_LAB_ENGINE) must be ([^(]*?) \(got "([^"]*)"\)/g, (_, where, allowed, got) => `${where} harus ${allowed.replace(/ or /g, ' atau ')} (bukan "${got}")`],
  [
    /lab (\d+) is not running: none of its containers exists( \(start it: (`[^`]*`)\))?/g,
    (_, n, tail, cmd) => `lab ${n} tidak berjalan: tidak ada satu pun kontainernya${tail ? ` (jalankan: ${cmd})` : ''}`,
  ],
  [
    /cannot reach the admin API of (.+?) on (\S+) \(([^)]*)\); is the lab up\? \((`[^`]*`)\)/g,
    (_, w, addr, why, cmd) => `API admin ${who(w)} di ${addr} tidak dapat dihubungi (${why}); apakah lab sudah berjalan? (${cmd})`,
  ],
  [/no admin token in (\S+): the lab's services make it when they start \((`[^`]*`)\)/g, (_, file, cmd) => `tidak ada token admin di ${file}: layanan lab membuatnya saat mulai (${cmd})`],
  [/cannot read the lab's admin token \(is the lab up\? (`[^`]*`)\)/g, (_, cmd) => `token admin lab tidak dapat dibaca (apakah lab sudah berjalan? ${cmd})`],
  [/no message (\S+) in the queue of ([\w.-]+)/g, (_, id, d) => `tidak ada pesan ${id} di antrian ${d}`],
  [
    /no account "([^"]*)" in lab (\d+): its accounts are (.*?) \(in (.*?)\); give a user \((\S+)\) or an address \((\S+)\)/g,
    (_, a, n, list, domains, u, addr) => `tidak ada akun "${a}" di lab ${n}: akunnya ${list} (di ${domains.replace(/ and /g, ' dan ')}); sebutkan pengguna (${u}) atau alamat (${addr})`,
  ],
  // The fault lines of `status` (scripts/faults/list.ts).
  [/^faults: none known$/g, () => 'gangguan: tidak ada yang diketahui'],
  [/^faults: none$/g, () => 'gangguan: tidak ada'],
  [/^faults unknown for: /g, () => 'gangguan tidak diketahui untuk: '],
  [/^faults: unknown \(/g, () => 'gangguan: tidak diketahui ('],
  [/^fault (\S+) (.*?): /g, (_, kind, target) => `gangguan ${kind} ${target}: `],
  [/ \(since (\d\d:\d\d:\d\d)\)$/g, (_, t) => ` (sejak ${t})`],
  [/\blab DNS \(/g, () => "DNS lab ("],
  [/\blinks of ([\w.-]+) \(/g, (_, d) => `jalur ${d} (`],
  [/: (\d+) problem\(s\); nothing was started/g, (_, n) => `: ${n} masalah; tidak ada yang dijalankan`],
  [/these services did not answer within (\d+) s: /g, (_, s) => `layanan berikut tidak menjawab dalam ${s} detik: `],
];

/** `text` with every error sentence this module knows in `lang` (English: unchanged). */
export function translateErrorText(text: string, lang: Lang): string {
  if (lang === 'en') return text;
  let s = text;
  for (const [re, to] of RULES) s = s.replace(re, (...m: unknown[]) => to(...(m.filter((x) => typeof x === 'string' || x === undefined).map((x) => (x ?? '') as string))));
  return s;
}
