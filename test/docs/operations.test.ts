import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DNS_RECORD_OUTPUTS } from '../../lib/dns-records';
import { stackTemplate } from '../support/synth';

const ROOT = join(__dirname, '..', '..');
const runbook = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/**
 * Every stack-output key the runbook names: `out KEY` (its describe-stacks helper),
 * `OutputKey=='KEY'`, the keys a `for s in …; do … out $s` loop reads, and the first column of
 * its output table, where `<Name>FunctionName` stands for each `<Name>` the row lists.
 */
function runbookOutputKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const m of text.matchAll(/\bout\s+([A-Z][A-Za-z0-9]+)/g)) keys.add(m[1]);
  for (const m of text.matchAll(/OutputKey=='([A-Z][A-Za-z0-9]+)'/g)) keys.add(m[1]);
  for (const m of text.matchAll(/for (\w+) in ([A-Z][A-Za-z0-9]+(?: [A-Z][A-Za-z0-9]+)*); do .*\bout \$\1\b/g)) {
    for (const k of m[2].split(' ')) keys.add(k);
  }
  const table = text.split('| output key | what it is |')[1]?.split('\n\n')[0] ?? '';
  for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
    const [first, rest] = row.slice(1).split(' | ');
    const names = [...rest.matchAll(/`([A-Z][A-Za-z0-9]+)`/g)].map((n) => n[1]);
    for (const k of first.matchAll(/`([^`]+)`/g)) {
      if (k[1].includes('<Name>')) for (const n of names) keys.add(k[1].replace('<Name>', n));
      else keys.add(k[1]);
    }
  }
  return keys;
}

const outputsOf = (env: 'development' | 'production') => new Set(Object.keys(stackTemplate(env).toJSON().Outputs ?? {}));

describe('docs/operations.md', () => {
  it('names only stack outputs that exist, with the exact key the describe-stacks helper needs', () => {
    const keys = runbookOutputKeys(runbook);
    // The parser finds the runbook's keys (a broken parser would make the next assertion vacuous).
    expect(keys.size).toBeGreaterThan(40);
    expect([...keys]).toEqual(expect.arrayContaining(['ChatUrl', 'AdminBotUserId', 'SynapseHistoryPurgeFunctionLogGroupName', 'DnsCnameRecord']));
    const existing = new Set([...outputsOf('development'), ...outputsOf('production')]);
    expect([...keys].filter((k) => !existing.has(k))).toEqual([]);
  });

  it('keeps every output key readable: no construct-path hash', () => {
    for (const env of ['development', 'production'] as const) {
      expect([...outputsOf(env)].filter((k) => /[0-9A-F]{8}$/.test(k))).toEqual([]);
    }
  });

  it('lists every output of the production stack in its output table', () => {
    const keys = runbookOutputKeys(runbook);
    // Outputs that only the runbook's other sections or the README explain.
    const listedElsewhere = new Set(['HasuraMetadataApplyProperties']);
    expect([...outputsOf('production')].filter((k) => !keys.has(k) && !listedElsewhere.has(k))).toEqual([]);
  });
});

describe('README.md', () => {
  it('names only stack outputs that exist', () => {
    const keys = [...readme.matchAll(/`([A-Z][A-Za-z0-9]+)` stack output/g)].map((m) => m[1]);
    expect(keys).toContain('LoadBalancerDnsName');
    const existing = outputsOf('development');
    expect(keys.filter((k) => !existing.has(k))).toEqual([]);
  });
});

describe('the DNS record outputs', () => {
  it('print the CNAME to create, and in production the apex delegation file', () => {
    for (const env of ['development', 'production'] as const) {
      const outputs = stackTemplate(env).toJSON().Outputs as Record<string, { Value: unknown }>;
      const domain = env === 'production' ? 'chat.thephenom.app' : 'chat-testing.thephenom.app';
      expect(outputs[DNS_RECORD_OUTPUTS.cname].Value).toEqual({
        'Fn::Join': ['', [`${domain} CNAME `, { 'Fn::GetAtt': [expect.stringMatching(/^PlatformLoadBalancerAlb/), 'DNSName'] }]],
      });
    }
    const prod = stackTemplate('production').toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(prod[DNS_RECORD_OUTPUTS.wellKnownUrl].Value).toBe('https://thephenom.app/.well-known/matrix/server');
    expect(JSON.parse(prod[DNS_RECORD_OUTPUTS.wellKnownBody].Value as string)).toEqual({ 'm.server': 'chat.thephenom.app:443' });
    // Development's server name is its domain: Synapse serves the file itself, nobody adds one.
    const dev = stackTemplate('development').toJSON().Outputs as Record<string, unknown>;
    expect(dev[DNS_RECORD_OUTPUTS.wellKnownUrl]).toBeUndefined();
  });
});
