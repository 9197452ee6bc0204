import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { AB_BACKENDS, AbBackend } from '../../chat-domain/ab-metrics';
import { createLogMetricsHandler } from './handler';

function env(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

const mcpBackend = env('AB_MCP_BACKEND');
if (!(AB_BACKENDS as readonly string[]).includes(mcpBackend)) throw new Error(`AB_MCP_BACKEND must be one of ${AB_BACKENDS.join(', ')}, got ${mcpBackend}`);

const logger = new Logger();
const run = createLogMetricsHandler({ cloudWatch: new CloudWatchClient({ maxAttempts: 3 }), environment: env('AB_ENVIRONMENT'), mcpBackend: mcpBackend as AbBackend });

/** CloudWatch Logs subscription target: the A/B latency and error figures of chat-domain/ab-log-sources.ts. */
export async function handler(event: CloudWatchLogsEvent) {
  const result = await run(event);
  if (result.malformed > 0) logger.warn('matched log lines without the fields their source always writes were not counted: has a log format changed?', { ...result });
  return result;
}
