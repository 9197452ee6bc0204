/**
 * Every GraphQL document the hasura backend sends, in one place. The tests validate each one
 * against schema.graphql (Hasura v2's generated naming for the chat tables) with graphql@16.
 */

const MESSAGE_FIELDS = /* GraphQL */ `
  fragment MessageFields on chat_messages {
    id
    room_id
    user_id
    content
    message_type
    phenom_id
    is_deleted
    created_at
    sender {
      id
      display_name
      username
    }
    link_preview {
      phenom_id
      url
      title
      description
      thumbnail_url
      media_type
    }
  }
`;

const MEMBER_FIELDS = /* GraphQL */ `
  fragment MemberFields on chat_members {
    user_id
    role
    is_muted
    muted_until
    joined_at
    user {
      display_name
      username
    }
  }
`;

const BAN_FIELDS = /* GraphQL */ `
  fragment BanFields on chat_bans {
    id
    room_id
    user_id
    banned_by
    reason
    banned_at
    expires_at
  }
`;

export const LIST_ROOMS = /* GraphQL */ `
  query ListRooms {
    chat_rooms(order_by: [{ name: asc }]) {
      id
      name
      description
      is_active
      members_aggregate {
        aggregate {
          count
        }
      }
    }
  }
`;

/** Newest first, keyset on (created_at, id); `where` carries the room, the cursor and the deleted filter. */
export const GET_MESSAGES = /* GraphQL */ `
  query GetMessages($roomId: uuid!, $where: chat_messages_bool_exp!, $limit: Int!) {
    chat_rooms_by_pk(id: $roomId) {
      id
    }
    chat_messages(where: $where, order_by: [{ created_at: desc }, { id: desc }], limit: $limit) {
      ...MessageFields
    }
  }
  ${MESSAGE_FIELDS}
`;

export const GET_MESSAGE = /* GraphQL */ `
  query GetMessage($id: uuid!) {
    chat_messages_by_pk(id: $id) {
      ...MessageFields
    }
  }
  ${MESSAGE_FIELDS}
`;

/**
 * Runs as role `user`: user_id is preset from the token, so the object names only client_message_id,
 * content, id, message_type, phenom_id and room_id. on_conflict with update_columns: [] is ON
 * CONFLICT DO NOTHING, which Hasura offers to a role with INSERT and no UPDATE (graphql-engine's
 * InsertOnConflict8260Spec): a retried client_message_id inserts nothing and the field is null.
 */
export const SEND_MESSAGE = /* GraphQL */ `
  mutation SendMessage($object: chat_messages_insert_input!) {
    insert_chat_messages_one(object: $object, on_conflict: { constraint: chat_messages_room_id_user_id_client_message_id_key, update_columns: [] }) {
      ...MessageFields
    }
  }
  ${MESSAGE_FIELDS}
`;

/** The agent's message with this client_message_id in the room (unique per room and sender, sql/009). */
export const GET_MESSAGE_BY_CLIENT_ID = /* GraphQL */ `
  query GetMessageByClientId($roomId: uuid!, $userId: String!, $clientMessageId: String!) {
    chat_messages(where: { room_id: { _eq: $roomId }, user_id: { _eq: $userId }, client_message_id: { _eq: $clientMessageId } }, limit: 1) {
      ...MessageFields
    }
  }
  ${MESSAGE_FIELDS}
`;

/**
 * Only a live message is touched (`where` names its id, the room when the caller gave one, and
 * is_deleted false), so a second delete changes nothing; `returning` says which room it was in.
 */
export const SOFT_DELETE_MESSAGE = /* GraphQL */ `
  mutation SoftDeleteMessage($where: chat_messages_bool_exp!, $deletedBy: String!) {
    update_chat_messages(where: $where, _set: { is_deleted: true, deleted_by: $deletedBy }) {
      affected_rows
      returning {
        id
        room_id
      }
    }
  }
`;

/** One page, keyset on (joined_at, user_id): `where` carries the role filter and the cursor. */
export const LIST_MEMBERS = /* GraphQL */ `
  query ListMembers($roomId: uuid!, $where: chat_members_bool_exp!, $limit: Int!) {
    chat_rooms_by_pk(id: $roomId) {
      id
      members(where: $where, order_by: [{ joined_at: asc }, { user_id: asc }], limit: $limit) {
        ...MemberFields
      }
    }
  }
  ${MEMBER_FIELDS}
`;

