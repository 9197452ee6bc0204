import { batchedLineSink, createLogger } from '../src/log';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

it('writes the lines of one event-loop turn in one chunk, in order, once the turn is over', async () => {
  const chunks: string[] = [];
  const log = createLogger(
    'info',
    { service: 's' },
    batchedLineSink((chunk) => chunks.push(chunk)),
  );
  log.info('first', { n: 1 });
  log.child({ requestId: 'r' }).warn('second');
  log.debug('below the level');
  expect(chunks).toEqual([]);
  await nextTurn();
  expect(chunks).toHaveLength(1);
  const lines = chunks[0].split('\n');
  expect(lines.pop()).toBe(''); // every line ends in a newline
  expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
    { level: 'info', msg: 'first', service: 's', n: 1 },
    { level: 'warn', msg: 'second', service: 's', requestId: 'r' },
  ]);
  log.info('third');
  await nextTurn();
  expect(chunks).toHaveLength(2);
  expect(JSON.parse(chunks[1])).toMatchObject({ msg: 'third' });
});

it('writes at once when the pending lines pass 64 KiB, and nothing twice', async () => {
  const chunks: string[] = [];
  const write = batchedLineSink((chunk) => chunks.push(chunk));
  const line = 'x'.repeat(1023); // 1 KiB with its newline
  for (let i = 0; i < 64; i++) write(line);
  expect(chunks).toEqual([]); // exactly 64 KiB: still pending
  write(line);
  expect(chunks).toHaveLength(1);
  expect(chunks[0].length).toBe(65 * 1024);
  await nextTurn();
  expect(chunks).toHaveLength(1); // the turn's flush found nothing left
});
