/**
 * The queue's wake-up plan (queue/wakeups.ts): what is due comes out
 * earliest first, a message planned again keeps only its new time, a
 * forgotten one never comes out, and stale entries do not pile up.
 */
import { Wakeups } from '../../../services/mail-domain/src/queue/wakeups';

test('due ids come out earliest first, each once, and are forgotten', () => {
  const w = new Wakeups();
  w.set('c', 30);
  w.set('a', 10);
  w.set('b', 20);
  expect(w.next()).toBe(10);
  expect(w.due(5)).toEqual([]);
  expect(w.due(20)).toEqual(['a', 'b']);
  expect(w.due(20)).toEqual([]);
  expect(w.next()).toBe(30);
  expect(w.size).toBe(1);
});

test('planned again: only the new time counts; forgotten: never due', () => {
  const w = new Wakeups();
  w.set('a', 10);
  w.set('b', 15);
  w.set('a', 50);
  w.set('b', null);
  expect(w.next()).toBe(50);
  expect(w.due(40)).toEqual([]);
  expect(w.due(50)).toEqual(['a']);
  expect(w.next()).toBeNull();
});

test('many messages planned many times: same order as a sort, and the heap stays bounded', () => {
  const w = new Wakeups();
  const want = new Map<string, number>();
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 10_000; i++) {
      const t = Math.floor(rand() * 1e6);
      w.set(`m${i}`, t);
      want.set(`m${i}`, t);
    }
  }
  expect((w as unknown as { heap: unknown[] }).heap.length).toBeLessThanOrEqual(2 * 10_000 + 1);
  const order = w.due(Infinity);
  expect(order).toHaveLength(10_000);
  const times = order.map((id) => want.get(id)!);
  expect(times).toEqual([...times].sort((x, y) => x - y));
});
