/**
 * Snapshot serializer that replaces CDK asset hashes (64 hex chars, as in
 * `asset.<hash>.zip` or `cdk-hnb659fds-assets-...`) with a fixed marker, so a
 * change to a Lambda's source does not churn every stack snapshot.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;

export const test = (value: unknown): boolean => typeof value === 'string' && /[0-9a-f]{64}/.test(value);
export const serialize = (value: string): string => JSON.stringify(value.replace(ASSET_HASH, '[ASSET HASH]'));
