import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HASURA_METADATA_DIR, metadataContentHash } from '../../../lib/chat-hasura-lite/metadata';

describe('metadataContentHash', () => {
  let copy: string;
  beforeEach(() => {
    copy = mkdtempSync(join(tmpdir(), 'hasura-hash-'));
    cpSync(HASURA_METADATA_DIR, copy, { recursive: true });
  });
  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  it('depends on the content only, not on where the directory is', () => {
    expect(metadataContentHash(copy)).toBe(metadataContentHash(HASURA_METADATA_DIR));
    expect(metadataContentHash()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when a permission changes, so the custom resource runs again', () => {
    const before = metadataContentHash(copy);
    const file = join(copy, 'databases/default/tables/public_chat_rooms.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n# edited\n`);
    expect(metadataContentHash(copy)).not.toBe(before);
  });

  it('changes when a file is added or renamed', () => {
    const before = metadataContentHash(copy);
    writeFileSync(join(copy, 'databases/default/tables/public_extra.yaml'), 'table:\n  name: extra\n  schema: public\n');
    expect(metadataContentHash(copy)).not.toBe(before);
  });
});
