import { z } from 'zod';
import { MAX_MESSAGE_CHARS } from '../backend/content';
import type { ChatBackend, Ban, Member, Message, Room } from '../backend/types';
import type { Principal } from '../auth/verifier';

/** What a tool needs from the caller's token: read tools need the read scope, the rest moderate. */
export type ToolAccess = 'read' | 'moderate';

export interface ToolContext {
  backend: ChatBackend;
  principal: Principal;
  /** Whether the caller may moderate (moderate scope or a moderator group). */
  canModerate: boolean;
}

export interface ToolOutput<T> {
  structured: T;
  /**
   * One summary line, made only of values the server controls (counts, fixed sentences): the tool
   * layer appends the JSON of `structured` (mcp/render.ts), which is where user-controlled strings go.
   */
  text: string;
  /** For a paged tool: how many items this page holds (shrink() scales from it, not from limit). */
  count?: number;
}

/** One MCP tool: its schemas and metadata for tools/list, and the logic behind tools/call. */
export interface ChatTool<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  name: string;
  title: string;
  description: string;
  access: ToolAccess;
  inputSchema: I;
  outputSchema: O;
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
  /** Whether these (raw, unvalidated) arguments need the moderate scope even for a read tool. */
  needsModeration?(rawArgs: unknown): boolean;
  /**
   * For a paged read tool: the same call asking for fewer items, when its result of `count` items
   * came out 1/`fraction` times the result budget (mcp/server-factory.ts); undefined when it cannot
   * ask for less. Tools without it answer an oversized result with an error.
   */
  shrink?(args: z.infer<I>, fraction: number, count: number): z.infer<I> | undefined;
  run(args: z.infer<I>, ctx: ToolContext): Promise<ToolOutput<z.infer<O>>>;
}

export function defineTool<I extends z.ZodType, O extends z.ZodType>(tool: ChatTool<I, O>): ChatTool<I, O> {
  return tool;
}

// ---- input fields shared by several tools (descriptions are written for the model) ----

/** C0 controls and DEL. No id the chat tools hand out contains one, and PostgreSQL cannot store NUL at all. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * An id or token argument: 1 to `max` characters and no control characters, so a NUL byte or a line
 * break is an invalid argument with a sentence, not a database error or a forged line in the output.
 */
export const idField = (name: string, max = 255) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL_CHARACTER.test(s), `${name} must not contain control characters (such as NUL or a line break); pass it exactly as the chat tools returned it`);

/** Free text (message content, ban reasons) may hold line breaks and tabs, but not NUL, which PostgreSQL cannot store. */
export const withoutNul = (schema: z.ZodString, name: string) => schema.refine((s) => !s.includes('\u0000'), `${name} must not contain NUL (U+0000) characters; remove them`);

export const roomIdField = idField('room_id').describe('The room id, exactly as chat_list_rooms returns it (not the room name).');

export const userIdField = idField('user_id').describe('The user id, exactly as chat_list_members or chat_get_messages (sender.id) returns it.');

/** A page's size: `max` at most, `fallback` when left out. */
export const limitField = (what: string, fallback: number, max: number) =>
  z.number().int().min(1).max(max).default(fallback).describe(`How many ${what} to return, 1 to ${max} (default ${fallback}).`);

/**
 * `shrink` for a tool whose page size is `limit`: scale the items the page held to 10 % under the
 * budget, always at least one fewer, never below 1. A page of one always fits: every string in an
 * item is capped (see cap()).
 */
export function shrinkLimit<A extends { limit: number }>(args: A, fraction: number, count: number): A | undefined {
  const held = Math.min(args.limit, count);
  if (held <= 1) return undefined;
  return { ...args, limit: Math.max(1, Math.min(held - 1, Math.floor(held * fraction * 0.9))) };
}

export const minutesField = z.number().int().min(1).max(525_600).describe('How long it lasts, in minutes (1 to 525600, one year). Leave it out for no end.');

// ---- output shapes (snake_case, as agents see them) ----

