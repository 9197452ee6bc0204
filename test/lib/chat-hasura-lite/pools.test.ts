import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasuraSourcePoolMax } from '../../../lib/chat-hasura-lite/pools';

function metadataDir(databasesYaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hasura-pools-'));
  mkdirSync(join(dir, 'databases'));
  writeFileSync(join(dir, 'databases', 'databases.yaml'), databasesYaml);
  return dir;
}

describe("Hasura's source pool", () => {
  test('is the default source’s pool_settings.max_connections', () => {
    expect(hasuraSourcePoolMax(metadataDir('- name: default\n  configuration:\n    connection_info:\n      pool_settings:\n        max_connections: 12\n'))).toBe(12);
  });

  test('metadata that leaves it out (Hasura would open 50 per task) is refused', () => {
    expect(() => hasuraSourcePoolMax(metadataDir('- name: default\n  configuration:\n    connection_info: {}\n'))).toThrow(
      /the default source needs configuration.connection_info.pool_settings.max_connections/,
    );
    expect(() => hasuraSourcePoolMax(metadataDir('- name: other\n'))).toThrow(/pool_settings.max_connections/);
    expect(() => hasuraSourcePoolMax(metadataDir('- name: default\n  configuration:\n    connection_info:\n      pool_settings:\n        max_connections: 0\n'))).toThrow(/a positive integer/);
  });
});
