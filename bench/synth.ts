/**
 * `npm run bench:synth [-- --runs N --env NAME]`: wall time of `cdk synth` for one
 * environment, as a platform engineer runs it, median of N runs.
 * Goal (issue 2): under 10 s on the 2-core build machine.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, env: { type: 'string', default: 'development' } } });
const runs = Number(values.runs);
const root = join(__dirname, '..');
const cdk = join(root, 'node_modules', '.bin', 'cdk');

const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const out = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  const start = process.hrtime.bigint();
  const r = spawnSync(cdk, ['synth', '-q', '-c', `env=${values.env}`, '--output', out], { cwd: root, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  times.push(ms);
  console.log(`run ${i + 1}/${runs}: ${(ms / 1000).toFixed(2)} s`);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
console.log(
  `cdk synth -c env=${values.env}: median ${(median / 1000).toFixed(2)} s over ${runs} runs (min ${(sorted[0] / 1000).toFixed(2)} s, max ${(sorted[sorted.length - 1] / 1000).toFixed(2)} s); goal < 10 s`,
);
