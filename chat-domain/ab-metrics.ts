/**
 * The A/B evaluation's metric contract: what the collector publishes and what the dashboard and
 * `npm run ab-report` read. One module, so the writer and the readers can never disagree on a
 * name, a unit or a dimension.
 *
 * Every metric carries `Environment` (the stack prefix, so development and production never mix)
 * and `Backend`; per-room counts add `Room` (the room's alias localpart, identical on both backends).
 */
export const AB_NAMESPACE = 'Phenom/AB';

/** The two implementations seed 001 compares before one is picked for production. */
export const AB_BACKENDS = ['matrix', 'hasura-lite'] as const;
export type AbBackend = (typeof AB_BACKENDS)[number];

export const AB_DIMENSIONS = { environment: 'Environment', backend: 'Backend', room: 'Room', tool: 'Tool' } as const;

/**
 * Metric names. Counts are published once per collector window with the window's start as the
 * timestamp, so a retried run writes the same value at the same time: readers take `Maximum` per
 * 5-minute period, which makes a duplicate harmless, and sum those.
 */
export const AB_METRICS = {
  /** Messages sent in the 5-minute window (Count). With `Room`, the same per room. */
  messagesSent: 'MessagesSent',
  /** Distinct local senders from 00:00 UTC to the end of the window (Count): a day's value is the day's Maximum. */
  distinctSendersToday: 'DistinctSendersToday',
  /** Rooms with at least one message from 00:00 UTC to the end of the window (Count): a day's value is the day's Maximum. */
  activeRoomsToday: 'ActiveRoomsToday',
  /** Latency of each message send the backend served (Milliseconds, raw values: percentiles are exact per period). */
  sendLatency: 'SendLatency',
  /** Send requests the backend served, one datum per request, and whether it failed: 1 or 0 (Count; Sum per window). */
  sendAttempts: 'SendAttempts',
  sendErrors: 'SendErrors',
  /** Latency of each MCP tool call, attributed to the backend the MCP server was deployed with (Milliseconds). */
  mcpToolLatency: 'McpToolLatency',
  /** MCP tool calls that failed on the server's side (internal_error), per call: 1 or 0 (Count; Average is the error rate). */
  mcpToolErrors: 'McpToolErrors',
  /** Link-preview resolution time per message with a link (Milliseconds; Hasura Lite only). */
  linkPreviewTime: 'LinkPreviewResolveTime',
} as const;

/** The collector's window, and the period every reader aligns to. */
export const AB_WINDOW_SECONDS = 300;
