/**
 * The Cognito groups of the chat system and what each grants (contract C3).
 * Pure data and one pure function, with no CDK imports: the construct creates the
 * groups from this table and both Cognito Lambdas bundle it, so the pool, the
 * tokens and the database memberships cannot drift apart.
 */
import { ALL_CHAT_ROOM_NAMES, CHAT_ROOMS, ChatRoomName } from './rooms';

/** Membership roles (chat_members.role, CHECK role IN ('user','support','admin')), lowest to highest. */
export const CHAT_ROLES = ['user', 'support', 'admin'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

/**
 * The Hasura role each membership role acts as. Hasura reserves `admin` for its own
 * unrestricted superuser (every table and the metadata API) and refuses permissions
 * defined for it, so seed 000's "admin" RBAC row is the role `chat_admin`: a token must
 * never carry `admin`, or a chat administrator would bypass every permission.
 */
export const HASURA_ROLE_OF = {
  user: 'user',
  support: 'support',
  admin: 'chat_admin',
} as const satisfies Record<ChatRole, string>;
export type HasuraRole = (typeof HASURA_ROLE_OF)[ChatRole];

// The rooms themselves are defined once, in rooms.ts; re-exported here for the groups' callers.
export { CHAT_ROOMS } from './rooms';
export type { ChatRoomName } from './rooms';

export interface ChatGroupDefinition {
  readonly name: string;
  readonly description: string;
  /** Cognito precedence: lower wins when a user is in several groups. */
  readonly precedence: number;
  /** The membership role the group grants, beyond `user` (its Hasura role is HASURA_ROLE_OF[role]). */
  readonly role?: ChatRole;
  /** The rooms the group grants, beyond Phenom Community. */
  readonly rooms: readonly ChatRoomName[];
}

const ALL_ROOMS = ALL_CHAT_ROOM_NAMES;

export const CHAT_GROUPS = {
  admin: {
    name: 'chat-admin',
    description: 'Chat administrators: Hasura role chat_admin, member of every room (the MCP machine account is here).',
    precedence: 0,
    role: 'admin',
    rooms: ALL_ROOMS,
  },
  support: {
    name: 'chat-support',
    description: 'Phenom support staff: Hasura role support, member of every room.',
    precedence: 1,
    role: 'support',
    rooms: ALL_ROOMS,
  },
  internal: {
    name: 'phenom-internal',
    description: 'Phenom employees: member of Phenom Internal.',
    precedence: 10,
    rooms: [CHAT_ROOMS.internal],
  },
  partners: {
    name: 'phenom-partners',
    description: 'Phenom partners: member of Phenom Partners.',
    precedence: 11,
    rooms: [CHAT_ROOMS.partners],
  },
} as const satisfies Record<string, ChatGroupDefinition>;

/**
 * The groups whose members moderate: Matrix power level MATRIX_MODERATOR_POWER_LEVEL in every room,
 * and the MCP server's moderation tools with a user token that lacks the moderate scope.
 */
export const MODERATOR_GROUPS = [CHAT_GROUPS.support.name, CHAT_GROUPS.admin.name] as const;

const GROUPS_BY_NAME: ReadonlyMap<string, ChatGroupDefinition> = new Map(Object.values(CHAT_GROUPS).map((g): [string, ChatGroupDefinition] => [g.name, g]));

export interface ChatEntitlements {
  /** The highest membership role the groups grant: what the provisioner writes to chat_members.role. */
  readonly memberRole: ChatRole;
  /** Every Hasura role the user has, lowest first; always includes `user`, never Hasura's reserved `admin`. */
  readonly hasuraAllowedRoles: readonly HasuraRole[];
  /** The highest of hasuraAllowedRoles. */
  readonly hasuraDefaultRole: HasuraRole;
  /** The rooms the user is entitled to, in CHAT_ROOM_DEFINITIONS order; always includes Phenom Community. */
  readonly rooms: readonly ChatRoomName[];
  /** The user's Matrix power level in each of those rooms: moderator (support, admin) or member. */
  readonly matrixPowerLevel: typeof MATRIX_MODERATOR_POWER_LEVEL | 0;
}

/**
 * The Matrix power level of chat-support and chat-admin members: the level the rooms require to
 * kick, ban and redact (lambda/synapse-bootstrap MODERATION_POWER_LEVELS), below the bot's 100.
 */
export const MATRIX_MODERATOR_POWER_LEVEL = 50;

/**
 * What a user's Cognito groups entitle them to. Everyone is a `user` in Phenom
 * Community; groups the chat does not know (the pool may be shared with other
 * Phenom apps) grant nothing.
 */
export function entitlementsFor(groups: readonly string[]): ChatEntitlements {
  const roles = new Set<ChatRole>(['user']);
  const rooms = new Set<ChatRoomName>([CHAT_ROOMS.community]);
  for (const name of groups) {
    const group = GROUPS_BY_NAME.get(name);
    if (!group) continue;
    if (group.role) roles.add(group.role);
    for (const room of group.rooms) rooms.add(room);
  }
  const held = CHAT_ROLES.filter((r) => roles.has(r));
  const memberRole = held[held.length - 1];
  return {
    memberRole,
    hasuraAllowedRoles: held.map((r) => HASURA_ROLE_OF[r]),
    hasuraDefaultRole: HASURA_ROLE_OF[memberRole],
    rooms: ALL_ROOMS.filter((r) => rooms.has(r)),
    matrixPowerLevel: memberRole === 'user' ? 0 : MATRIX_MODERATOR_POWER_LEVEL,
  };
}
