/**
 * Fuzzing the queue spool reader (services/mail-domain/src/queue/spool.ts):
 * whatever else lies in the spool directory (foreign or hand-made JSON, stray
 * bytes, temp files, messages without an envelope, message files whose
 * first line is no envelope), `init` returns exactly the entries the queue
 * wrote, in this version's format or an earlier one's, keeps their messages,
 * and removes temp files, unacknowledged messages and the states of removed
 * ones.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Spool } from '../../../services/mail-domain/src/queue/spool';
import type { QueueEntry } from '../../../services/mail-domain/src/queue/types';
import { fuzzAsync, fuzzRuns, interestingBytes } from './fuzz-helpers';

const entry = (id: string, arrival: string): QueueEntry => ({
  id,
  from: 'jpri@dadali.com',
  arrival,
  size: 3,
  recipients: [{ address: 'mbrain@garudayaksa.com', local: false, status: 'pending', attempts: 0, nextAttempt: arrival }],
  warned: false,
  held: false,
  history: [],
});

const foreignJson = fc.oneof(
  fc.constantFrom('null', '[]', '1', '"x"', '{}', 'true', '{"id":"F1"}', '{"id":"F1","arrival":"2026-01-01T00:00:00Z"}', '{"id":"F1","from":"","arrival":"x","size":1,"recipients":[null],"history":[]}'),
  fc.json({ maxDepth: 2 }),
  interestingBytes(30).map((b) => b.toString('latin1')),
);

test('spool init skips whatever the queue did not write, keeps what it did', async () => {
  await fuzzAsync(
    'queue spool',
    () =>
      fc.asyncProperty(
        // The queue's own messages; `true`: written by an earlier version (`<id>.eml` and its `<id>.json`).
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[A-Z0-9]{4,10}$/), fc.boolean()), { maxLength: 3, selector: ([id]) => id }),
        fc.array(fc.tuple(fc.constantFrom('F1', 'F2', 'X', 'F1.x'), foreignJson, fc.constantFrom('json only', 'with .eml', 'as .msg')), { maxLength: 3 }),
        fc.array(fc.constantFrom('ORPHAN.eml', 'a.json.tmp', 'b.msg.tmp', 'notes.txt', 'LOST.json'), { maxLength: 3 }),
        async (ids, foreign, others) => {
          const dir = mkdtempSync(join(tmpdir(), 'mail-lab-fuzz-spool-'));
          try {
            const spool = new Spool(dir);
            await spool.init();
            const good = ids.filter(([id]) => !['F1', 'F2', 'X', 'LOST', 'ORPHAN'].includes(id));
            for (const [k, [id, legacy]] of good.entries()) {
              const e = entry(id, `2026-01-0${k + 1}T00:00:00.000Z`);
              if (legacy) {
                writeFileSync(join(dir, `${id}.eml`), 'hi\n');
                writeFileSync(join(dir, `${id}.json`), JSON.stringify(e, null, 1));
              } else await spool.add(e, Buffer.from('hi\n'));
            }
            for (const [name, json, kind] of foreign) {
              if (kind === 'as .msg') writeFileSync(join(dir, `${name}.msg`), `${json}\nx`);
              else writeFileSync(join(dir, `${name}.json`), json);
              if (kind === 'with .eml') writeFileSync(join(dir, `${name}.eml`), 'x');
            }
            for (const f of others) writeFileSync(join(dir, f), f === 'LOST.json' ? JSON.stringify(entry('LOST', '2026-01-01T00:00:00.000Z')) : 'x');

            const reader = new Spool(dir);
            const loaded = await reader.init();
            assert.deepEqual(loaded.map((e) => e.id), good.map(([id]) => id), 'exactly the queue entries, in arrival order');
            for (const [id, legacy] of good) {
              assert.ok(existsSync(join(dir, `${id}.${legacy ? 'eml' : 'msg'}`)), `${id}'s message kept`);
              assert.equal((await reader.read(id)).toString(), 'hi\n', `${id}'s message read back without its envelope`);
            }
            const left = readdirSync(dir);
            assert.ok(!left.some((f) => f.includes('.tmp')), 'temp files removed');
            assert.ok(!left.includes('ORPHAN.eml'), 'unacknowledged message removed');
            assert.ok(!left.includes('LOST.json'), 'a state whose message was removed is removed');
            for (const [name, , kind] of foreign) if (kind === 'as .msg') assert.ok(left.includes(`${name}.msg`), 'a message file the queue did not write is left alone');
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
    {
      numRuns: fuzzRuns(60, 1 / 20),
      examples: [
        // `null` in a .json file: entries.map((e) => e.id) threw TypeError and the queue (so the domain) did not start (fixed in spool.ts).
        [[['M1', false]], [['F1', 'null', 'with .eml']], []],
        // JSON that is no queue entry: queue.init read e.recipients of it and threw.
        [[['M1', true]], [['F2', '{"id":"F2","arrival":"2026-01-01T00:00:00Z"}', 'json only']], []],
      ],
    },
  );
}, 60_000);
