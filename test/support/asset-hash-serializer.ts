import { metadataContentHash } from '../../lib/chat-hasura-lite/metadata';
import { sqlContentHash } from '../../lib/chat-hasura-lite/migrations';

/**
 * Snapshot serializer that replaces CDK asset hashes (64 hex chars, as in
 * `asset.<hash>.zip` or `cdk-hnb659fds-assets-...`) with a fixed marker, so a
 * change to a Lambda's source does not churn every stack snapshot.
 *
 * The content hashes of sql/ and hasura-metadata/ stay visible: they are what makes the
 * migrations and metadata steps run again on a deploy, so a snapshot diff must show them change.
 */
const HASH = /[0-9a-f]{64}/g;
const VISIBLE = new Set([sqlContentHash(), metadataContentHash()]);

export const test = (value: unknown): boolean => typeof value === 'string' && /[0-9a-f]{64}/.test(value);
export const serialize = (value: string): string => JSON.stringify(value.replace(HASH, (h) => (VISIBLE.has(h) ? h : '[ASSET HASH]')));
