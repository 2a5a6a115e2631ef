/**
 * The words of the CLI's own lab and queue commands (scripts/cli.ts):
 * `status`, `queue`, `queue-profile`, `show`, `flush`, `hold` / `release` /
 * `delete` / `expire`, `validate` and `up`'s own lines, and the CLI's usage errors, in English and in
 * Indonesian (the lesson's words: antrian, surat keluar; the class is
 * addressed as "kalian", like the worksheets). The English text is the one
 * the CLI has always printed.
 */
import type { QueueProfileInfo, RecipientStatus } from '../../services/core/src/admin/api';
import { formatDuration } from '../../services/core/src/duration';
import type { Lang } from './lang';

type QueueAction = 'hold' | 'release' | 'delete' | 'expire';
type ActionResult = 'held' | 'released' | 'already' | 'deleted' | 'expired';
type AttemptResult = 'delivered' | 'deferred' | 'bounced';
type Timings = Pick<QueueProfileInfo, 'retryInterval' | 'warnAfter' | 'returnAfter'>;

const en = {
  /** `retry every 10s, warn after 30s, return after 1m30s`. */
  timings: (p: Timings) => `retry every ${formatDuration(p.retryInterval)}, warn after ${formatDuration(p.warnAfter)}, return after ${formatDuration(p.returnAfter)}`,
  profile: (name: string, timings: string) => `queue profile ${name}: ${timings}`,
  // status
  mode: (lab: number, mode: string) => `lab ${lab}, mode: ${mode}`,
  modeLocal: 'no-Docker (local processes)',
  modeSwarm: (project: string) => `Docker Swarm (stack ${project})`,
  task: (line: string) => `task ${line}`,
  statusHeader: ['service', 'address', 'state', 'answer'],
  up: 'up',
  down: 'DOWN',
  link: (a: string, b: string, broken: boolean) => `link ${a} <-> ${b}: ${broken ? 'BROKEN' : 'ok'}`,
  linksUnknown: (why: string) => `links: unknown (${why})`,
  queueSize: (d: string, n: number, profile: string) => `queue ${d}: ${n} message(s)${profile ? `, ${profile}` : ''}`,
  queueUnreachable: (d: string) => `queue ${d}: unreachable`,
  // queue
  queueEmpty: (d: string) => `mail queue of ${d} is empty`,
  queueHeader: ['id', 'size', 'age', 'sender', 'recipients', 'attempts', 'next attempt', 'last error'],
  inTime: (t: string) => `in ${t}`,
  queueTotal: (n: number, d: string) => `-- ${n} message(s) in the queue of ${d}`,
  // queue-profile
  unknownProfile: (p: string, names: string) => `unknown queue profile "${p}"; lab.yaml has: ${names}`,
  profiles: (list: string, d: string) => `  profiles: ${list} (switch: npx mail-lab queue-profile ${d} <profile>)`,
  profileChanged: (d: string, from: string, to: string, timings: string) => `${d}: queue profile ${from} -> ${to}: ${timings}`,
  profileSame: (d: string, name: string) => `${d} already uses queue profile ${name}; nothing changed`,
  profileMoved: (queued: number, moved: number) =>
    `  ${queued} message(s) in the queue take the new timings: warning and return count from their arrival, the next attempt from the last one (moved for ${moved})`,
  // show
  entry: (id: string, size: number, from: string, arrival: string, held: boolean) => `${id}  ${size} octets  from ${from}  arrived ${arrival}${held ? '  (HELD)' : ''}`,
  recipient: (address: string, status: RecipientStatus, attempts: number, next?: string, lastError?: string) =>
    `  to ${address}: ${status}, ${attempts} attempt(s)${next ? `, next ${next}` : ''}${lastError ? `, last error: ${lastError}` : ''}`,
  history: '  history:',
  result: (r: AttemptResult) => r.padEnd(9),
  mx: (list: string, host?: string, tls?: string) => `      MX: ${list}${host ? `; talked to ${host}` : ''}${tls ? `, TLS: ${tls}` : ''}`,
  noAttempt: '    (no attempt yet)',
  // hold, release, delete, expire, flush
  actionResult: (id: string, action: QueueAction, result: ActionResult) => (result === 'already' ? `${id} was already ${action === 'hold' ? 'held' : 'released'}; nothing changed` : `${id}: ${result}`),
  flushed: (ids: string[]) => `retrying now: ${ids.join(', ')}`,
  nothingToFlush: (d: string) => `the queue of ${d} is empty; nothing to flush`,
  // validate, up
  valid: (file: string) => `${file}: valid`,
  validDomain: (name: string, accounts: number, aliases: number, mx: string, backupFor: string) => `  ${name}: ${accounts} accounts, ${aliases} aliases, MX ${mx}${backupFor ? `; backup MX for ${backupFor}` : ''}`,
  validProfile: (name: string, timings: string) => `  queue profile "${name}": ${timings}`,
  upHeader: ['service', 'address', 'answer'],
  isUp: (lab: number, mode: 'local' | 'swarm' | 'docker', project: string, after: string, all: string) =>
    `lab ${lab} is up (${mode === 'local' ? 'no-Docker' : mode === 'swarm' ? `Docker Swarm, stack ${project}` : 'Docker'} mode): every service answered ${after} s after start (${all} s in all)`,
  // usage errors of cli.ts
  emptyPassword: 'give a non-empty password',
  nameScenario: 'name a scenario (see `npx mail-lab scenario --list`) or use --all',
  renderWhat: (what: string) => `render what? only \`render compose\`, \`render swarm\` and \`render k8s\` are known (got "${what}")`,
};

