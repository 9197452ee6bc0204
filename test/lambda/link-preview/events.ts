import { randomUUID } from 'node:crypto';
import type { LambdaFunctionURLEvent } from 'aws-lambda';

/**
 * A Lambda function URL request in payload format 2.0, as the AWS docs show it
 * ("Invoking Lambda function URLs", request payload): header names lower-case,
 * body a string, base64 when `isBase64Encoded`.
 */
export function functionUrlEvent(options: { body?: string; headers?: Record<string, string>; method?: string; isBase64Encoded?: boolean }): LambdaFunctionURLEvent {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws',
      'user-agent': 'hasura-graphql-engine/v2.48.5',
      'x-amzn-trace-id': 'Root=1-5f84c7a9-0e5b1e1d1e1d1e1d1e1d1e1d',
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...options.headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: { method: options.method ?? 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'hasura-graphql-engine/v2.48.5' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: options.body,
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

/**
 * A Hasura v2 event-trigger payload ("Event Trigger Payload" in the Hasura docs),
 * for a row of public.chat_messages. `row` is what Hasura puts in data.new: the
 * row as `row_to_json` renders it.
 */
export function hasuraEvent(options: {
  op?: string;
  row?: Record<string, unknown> | null;
  old?: Record<string, unknown> | null;
  table?: { schema: string; name: string };
  currentRetry?: number;
  maxRetries?: number;
}): Record<string, unknown> {
  return {
    event: {
      session_variables: { 'x-hasura-role': 'user', 'x-hasura-user-id': 'alice' },
      op: options.op ?? 'INSERT',
      data: { old: options.old ?? null, new: options.row === undefined ? null : options.row },
      trace_context: { trace_id: '1c5b5b6d3f1f2f3a', span_id: '8d2f3a4b5c6d7e8f' },
    },
    created_at: new Date().toISOString(),
    id: randomUUID(),
    delivery_info: { max_retries: options.maxRetries ?? 5, current_retry: options.currentRetry ?? 0 },
    trigger: { name: 'chat_message_link_preview' },
    table: options.table ?? { schema: 'public', name: 'chat_messages' },
  };
}
