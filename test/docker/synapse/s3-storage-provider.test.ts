import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SYNAPSE_DIR = join(__dirname, '../../../docker/synapse');

type Range = { readonly min?: string; readonly below?: string };
interface Rule {
  readonly synapse: Range;
  readonly provider: Range;
  readonly why: string;
  readonly source: string;
}

const table = JSON.parse(readFileSync(join(SYNAPSE_DIR, 's3-storage-provider-compatibility.json'), 'utf8')) as { rules: Rule[] };
const dockerfile = readFileSync(join(SYNAPSE_DIR, 'Dockerfile'), 'utf8');

/** [major, minor, patch] of a plain release version such as 1.142.0 (or v1.142.0). */
function parseVersion(version: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`not a plain release version: ${version}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compare(a: string, b: string): number {
  const [x, y] = [parseVersion(a), parseVersion(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

const inRange = (version: string, range: Range): boolean => (range.min === undefined || compare(version, range.min) >= 0) && (range.below === undefined || compare(version, range.below) < 0);

/** The rules a (Synapse, provider) pair breaks: each one names its reason and its source. */
function violations(synapse: string, provider: string): Rule[] {
  return table.rules.filter((rule) => inRange(synapse, rule.synapse) && !inRange(provider, rule.provider));
}

function pins(text: string): { synapse: string; provider: string } {
  const synapse = /^FROM matrixdotorg\/synapse:(v\d+\.\d+\.\d+)\s*$/m.exec(text)?.[1];
  const provider = /^RUN pip install --no-cache-dir synapse-s3-storage-provider==(\d+\.\d+\.\d+)\s*$/m.exec(text)?.[1];
  if (!synapse || !provider) throw new Error('docker/synapse/Dockerfile must pin matrixdotorg/synapse:vX.Y.Z and synapse-s3-storage-provider==X.Y.Z');
  return { synapse, provider };
}

describe('synapse-s3-storage-provider against the pinned Synapse', () => {
  it('the Dockerfile pins a provider that every documented requirement of its Synapse version allows', () => {
    const { synapse, provider } = pins(dockerfile);
    expect(violations(synapse, provider).map((r) => `${r.why} (${r.source})`)).toEqual([]);
  });

  it('knows the pair that broke media: Synapse 1.142 with provider 1.5.0', () => {
    expect(violations('v1.142.0', '1.5.0').map((r) => r.synapse)).toEqual([{ min: '1.140.0' }]);
    expect(violations('v1.140.0', '1.5.0')).toHaveLength(1);
    expect(violations('v1.139.0', '1.5.0')).toEqual([]);
  });

  it('also refuses a provider newer than an old Synapse can load', () => {
    expect(violations('v1.139.0', '1.6.0').map((r) => r.synapse)).toEqual([{ below: '1.140.0' }]);
    expect(violations('v1.140.0', '1.6.0')).toEqual([]);
  });

  it('cites a source and a reason for every rule, and has well-formed ranges', () => {
    for (const rule of table.rules) {
      expect(rule.source).toMatch(/element-hq\/synapse|matrix-org\/synapse-s3-storage-provider/);
      expect(rule.why.length).toBeGreaterThan(40);
      for (const range of [rule.synapse, rule.provider]) {
        expect(range.min ?? range.below).toBeDefined();
        for (const v of [range.min, range.below]) if (v !== undefined) expect(() => parseVersion(v)).not.toThrow();
      }
    }
  });

  it('fails loudly when the Dockerfile stops pinning either version', () => {
    expect(() => pins(dockerfile.replace(/synapse-s3-storage-provider==\S+/, 'synapse-s3-storage-provider'))).toThrow(/must pin/);
    expect(() => pins(dockerfile.replace(/matrixdotorg\/synapse:\S+/, 'matrixdotorg/synapse:latest'))).toThrow(/must pin/);
  });

  it('keeps the table out of the image build context', () => {
    const allowed = readFileSync(join(SYNAPSE_DIR, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'));
    expect(allowed).not.toContain('!s3-storage-provider-compatibility.json');
  });
});
