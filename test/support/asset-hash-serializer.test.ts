import { sqlContentHash } from '../../lib/chat-hasura-lite/migrations';
import { metadataContentHash } from '../../lib/chat-hasura-lite/metadata';
import { serialize } from './asset-hash-serializer';

describe('the snapshot serializer', () => {
  it('scrubs asset hashes, so a Lambda source change does not churn snapshots', () => {
    expect(serialize(`${'ab'.repeat(32)}.zip`)).toBe('"[ASSET HASH].zip"');
  });

  it('keeps the sql/ and hasura-metadata/ hashes that make those deploy steps run again', () => {
    expect(serialize(sqlContentHash())).toBe(JSON.stringify(sqlContentHash()));
    expect(serialize(`{"MetadataHash":"${metadataContentHash()}"}`)).toContain(metadataContentHash());
  });
});
