import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini keeps the bundle small (the classic API adds ~400 KB); the English
// locale restores readable messages for the 400 answers.
z.config(en());

/** The table whose INSERTs carry Phenom links (seed 000). */
export const CHAT_MESSAGES_TABLE = { schema: 'public', name: 'chat_messages' } as const;
/** Phenom ids end up in a URL path and a unique key; longer ones are not ids. */
export const MAX_PHENOM_ID_LENGTH = 200;

/** A request that cannot be a Hasura event: answered with 400 and never retried into success. */
export class InvalidPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

const nonEmpty = z.string().check(z.minLength(1));

/**
 * A Hasura v2 event-trigger payload, as documented in "Event Trigger Payload"
 * (hasura.io/docs/latest/event-triggers/payload). Unknown keys (session_variables,
 * trace_context, created_at) are allowed: Hasura adds fields over versions.
 */
const hasuraEventSchema = z.object({
  id: nonEmpty,
  trigger: z.object({ name: nonEmpty }),
  table: z.object({ schema: nonEmpty, name: nonEmpty }),
  event: z.object({
    op: z.enum(['INSERT', 'UPDATE', 'DELETE', 'MANUAL']),
    data: z.object({
      old: z.nullish(z.record(z.string(), z.unknown())),
      new: z.nullish(z.record(z.string(), z.unknown())),
    }),
  }),
  delivery_info: z.optional(z.object({ current_retry: z.number(), max_retries: z.number() })),
});

/** The chat_messages columns this Lambda reads from `event.data.new`. */
const insertedMessageSchema = z.object({
  id: z.optional(z.string()),
  message_type: nonEmpty,
  phenom_id: z.nullish(z.string()),
});

export type LinkPreviewRequest =
  | { readonly action: 'resolve'; readonly eventId: string; readonly messageId?: string; readonly phenomId: string; readonly currentRetry: number }
  | { readonly action: 'ignore'; readonly eventId: string; readonly reason: string };

function describeIssues(error: z.core.$ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`).join('; ');
}

function decodeBody(body: string | undefined, isBase64Encoded: boolean): unknown {
  if (body === undefined || body === '') throw new InvalidPayloadError('the request has no body; expected a Hasura event trigger payload (JSON)');
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidPayloadError('the request body is not valid JSON');
  }
}

/**
 * Reads a function-URL request body as a Hasura event. Anything that is not an
 * INSERT of a `phenom_link` chat message is `ignore` (2xx, no work); a body that
 * is not a well-formed Hasura event, or a phenom_link INSERT without a usable
 * phenom_id, throws InvalidPayloadError (400).
 */
export function parseLinkPreviewRequest(body: string | undefined, isBase64Encoded = false): LinkPreviewRequest {
  const parsed = hasuraEventSchema.safeParse(decodeBody(body, isBase64Encoded));
  if (!parsed.success) throw new InvalidPayloadError(`not a Hasura event trigger payload: ${describeIssues(parsed.error)}`);
  const { id: eventId, table, event } = parsed.data;

  if (table.schema !== CHAT_MESSAGES_TABLE.schema || table.name !== CHAT_MESSAGES_TABLE.name) {
    return { action: 'ignore', eventId, reason: `events on ${table.schema}.${table.name} are not link previews` };
  }
  if (event.op !== 'INSERT') return { action: 'ignore', eventId, reason: `${event.op} events are not link previews; only INSERTs are` };
  if (!event.data.new) throw new InvalidPayloadError('event.data.new: an INSERT event must carry the inserted row');

  const row = insertedMessageSchema.safeParse(event.data.new);
  if (!row.success) throw new InvalidPayloadError(`event.data.new is not a chat message: ${describeIssues(row.error)}`);
  const message = row.data;
  if (message.message_type !== 'phenom_link') {
    return { action: 'ignore', eventId, reason: `a ${message.message_type} message has no link preview` };
  }

  const phenomId = message.phenom_id?.trim();
  if (!phenomId) throw new InvalidPayloadError('event.data.new.phenom_id: a phenom_link message must have a phenom_id');
  if (phenomId.length > MAX_PHENOM_ID_LENGTH || /[\s\p{Cc}]/u.test(phenomId)) {
    throw new InvalidPayloadError(`event.data.new.phenom_id: expected an id of at most ${MAX_PHENOM_ID_LENGTH} characters without spaces or control characters`);
  }
  return { action: 'resolve', eventId, messageId: message.id, phenomId, currentRetry: parsed.data.delivery_info?.current_retry ?? 0 };
}
