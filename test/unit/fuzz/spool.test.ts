/**
 * Fuzzing the queue spool reader (services/mail-domain/src/queue/spool.ts):
 * whatever else lies in the spool directory (foreign or hand-made JSON, stray
 * bytes, temp files, messages without an envelope), `init` returns exactly
 * the entries the queue wrote, keeps their messages, and removes temp files
 * and unacknowledged messages.
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
        fc.uniqueArray(fc.stringMatching(/^[A-Z0-9]{4,10}$/), { maxLength: 3 }),
        fc.array(fc.tuple(fc.constantFrom('F1', 'F2', 'X', 'F1.x'), foreignJson, fc.boolean()), { maxLength: 3 }),
        fc.array(fc.constantFrom('ORPHAN.eml', 'a.json.tmp', 'b.eml.tmp', 'notes.txt'), { maxLength: 3 }),
        async (ids, foreign, others) => {
          const dir = mkdtempSync(join(tmpdir(), 'mail-lab-fuzz-spool-'));
          try {
            const spool = new Spool(dir);
            await spool.init();
            const good = ids.filter((id) => !['F1', 'F2', 'X'].includes(id));
            for (const [k, id] of good.entries()) await spool.add(entry(id, `2026-01-0${k + 1}T00:00:00.000Z`), Buffer.from('hi\n'));
            for (const [name, json, withEml] of foreign) {
              writeFileSync(join(dir, `${name}.json`), json);
              if (withEml) writeFileSync(join(dir, `${name}.eml`), 'x');
            }
            for (const f of others) writeFileSync(join(dir, f), 'x');

            const loaded = await new Spool(dir).init();
            assert.deepEqual(loaded.map((e) => e.id), good, 'exactly the queue entries, in arrival order');
            for (const id of good) assert.ok(existsSync(join(dir, `${id}.eml`)), `${id}.eml kept`);
            const left = readdirSync(dir);
            assert.ok(!left.some((f) => f.includes('.tmp')), 'temp files removed');
            assert.ok(!left.includes('ORPHAN.eml'), 'unacknowledged message removed');
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
    {
      numRuns: fuzzRuns(60, 1 / 20),
      examples: [
        // `null` in a .json file: entries.map((e) => e.id) threw TypeError and the queue (so the domain) did not start (fixed in spool.ts).
        [['M1'], [['F1', 'null', true]], []],
        // JSON that is no queue entry: queue.init read e.recipients of it and threw.
        [['M1'], [['F2', '{"id":"F2","arrival":"2026-01-01T00:00:00Z"}', false]], []],
      ],
    },
  );
}, 60_000);
