import { CHAT_ROOMS as BOOTSTRAP_ROOMS } from '../../../lambda/synapse-bootstrap/bootstrap';
import { CHAT_GROUPS, entitlementsFor } from '../../../chat-domain/groups';
import { ALL_CHAT_ROOM_NAMES, CHAT_ROOM_DEFINITIONS, CHAT_ROOMS, matrixRoomAlias } from '../../../chat-domain/rooms';
import { chatRoomAliases } from '../../../lib/operations/synapse-history-purge';
import { TestDatabase } from '../../support/postgres';
import { createMigratedDatabase } from '../../support/postgres/migrated';

/**
 * Issue #13 item 8: the rooms are defined once (chat-domain/rooms.ts). The bootstrap and
 * the groups read that definition; sql/001 is an applied migration that cannot, so the rows
 * the migrations leave in chat_rooms are held to it here, on a real PostgreSQL 17.
 */
describe('the chat rooms have one definition', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase('rooms');
  });
  afterAll(() => db?.drop());

  it("is the seeds' three rooms, with unique keys, aliases and names", () => {
    expect(CHAT_ROOM_DEFINITIONS.map((r) => r.name)).toEqual(['Phenom Internal', 'Phenom Partners', 'Phenom Community']);
    for (const field of ['key', 'alias', 'name', 'description'] as const) {
      expect(new Set(CHAT_ROOM_DEFINITIONS.map((r) => r[field])).size).toBe(3);
    }
    expect(CHAT_ROOMS).toEqual({ internal: 'Phenom Internal', partners: 'Phenom Partners', community: 'Phenom Community' });
    expect(ALL_CHAT_ROOM_NAMES).toEqual(CHAT_ROOM_DEFINITIONS.map((r) => r.name));
    // A Matrix alias localpart may not contain ':' or whitespace (Synapse refuses it in createRoom).
    for (const room of CHAT_ROOM_DEFINITIONS) expect(room.alias).toMatch(/^[a-z0-9._=-]+$/);
  });

  it('the migrated chat_rooms rows are exactly that definition (names and descriptions)', async () => {
    const { rows } = await db.pool.query<{ name: string; description: string }>('SELECT name, description FROM chat_rooms ORDER BY name');
    const expected = CHAT_ROOM_DEFINITIONS.map((r) => ({ name: r.name, description: r.description })).sort((a, b) => a.name.localeCompare(b.name));
    expect(rows).toEqual(expected);
  });

  it('the Synapse bootstrap creates those rooms: alias, name, and the description as topic', () => {
    expect(BOOTSTRAP_ROOMS).toEqual(CHAT_ROOM_DEFINITIONS.map((r) => ({ alias: r.alias, name: r.name, topic: r.description })));
    expect(chatRoomAliases('chat.example.com')).toEqual(CHAT_ROOM_DEFINITIONS.map((r) => matrixRoomAlias(r, 'chat.example.com')));
    expect(matrixRoomAlias(CHAT_ROOM_DEFINITIONS[0], 'chat.example.com')).toBe('#internal:chat.example.com');
  });

  it('every room a group grants is a defined room, and every defined room is reachable', () => {
    const granted = new Set(Object.values(CHAT_GROUPS).flatMap((g) => g.rooms));
    for (const room of granted) expect(ALL_CHAT_ROOM_NAMES).toContain(room);
    expect(entitlementsFor([CHAT_GROUPS.admin.name]).rooms).toEqual(ALL_CHAT_ROOM_NAMES);
    expect(entitlementsFor([]).rooms).toEqual([CHAT_ROOMS.community]);
  });
});
