import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { AB_LOG_SOURCES, abLogFilterName, AbLogSource, HASURA_SEND_OPERATION } from '../../../chat-domain/ab-log-sources';
import { HASURA_LOGGING_ENV } from '../../../lib/chat-hasura-lite/engine-logging';
import { AB_METRICS } from '../../../chat-domain/ab-metrics';
import { createLogMetricsHandler } from '../../../lambda/ab-log-metrics/handler';
import { fetchAbSeries } from '../../../scripts/ab-report/cloudwatch';
import { ChatError, type ChatBackend } from '../../../docker/mcp-server/src/backend/types';
import { createLogger } from '../../../docker/mcp-server/src/log';
import type { RequestContext } from '../../../docker/mcp-server/src/mcp/request-context';
import { callTool } from '../../../docker/mcp-server/src/mcp/server-factory';
import { TOOLS_BY_NAME } from '../../../docker/mcp-server/src/tools';
import { CloudWatchStandIn, startCloudWatchStandIn } from '../../support/aws/cloudwatch-stand-in';
import { matchesFilterPattern } from '../../support/aws/filter-pattern';
import { standInClients } from '../../support/aws/sdk-env';
import { HasuraError, hasuraHttpLogLine, hasuraLoggingSettings } from '../../support/hasura-http-log';

/** The lines the MCP server's real tool layer logs for one chat_list_rooms call whose backend answers as told. */
async function mcpLines(listRooms: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const log = createLogger('info', { service: 'phenom-chat-mcp', requestId: 'req-1' }, (line) => lines.push(line));
  const backend = { kind: 'postgres', listRooms } as unknown as ChatBackend;
  const rc: RequestContext = {
    requestId: 'req-1',
    principal: { clientId: 'c', subject: 'c', scopes: ['chat/read'], groups: [], expiresAt: Math.floor(Date.now() / 1000) + 60 },
    canModerate: false,
    log,
  };
  await callTool(TOOLS_BY_NAME.get('chat_list_rooms')!, {}, backend, rc);
  return lines;
}

const PERMISSION_ERROR = { path: '$.selectionSet.insert_chat_messages_one', error: 'check constraint of an insert permission has failed', code: 'permission-error' };

/** The http-log line graphql-engine writes, with the engine's log settings (lib/chat-hasura-lite/engine-logging.ts), for one request the MCP server's Hasura client sends (chat-clients/hasura-client.ts). */
function hasuraHttpLog(operationName: string, seconds: number, error?: HasuraError, env: Record<string, string> = HASURA_LOGGING_ENV): string {
  const body = {
    query: `mutation ${operationName}($object: chat_messages_insert_input!) { insert_chat_messages_one(object: $object) { id } }`,
    variables: { object: { room_id: 'r1', body: 'hello' } },
    operationName,
  };
  const request = { body, requestId: 'b6c5c1a0-0d7a-4e0c-9a3f-2f5b3c3a1e11', userVars: { 'x-hasura-role': 'user', 'x-hasura-user-id': 'u1' }, seconds };
  return hasuraHttpLogLine(hasuraLoggingSettings(env), request, error ? { error } : { responseSize: 105 })!;
}

/** Lambda's JSON-format platform.report record (Lambda developer guide, "Telemetry API Event schema"). */
function platformReport(durationMs: number): string {
  return JSON.stringify({
    time: '2026-11-14T12:01:03.000Z',
    type: 'platform.report',
    record: { requestId: '6f7f0961-2b4e-4a6e-9d0e-3b9f6c1e7d2a', metrics: { durationMs, billedDurationMs: Math.ceil(durationMs), memorySizeMB: 256, maxMemoryUsedMB: 91 }, status: 'success' },
  });
}

const matching = (source: AbLogSource, lines: string[]) => lines.filter((l) => matchesFilterPattern(source.filterPattern, l));

