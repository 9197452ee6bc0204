/**
 * The chat rooms (contract C2): the one definition every part reads.
 * - Hasura Lite: sql/001-chat-schema.sql seeds chat_rooms with these names and descriptions
 *   (an applied migration cannot import TypeScript, so test/chat-domain/rooms.test.ts holds
 *   the migrated rows to this list);
 * - Synapse: lambda/synapse-bootstrap creates one room per entry, `#<alias>:<server>`, with the
 *   description as its topic;
 * - groups.ts grants rooms by these names, and the membership reconciler finds them by alias (Matrix)
 *   and by name (chat_rooms.name is unique, sql/006).
 * Pure data with no CDK imports, so Lambdas bundle it.
 *
 * The descriptions are the ones sql/001 seeded (already in every deployed chat_rooms table);
 * the bootstrap puts them on the Matrix rooms as topics, replacing its older, shorter ones.
 */
export const CHAT_ROOM_DEFINITIONS = [
  { key: 'internal', alias: 'internal', name: 'Phenom Internal', description: 'Internal conversations for the Phenom team.' },
  { key: 'partners', alias: 'partners', name: 'Phenom Partners', description: 'Collaboration space for Phenom and its partners.' },
  { key: 'community', alias: 'community', name: 'Phenom Community', description: 'Open room for everyone in the Phenom community.' },
] as const satisfies readonly ChatRoomDefinition[];

export interface ChatRoomDefinition {
  /** A stable key for code (CHAT_ROOMS.internal). */
  readonly key: string;
  /** The Matrix alias localpart: `internal` is `#internal:<matrix server name>`. */
  readonly alias: string;
  /** chat_rooms.name and the Matrix m.room.name; unique. */
  readonly name: string;
  /** chat_rooms.description and the Matrix m.room.topic. */
  readonly description: string;
}

type Definitions = typeof CHAT_ROOM_DEFINITIONS;
export type ChatRoomKey = Definitions[number]['key'];
export type ChatRoomName = Definitions[number]['name'];

/** Room names by key: CHAT_ROOMS.internal === 'Phenom Internal'. */
export const CHAT_ROOMS = Object.fromEntries(CHAT_ROOM_DEFINITIONS.map((r) => [r.key, r.name])) as {
  readonly [K in ChatRoomKey]: Extract<Definitions[number], { key: K }>['name'];
};

/** Every room name, in definition order. */
export const ALL_CHAT_ROOM_NAMES: readonly ChatRoomName[] = CHAT_ROOM_DEFINITIONS.map((r) => r.name);

/** The Matrix alias of a room on a homeserver: `#internal:chat.example.com`. */
export function matrixRoomAlias(room: Pick<ChatRoomDefinition, 'alias'>, matrixServerName: string): string {
  return `#${room.alias}:${matrixServerName}`;
}

/** One chat room as the Synapse bootstrap creates it. */
export interface MatrixRoomSpec {
  /** The alias localpart: `internal` → `#internal:<server>`. */
  readonly alias: string;
  readonly name: string;
  readonly topic: string;
}

/** The rooms as the Synapse bootstrap creates them: the description becomes the topic. */
export const MATRIX_ROOMS: readonly MatrixRoomSpec[] = CHAT_ROOM_DEFINITIONS.map((r) => ({ alias: r.alias, name: r.name, topic: r.description }));