/**
 * Longest strings an item carries, in characters. Row limits bound how many items a result holds;
 * these bound each item, for the texts no input check bounds: display names and preview texts
 * come from other systems (the Phenom users table and API, Matrix profiles), and a Matrix message
 * from another client may be longer than our 4000. With them, a one-item page always fits the
 * result budget. A cut string ends in "…".
 */
export const CAPS = {
  displayName: 256,
  roomName: 255,
  roomDescription: 1000,
  content: MAX_MESSAGE_CHARS,
  reason: 1000,
  previewTitle: 300,
  previewDescription: 1000,
  url: 2048,
  mediaType: 100,
} as const;

export function cap(value: string, max: number): string;
export function cap(value: string | null, max: number): string | null;
export function cap(value: string | null, max: number): string | null {
  if (value === null || value.length <= max) return value; // UTF-16 length ≥ characters: nothing to cut
  const chars = [...value];
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('')}…`;
}

export const RoomOut = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  is_active: z.boolean(),
  member_count: z.number().int(),
});

export const LinkPreviewOut = z.object({
  phenom_id: z.string(),
  url: z.string(),
  title: z.string().nullable(),
  description: z.string().nullable(),
  thumbnail_url: z.string().nullable(),
  media_type: z.string().nullable(),
});

export const MessageOut = z.object({
  id: z.string(),
  room_id: z.string(),
  sender: z.object({ id: z.string(), display_name: z.string().nullable() }),
  content: z.string(),
  message_type: z.enum(['text', 'phenom_link']),
  phenom_id: z.string().nullable(),
  is_deleted: z.boolean(),
  created_at: z.string(),
  link_preview: LinkPreviewOut.nullable(),
});

export const MemberOut = z.object({
  user_id: z.string(),
  display_name: z.string().nullable(),
  role: z.enum(['user', 'support', 'admin']),
  is_muted: z.boolean(),
  muted_until: z.string().nullable(),
  joined_at: z.string(),
});

export const BanOut = z.object({
  id: z.string(),
  room_id: z.string(),
  user_id: z.string(),
  banned_by: z.string(),
  reason: z.string().nullable(),
  banned_at: z.string(),
  expires_at: z.string().nullable(),
});

export const roomOut = (r: Room): z.infer<typeof RoomOut> => ({
  id: r.id,
  name: cap(r.name, CAPS.roomName),
  description: cap(r.description, CAPS.roomDescription),
  is_active: r.isActive,
  member_count: r.memberCount,
});

export const messageOut = (m: Message): z.infer<typeof MessageOut> => ({
  id: m.id,
  room_id: m.roomId,
  sender: { id: m.sender.id, display_name: cap(m.sender.displayName, CAPS.displayName) },
  content: cap(m.content, CAPS.content),
  message_type: m.messageType,
  phenom_id: m.phenomId,
  is_deleted: m.isDeleted,
  created_at: m.createdAt,
  link_preview: m.linkPreview && {
    phenom_id: m.linkPreview.phenomId,
    url: cap(m.linkPreview.url, CAPS.url),
    title: cap(m.linkPreview.title, CAPS.previewTitle),
    description: cap(m.linkPreview.description, CAPS.previewDescription),
    thumbnail_url: cap(m.linkPreview.thumbnailUrl, CAPS.url),
    media_type: cap(m.linkPreview.mediaType, CAPS.mediaType),
  },
});

export const memberOut = (m: Member): z.infer<typeof MemberOut> => ({
  user_id: m.userId,
  display_name: cap(m.displayName, CAPS.displayName),
  role: m.role,
  is_muted: m.isMuted,
  muted_until: m.mutedUntil,
  joined_at: m.joinedAt,
});

export const banOut = (b: Ban): z.infer<typeof BanOut> => ({
  id: b.id,
  room_id: b.roomId,
  user_id: b.userId,
  banned_by: b.bannedBy,
  reason: cap(b.reason, CAPS.reason),
  banned_at: b.bannedAt,
  expires_at: b.expiresAt,
});