export type QueueText = typeof en;

const RESULT_ID: Record<AttemptResult, string> = { delivered: 'terkirim', deferred: 'ditunda', bounced: 'dikembalikan' };
const STATUS_ID: Record<RecipientStatus, string> = { pending: 'menunggu', delivered: 'terkirim', bounced: 'dikembalikan' };
const DONE_ID: Record<Exclude<ActionResult, 'already'>, string> = { held: 'ditahan', released: 'dilepas', deleted: 'dihapus', expired: 'dikembalikan ke pengirim' };

const id: QueueText = {
  timings: (p) => `coba lagi setiap ${formatDuration(p.retryInterval)}, peringatan setelah ${formatDuration(p.warnAfter)}, dikembalikan setelah ${formatDuration(p.returnAfter)}`,
  profile: (name, timings) => `profil antrian ${name}: ${timings}`,
  mode: (lab, mode) => `lab ${lab}, mode: ${mode}`,
  modeLocal: 'tanpa Docker (proses lokal)',
  modeSwarm: (project) => `Docker Swarm (stack ${project})`,
  task: (line) => `tugas ${line}`,
  statusHeader: ['layanan', 'alamat', 'keadaan', 'jawaban'],
  up: 'hidup',
  down: 'MATI',
  link: (a, b, broken) => `jalur ${a} <-> ${b}: ${broken ? 'PUTUS' : 'baik'}`,
  linksUnknown: (why) => `jalur: tidak diketahui (${why})`,
  queueSize: (d, n, profile) => `antrian ${d}: ${n} pesan${profile ? `, ${profile}` : ''}`,
  queueUnreachable: (d) => `antrian ${d}: tidak dapat dihubungi`,
  queueEmpty: (d) => `antrian surat keluar ${d} kosong`,
  queueHeader: ['id', 'ukuran', 'umur', 'pengirim', 'penerima', 'percobaan', 'percobaan berikutnya', 'kesalahan terakhir'],
  inTime: (t) => `${t} lagi`,
  queueTotal: (n, d) => `-- ${n} pesan di antrian ${d}`,
  unknownProfile: (p, names) => `profil antrian "${p}" tidak dikenal; lab.yaml punya: ${names}`,
  profiles: (list, d) => `  profil: ${list} (ganti: npx mail-lab queue-profile ${d} <profil>)`,
  profileChanged: (d, from, to, timings) => `${d}: profil antrian ${from} -> ${to}: ${timings}`,
  profileSame: (d, name) => `${d} sudah memakai profil antrian ${name}; tidak ada yang berubah`,
  profileMoved: (queued, moved) =>
    `  ${queued} pesan di antrian memakai waktu yang baru: peringatan dan pengembalian dihitung dari saat pesan tiba, percobaan berikutnya dari percobaan terakhir (${moved} dijadwal ulang)`,
  entry: (mid, size, from, arrival, held) => `${mid}  ${size} oktet  dari ${from}  tiba ${arrival}${held ? '  (DITAHAN)' : ''}`,
  recipient: (address, status, attempts, next, lastError) =>
    `  ke ${address}: ${STATUS_ID[status]}, ${attempts} percobaan${next ? `, berikutnya ${next}` : ''}${lastError ? `, kesalahan terakhir: ${lastError}` : ''}`,
  history: '  riwayat:',
  result: (r) => RESULT_ID[r].padEnd(12),
  mx: (list, host, tls) => `      MX: ${list}${host ? `; terhubung ke ${host}` : ''}${tls ? `, TLS: ${tls}` : ''}`,
  noAttempt: '    (belum ada percobaan)',
  actionResult: (mid, action, result) => (result === 'already' ? `${mid} memang sudah ${action === 'hold' ? 'ditahan' : 'dilepas'}; tidak ada yang berubah` : `${mid}: ${DONE_ID[result]}`),
  flushed: (ids) => `dicoba lagi sekarang: ${ids.join(', ')}`,
  nothingToFlush: (d) => `antrian ${d} kosong; tidak ada yang perlu dicoba lagi`,
  valid: (file) => `${file}: sah`,
  validDomain: (name, accounts, aliases, mx, backupFor) => `  ${name}: ${accounts} akun, ${aliases} alias, MX ${mx}${backupFor ? `; MX cadangan untuk ${backupFor}` : ''}`,
  validProfile: (name, timings) => `  profil antrian "${name}": ${timings}`,
  upHeader: ['layanan', 'alamat', 'jawaban'],
  isUp: (lab, mode, project, after, all) =>
    `lab ${lab} sudah berjalan (mode ${mode === 'local' ? 'tanpa Docker' : mode === 'swarm' ? `Docker Swarm, stack ${project}` : 'Docker'}): setiap layanan menjawab ${after} detik setelah mulai (${all} detik seluruhnya)`,
  emptyPassword: 'berikan kata sandi yang tidak kosong',
  nameScenario: 'sebutkan nama skenario (lihat `npx mail-lab scenario --list`) atau pakai --all',
  renderWhat: (what) => `render apa? yang dikenal hanya \`render compose\`, \`render swarm\` dan \`render k8s\` (bukan "${what}")`,
};

export const QUEUE_TEXT: Record<Lang, QueueText> = { en, id };
