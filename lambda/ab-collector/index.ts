import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { lazyPool } from '../shared/database';
import { createCollectorHandler } from './handler';

function env(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

// Read-only work on a schedule: one connection per database, and statements cut well inside the
// 5-minute period so a slow run never overlaps the next.
const poolLimits = { connectionTimeoutMillis: 5_000, statement_timeout: 20_000, query_timeout: 25_000 };
const database = (prefix: 'CHAT' | 'SYNAPSE') =>
  process.env[`${prefix}_DB_SECRET_ARN`]
    ? lazyPool(poolLimits, {
        DB_SECRET_ARN: process.env[`${prefix}_DB_SECRET_ARN`],
        DB_HOST: process.env[`${prefix}_DB_HOST`],
        DB_PORT: process.env[`${prefix}_DB_PORT`],
        DB_NAME: process.env[`${prefix}_DB_NAME`],
      })
    : undefined;

/** A/B collector: both backends' usage, every 5 minutes, as CloudWatch metrics (chat-domain/ab-metrics.ts). */
export const handler = createCollectorHandler({
  cloudWatch: new CloudWatchClient({ maxAttempts: 3 }),
  environment: env('AB_ENVIRONMENT'),
  matrixServerName: env('MATRIX_SERVER_NAME'),
  chatDb: database('CHAT'),
  synapseDb: database('SYNAPSE'),
  logger: new Logger(),
});