describe('the A/B log sources select the lines their systems really write', () => {
  it('MCP: every tool call line, ok, refused or crashed, and no other line', async () => {
    const lines = [
      ...(await mcpLines(async () => [])),
      ...(await mcpLines(() => Promise.reject(new ChatError('forbidden', 'no')))),
      ...(await mcpLines(() => Promise.reject(new TypeError('a bug')))),
      JSON.stringify({ time: '2026-11-14T12:00:00Z', level: 'info', msg: 'listening', port: 8080 }),
    ];
    const matched = matching(AB_LOG_SOURCES.mcpTools, lines).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(matched.map((l) => l.outcome)).toEqual(['ok', 'forbidden', 'internal_error']);
    const data = matched.flatMap((l) => AB_LOG_SOURCES.mcpTools.data(l));
    expect(data.filter((d) => d.metric === AB_METRICS.mcpToolErrors).map((d) => d.value)).toEqual([0, 0, 1]);
    expect(data.filter((d) => d.metric === AB_METRICS.mcpToolLatency).every((d) => d.dimensions?.Tool === 'chat_list_rooms' && d.value >= 0)).toBe(true);
  });

  it('Hasura: the send mutation only, succeeded or failed (a GraphQL error answers HTTP 200), its latency in ms', () => {
    const ok = hasuraHttpLog(HASURA_SEND_OPERATION, 0.009240042);
    const failed = hasuraHttpLog(HASURA_SEND_OPERATION, 0.000656, PERMISSION_ERROR);
    const others = [hasuraHttpLog('ListRooms', 0.002), hasuraHttpLog('ListRooms', 0.002, PERMISSION_ERROR)];
    const websocket = JSON.stringify({ type: 'websocket-log', level: 'info', detail: { event: { type: 'accepted' } } });
    expect(matching(AB_LOG_SOURCES.hasuraSend, [ok, failed, ...others, websocket, 'not json'])).toEqual([ok, failed]);
    expect(AB_LOG_SOURCES.hasuraSend.data(JSON.parse(ok) as Record<string, unknown>)).toEqual([
      { metric: AB_METRICS.sendAttempts, value: 1, unit: 'Count' },
      { metric: AB_METRICS.sendErrors, value: 0, unit: 'Count' },
      { metric: AB_METRICS.sendLatency, value: 9.24, unit: 'Milliseconds' },
    ]);
    expect(AB_LOG_SOURCES.hasuraSend.data(JSON.parse(failed) as Record<string, unknown>)).toEqual([
      { metric: AB_METRICS.sendAttempts, value: 1, unit: 'Count' },
      { metric: AB_METRICS.sendErrors, value: 1, unit: 'Count' },
      { metric: AB_METRICS.sendLatency, value: 0.656, unit: 'Milliseconds' },
    ]);
    // A line of another operation that reached the Lambda all the same is not counted.
    expect(AB_LOG_SOURCES.hasuraSend.data(JSON.parse(others[0]) as Record<string, unknown>)).toEqual([]);
  });

  it('Hasura: the engine names the operation of a successful request only with HTTP_LOG_QUERY_ONLY_ON_ERROR (or query-log)', () => {
    const withoutIt = { HASURA_GRAPHQL_ENABLED_LOG_TYPES: HASURA_LOGGING_ENV.HASURA_GRAPHQL_ENABLED_LOG_TYPES };
    const plain = [hasuraHttpLog(HASURA_SEND_OPERATION, 0.01, undefined, withoutIt), hasuraHttpLog(HASURA_SEND_OPERATION, 0.01, PERMISSION_ERROR, withoutIt)];
    expect(plain.map((l) => (JSON.parse(l) as { detail: { operation: { query: unknown } } }).detail.operation.query)).toEqual([{ type: null }, { type: null }]);
    expect(matching(AB_LOG_SOURCES.hasuraSend, plain)).toEqual([]);
    // A successful send's line names the operation and nothing else of the request; a failed one carries the body.
    const ok = JSON.parse(hasuraHttpLog(HASURA_SEND_OPERATION, 0.01)) as { detail: { operation: { query: unknown } } };
    expect(ok.detail.operation.query).toEqual({ operationName: HASURA_SEND_OPERATION });
    const queryLog = { HASURA_GRAPHQL_ENABLED_LOG_TYPES: 'http-log,query-log' };
    expect(matching(AB_LOG_SOURCES.hasuraSend, [hasuraHttpLog(HASURA_SEND_OPERATION, 0.01, undefined, queryLog)])).toHaveLength(1);
  });

  it('the Hasura log model refuses the settings the engine refuses at start', () => {
    expect(() => hasuraLoggingSettings({ HASURA_GRAPHQL_ENABLED_LOG_TYPES: 'http-log,sql-log' })).toThrow(/Valid list of comma-separated log types/);
    expect(() => hasuraLoggingSettings({ HASURA_GRAPHQL_HTTP_LOG_QUERY_ONLY_ON_ERROR: 'on' })).toThrow(/Not a valid boolean text/);
    expect(hasuraHttpLogLine(hasuraLoggingSettings({ HASURA_GRAPHQL_ENABLED_LOG_TYPES: 'startup' }), { requestId: 'r', seconds: 0.1 }, { responseSize: 1 })).toBeUndefined();
  });

  it('link preview: the Lambda report line, not the function’s own log lines', () => {
    const report = platformReport(123.45);
    const own = JSON.stringify({ level: 'INFO', message: 'link preview handled', service: 'phenom-development-link-preview', timestamp: '2026-11-14T12:01:03.000Z', status: 'resolved' });
    expect(matching(AB_LOG_SOURCES.linkPreview, [report, own])).toEqual([report]);
    expect(AB_LOG_SOURCES.linkPreview.data(JSON.parse(report) as Record<string, unknown>)).toEqual([{ metric: AB_METRICS.linkPreviewTime, value: 123.45, unit: 'Milliseconds' }]);
  });

  it('the matcher refuses what it cannot judge, so no pattern passes untested', () => {
    expect(() => matchesFilterPattern('{ $.a IS NULL }', '{}')).toThrow(/cannot read|expected/);
    expect(() => matchesFilterPattern('ERROR', '{}')).toThrow(/only JSON patterns/);
    expect(() => matchesFilterPattern('{ $.a >= "x" }', '{"a":"x"}')).toThrow(/needs a number/);
  });
});