export const SET_MUTE = /* GraphQL */ `
  mutation SetMute($roomId: uuid!, $userId: String!, $isMuted: Boolean!, $mutedUntil: timestamptz) {
    update_chat_members(where: { room_id: { _eq: $roomId }, user_id: { _eq: $userId } }, _set: { is_muted: $isMuted, muted_until: $mutedUntil }) {
      affected_rows
      returning {
        ...MemberFields
      }
    }
  }
  ${MEMBER_FIELDS}
`;

/** Runs as chat_admin: the object sets room_id, user_id, reason, expires_at; banned_by is preset, banned_at the database's. */
export const INSERT_BAN = /* GraphQL */ `
  mutation InsertBan($object: chat_bans_insert_input!) {
    insert_chat_bans_one(object: $object) {
      ...BanFields
    }
  }
  ${BAN_FIELDS}
`;

/** The target of a ban or an unban: their role in the room, and whether a ban is in force (moderation.ts). */
export const BAN_TARGET = /* GraphQL */ `
  query BanTarget($roomId: uuid!, $userId: String!, $now: timestamptz!) {
    chat_members(where: { room_id: { _eq: $roomId }, user_id: { _eq: $userId } }) {
      role
    }
    chat_bans(where: { room_id: { _eq: $roomId }, user_id: { _eq: $userId }, _or: [{ expires_at: { _is_null: true } }, { expires_at: { _gt: $now } }] }, limit: 1) {
      id
    }
  }
`;

/** One page of a room's bans in force, newest first: `where` carries "in force" and the cursor. */
export const LIST_BANS = /* GraphQL */ `
  query ListBans($roomId: uuid!, $where: chat_bans_bool_exp!, $limit: Int!) {
    chat_rooms_by_pk(id: $roomId) {
      id
      bans(where: $where, order_by: [{ banned_at: desc }, { id: desc }], limit: $limit) {
        ...BanFields
      }
    }
  }
  ${BAN_FIELDS}
`;

/** Contract C1: unban deletes the active ban rows (no expiry, or an expiry in the future). */
export const DELETE_ACTIVE_BANS = /* GraphQL */ `
  mutation DeleteActiveBans($roomId: uuid!, $userId: String!, $now: timestamptz!) {
    delete_chat_bans(where: { room_id: { _eq: $roomId }, user_id: { _eq: $userId }, _or: [{ expires_at: { _is_null: true } }, { expires_at: { _gt: $now } }] }) {
      affected_rows
    }
  }
`;

/** Tells apart "no such room" and "no such user" after a mutation matched nothing or hit a foreign key. */
export const ROOM_AND_USER = /* GraphQL */ `
  query RoomAndUser($roomId: uuid!, $userId: String!) {
    chat_rooms_by_pk(id: $roomId) {
      id
      name
    }
    users_by_pk(id: $userId) {
      id
    }
  }
`;

/**
 * Which chat rule (contract C1) stopped the agent's message, asked after Hasura reported a
 * database error without its internal details (the agent's roles never get them outside dev mode).
 */
export const SEND_DIAGNOSIS = /* GraphQL */ `
  query SendDiagnosis($roomId: uuid!, $userId: String!, $now: timestamptz!) {
    chat_rooms_by_pk(id: $roomId) {
      id
      name
      is_active
      members(where: { user_id: { _eq: $userId } }) {
        is_muted
        muted_until
      }
      bans(where: { user_id: { _eq: $userId }, _or: [{ expires_at: { _is_null: true } }, { expires_at: { _gt: $now } }] }) {
        id
        expires_at
      }
    }
  }
`;

/** The cheapest query Hasura answers only when it can reach its database and accepts our token. */
export const HEALTH = /* GraphQL */ `
  query Health {
    chat_rooms(limit: 1) {
      id
    }
  }
`;

/** Every document, by operation name, for validation. */
export const ALL_DOCUMENTS: Readonly<Record<string, string>> = {
  ListRooms: LIST_ROOMS,
  GetMessages: GET_MESSAGES,
  GetMessage: GET_MESSAGE,
  GetMessageByClientId: GET_MESSAGE_BY_CLIENT_ID,
  SendMessage: SEND_MESSAGE,
  SoftDeleteMessage: SOFT_DELETE_MESSAGE,
  ListMembers: LIST_MEMBERS,
  SetMute: SET_MUTE,
  InsertBan: INSERT_BAN,
  ListBans: LIST_BANS,
  BanTarget: BAN_TARGET,
  DeleteActiveBans: DELETE_ACTIVE_BANS,
  RoomAndUser: ROOM_AND_USER,
  SendDiagnosis: SEND_DIAGNOSIS,
  Health: HEALTH,
};
