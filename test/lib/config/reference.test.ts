import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEY_DOCS, configKeyRows, withConfigReference } from '../../../lib/config/reference';

describe('the configuration reference', () => {
  const rows = configKeyRows();

  it('documents every key of the schema, and nothing the schema lacks', () => {
    const keys = rows.map((r) => r.key);
    expect(keys.filter((k) => !(k in CONFIG_KEY_DOCS))).toEqual([]);
    expect(Object.keys(CONFIG_KEY_DOCS).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('takes bounds, allowed values and defaults from the schema', () => {
    const row = (key: string) => rows.find((r) => r.key === key)!;
    expect(row('synapse.adminApiAllowedCidrs').type).toBe('list of string (at most 24)');
    expect(row('database.backupRetentionDays').type).toBe('whole number 1–35');
    expect(row('mcp.backendType').type).toBe('one of `hasura`, `synapse`, `postgres`');
    expect(row('database.instanceClass').modes).toEqual(['create']);
    expect(row('database.engineVersion').modes).toEqual(['create', 'import']);
    expect(row('domainName').required).toBe(true);
  });

  it('is what README.md shows (npm run docs:config rewrites it)', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    expect(withConfigReference(readme)).toBe(readme);
    expect(readme).toContain('| `hasura.image` | create | string | `hasura/graphql-engine:v2.48.5` |');
  });
});