describe('the ab-log-metrics Lambda, from a subscription delivery to what ab-report reads (CloudWatch stand-in)', () => {
  let cw: CloudWatchStandIn;
  beforeAll(async () => {
    cw = await startCloudWatchStandIn();
  });
  afterAll(() => cw.close());

  const delivery = (source: AbLogSource, messages: string[], timestamp: number): CloudWatchLogsEvent => ({
    awslogs: {
      data: gzipSync(
        JSON.stringify({
          messageType: 'DATA_MESSAGE',
          owner: '123456789012',
          logGroup: '/ecs/phenom-test-hasura',
          logStream: 'hasura/hasura/abc',
          subscriptionFilters: [abLogFilterName(source)],
          logEvents: messages.map((message, i) => ({ id: String(i), timestamp: timestamp + i, message })),
        }),
      ).toString('base64'),
    },
  });

  it('publishes every send, succeeded or failed and split across deliveries, so p50, requests and failures per day come out exact', async () => {
    const run = createLogMetricsHandler({ cloudWatch: standInClients(cw.url).cloudWatch, environment: 'phenom-logs', mcpBackend: 'hasura-lite' });
    const at = Date.parse('2026-11-14T12:01:00Z');
    const sends = [0.01, 0.02, 0.02, 0.03].map((s) => hasuraHttpLog(HASURA_SEND_OPERATION, s));
    const failure = hasuraHttpLog(HASURA_SEND_OPERATION, 0.04, { path: '$', error: 'database query error', code: 'unexpected' });
    // Each line is a whole request, so a request never straddles two deliveries and the split changes nothing.
    expect(await run(delivery(AB_LOG_SOURCES.hasuraSend, sends.slice(0, 3), at))).toEqual({ source: 'hasura-send', lines: 3, data: 3, malformed: 0, problems: [] });
    expect(await run(delivery(AB_LOG_SOURCES.hasuraSend, [sends[3], hasuraHttpLog('ListRooms', 5), failure], at + 10))).toMatchObject({ lines: 3, malformed: 0 });

    const series = await fetchAbSeries(standInClients(cw.url).cloudWatch, { environment: 'phenom-logs', days: 1, now: new Date('2026-11-15T03:00:00Z') });
    expect(series.sendP50['hasura-lite'].get('2026-11-14')).toBe(20);
    expect(series.sendSamples['hasura-lite'].get('2026-11-14')).toBe(5);
    expect(series.attempts['hasura-lite'].get('2026-11-14')).toBe(5);
    expect(series.errors['hasura-lite'].get('2026-11-14')).toBe(1);
    expect(series.sendP50.matrix.get('2026-11-14')).toBeUndefined();
  });

  it('publishes nothing for malformed lines, says which and why without their content, and still counts the rest', async () => {
    const run = createLogMetricsHandler({ cloudWatch: standInClients(cw.url).cloudWatch, environment: 'phenom-malformed', mcpBackend: 'hasura-lite' });
    const at = Date.parse('2026-11-14T13:01:00Z');
    const noTime = JSON.parse(hasuraHttpLog(HASURA_SEND_OPERATION, 0.02)) as { detail: { operation: Record<string, unknown> } };
    noTime.detail.operation.query_execution_time = 'soon';
    const lines = ['garbage', hasuraHttpLog(HASURA_SEND_OPERATION, 0.05), '[1]', JSON.stringify(noTime), hasuraHttpLog(HASURA_SEND_OPERATION, 0.07, PERMISSION_ERROR)];
    expect(await run(delivery(AB_LOG_SOURCES.hasuraSend, lines, at))).toEqual({
      source: 'hasura-send',
      lines: 5,
      data: 3,
      malformed: 3,
      problems: [
        { id: '0', reason: 'not JSON' },
        { id: '2', reason: 'not a JSON object' },
        { id: '3', reason: 'an http-log line of the send mutation without a number of seconds in detail.operation.query_execution_time' },
      ],
    });
    const series = await fetchAbSeries(standInClients(cw.url).cloudWatch, { environment: 'phenom-malformed', days: 1, now: new Date('2026-11-15T03:00:00Z') });
    expect(series.attempts['hasura-lite'].get('2026-11-14')).toBe(2);
    expect(series.errors['hasura-lite'].get('2026-11-14')).toBe(1);
    expect(series.sendSamples['hasura-lite'].get('2026-11-14')).toBe(2);
  });

  it('ignores the control message CloudWatch Logs sends a new destination, and refuses a filter it does not know', async () => {
    const run = createLogMetricsHandler({ cloudWatch: standInClients(cw.url).cloudWatch, environment: 'phenom-logs', mcpBackend: 'matrix' });
    const control = { awslogs: { data: gzipSync(JSON.stringify({ messageType: 'CONTROL_MESSAGE', logGroup: '', logStream: '', subscriptionFilters: [], logEvents: [] })).toString('base64') } };
    expect(await run(control)).toEqual({ source: 'control', lines: 0, data: 0, malformed: 0, problems: [] });
    const unknown = delivery({ ...AB_LOG_SOURCES.mcpTools, id: 'nobody' }, ['{}'], Date.now());
    await expect(run(unknown)).rejects.toThrow(/no A\/B log source is named by the subscription filters \["phenom-ab-nobody"\]/);
  });
});
