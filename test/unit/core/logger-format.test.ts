/** The text log line as the class reads it in `docker logs`: time, level, component, message, then key=value fields in order. */
import { createLogger } from '../../../services/core/src/logger';

const at = () => new Date(Date.UTC(2026, 11, 3, 8, 0, 0));

function linesOf(use: (log: ReturnType<typeof createLogger>) => void, format: 'text' | 'json' = 'text'): string[] {
  const lines: string[] = [];
  use(createLogger({ level: 'debug', format, write: (l) => lines.push(l), now: at }));
  return lines;
}

test('fields of the child first, then the line’s own; a value with a space or a quote is JSON, an Error its message', () => {
  const lines = linesOf((log) => {
    const q = log.child('queue', { id: 'Q1', peer: '172.29.25.20' });
    q.debug('S: 250 2.0.0 Ok', { cid: 'c1' });
    q.info('deferred', { to: 'jpri@dadali.com', error: 'connection timed out', n: 3, skipped: undefined });
    q.error('failed', { e: new Error('bad "x"') });
    log.warn('plain');
  });
  expect(lines).toEqual([
    '2026-12-03T08:00:00.000Z debug queue S: 250 2.0.0 Ok id=Q1 peer=172.29.25.20 cid=c1',
    '2026-12-03T08:00:00.000Z info  queue deferred id=Q1 peer=172.29.25.20 to=jpri@dadali.com error="connection timed out" n=3',
    '2026-12-03T08:00:00.000Z error queue failed id=Q1 peer=172.29.25.20 e="bad \\"x\\""',
    '2026-12-03T08:00:00.000Z warn  lab plain',
  ]);
});

test('a field given again replaces the child’s in its place; undefined removes it', () => {
  const lines = linesOf((log) => {
    const c = log.child('smtp', { id: 'Q1', peer: 'a' });
    c.info('x', { peer: 'b', cid: 'c' });
    c.info('y', { id: undefined });
  });
  expect(lines).toEqual(['2026-12-03T08:00:00.000Z info  smtp x id=Q1 peer=b cid=c', '2026-12-03T08:00:00.000Z info  smtp y peer=a']);
});

test('below the level nothing is written; json has the same fields', () => {
  const lines: string[] = [];
  createLogger({ level: 'info', write: (l) => lines.push(l), now: at }).child('smtp').debug('C: EHLO x');
  expect(lines).toEqual([]);
  const json = linesOf((log) => log.child('smtp', { id: 'Q1' }).info('x', { cid: 'c' }), 'json');
  expect(JSON.parse(json[0])).toEqual({ time: '2026-12-03T08:00:00.000Z', level: 'info', component: 'smtp', msg: 'x', id: 'Q1', cid: 'c' });
});
