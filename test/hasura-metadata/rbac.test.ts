import { WEBHOOK_SECRET_HEADER } from '../../chat-domain/headers';
import { loadMetadataDirectory } from '../../chat-domain/hasura-metadata-directory';
import { METADATA_DIR, metadataTables, Operation, OPERATIONS, permission, permissions, Table } from './metadata-model';

/**
 * Seed 000, "Role-Based Access Control (Hasura Lite)", transcribed cell by cell.
 * The seed's user row has four cells for five tables: chat_bans is the empty one
 * (users must not see who is banned), link_previews is SELECT.
 *
 *   Role    | chat_rooms     | chat_messages                        | chat_members                 | chat_bans              | link_previews
 *   user    | SELECT         | SELECT (non-deleted), INSERT (own)   | SELECT (own room membership) | -                      | SELECT
 *   support | SELECT         | SELECT, UPDATE (soft-delete)         | SELECT                       | SELECT, INSERT         | SELECT
 *   admin   | SELECT, UPDATE | SELECT, UPDATE, DELETE               | SELECT, UPDATE, INSERT       | SELECT, INSERT, DELETE | SELECT, INSERT
 *
 * `users` is not in the seed's table. Every role SELECTs its public profile columns
 * (the sender of a message), and nobody writes it through Hasura.
 *
 * The seed's "admin" row is the Hasura role `chat_admin`: Hasura reserves `admin` for
 * unrestricted access and refuses permissions defined for it.
 */
const RBAC: Record<string, Record<'user' | 'support' | 'chat_admin', readonly Operation[]>> = {
  chat_rooms: { user: ['select'], support: ['select'], chat_admin: ['select', 'update'] },
  chat_messages: { user: ['select', 'insert'], support: ['select', 'update'], chat_admin: ['select', 'update', 'delete'] },
  chat_members: { user: ['select'], support: ['select'], chat_admin: ['select', 'update', 'insert'] },
  chat_bans: { user: [], support: ['select', 'insert'], chat_admin: ['select', 'insert', 'delete'] },
  link_previews: { user: ['select'], support: ['select'], chat_admin: ['select', 'insert'] },
  users: { user: ['select'], support: ['select'], chat_admin: ['select'] },
};
const ROLES = ['user', 'support', 'chat_admin'] as const;
/** Hasura's built-in superuser role: always unrestricted, and a permission defined for it is an error. */
const RESERVED_ROLE = 'admin';
const ME = { _eq: 'X-Hasura-User-Id' };

/** Every role a metadata value names: `role` / `role_name` fields, and the keys of API limits' `per_role`. */
function roleNamesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(roleNamesIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => [
    ...((key === 'role' || key === 'role_name') && typeof v === 'string' ? [v] : []),
    ...(key === 'per_role' && v !== null && typeof v === 'object' ? Object.keys(v) : []),
    ...((key === 'disabled_for_roles' || key === 'role_set') && Array.isArray(v) ? v.filter((r): r is string => typeof r === 'string') : []),
    ...roleNamesIn(v),
  ]);
}

let tables: Map<string, Table>;
beforeAll(() => {
  tables = metadataTables();
});
const table = (name: string) => {
  const t = tables.get(name);
  if (!t) throw new Error(`${name} is not tracked`);
  return t;
};

describe('Hasura permissions against seed 000 RBAC', () => {
  const cases = Object.entries(RBAC).flatMap(([tableName, byRole]) => ROLES.flatMap((role) => OPERATIONS.map((op) => ({ tableName, role, op, granted: byRole[role].includes(op) }))));

  it.each(cases)('$tableName $op for $role: granted=$granted', ({ tableName, role, op, granted }) => {
    expect(permission(table(tableName), op, role) !== undefined).toBe(granted);
  });

  it('defines permissions for no other role and on no other table', () => {
    expect([...tables.keys()].sort()).toEqual(Object.keys(RBAC).sort());
    const roles = new Set([...tables.values()].flatMap((t) => OPERATIONS.flatMap((op) => permissions(t, op).map((r) => r.role))));
    expect([...roles].sort()).toEqual(['chat_admin', 'support', 'user']);
  });

  it(`defines no permission anywhere for Hasura's reserved role "${RESERVED_ROLE}"`, () => {
    const onTables = [...tables.values()].flatMap((t) => OPERATIONS.filter((op) => permission(t, op, RESERVED_ROLE) !== undefined).map((op) => `${t.table.name} ${op}`));
    expect(onTables).toEqual([]);
    // Anywhere else a role can be named (actions, remote schemas, functions, inherited roles,
    // API limits per role, introspection): the whole metadata as replace_metadata receives it.
    expect(roleNamesIn(loadMetadataDirectory(METADATA_DIR)).filter((r) => r === RESERVED_ROLE)).toEqual([]);
  });

  it('lists columns explicitly for every select, insert and update permission', () => {
    for (const t of tables.values()) {
      for (const op of ['select', 'insert', 'update'] as const) {
        for (const { role, permission: p } of permissions(t, op)) {
          expect({ where: `${t.table.name} ${op} ${role}`, explicit: Array.isArray(p.columns) && p.columns.length > 0 }).toEqual({
            where: `${t.table.name} ${op} ${role}`,
            explicit: true,
          });
        }
      }
    }
  });

  it('never lets a write set the primary key, the creation time or the database-maintained columns', () => {
    const neverWritable: Record<string, string[]> = {
      chat_rooms: ['id', 'created_at'],
      chat_messages: ['created_at', 'updated_at', 'user_id', 'room_id'],
      chat_members: ['id', 'joined_at'],
      chat_bans: ['id', 'banned_at', 'banned_by'],
      link_previews: ['id'],
    };
    for (const [name, cols] of Object.entries(neverWritable)) {
      for (const { role, permission: p } of permissions(table(name), 'update')) {
        for (const c of cols) expect({ name, role, column: c, updatable: (p.columns as string[]).includes(c) }).toEqual({ name, role, column: c, updatable: false });
      }
    }
    for (const name of ['chat_members', 'chat_bans', 'link_previews', 'chat_rooms']) {
      for (const { role, permission: p } of permissions(table(name), 'insert')) {
        expect({ name, role, setsId: (p.columns as string[]).includes('id') }).toEqual({ name, role, setsId: false });
      }
    }
  });

  describe('row filters and presets the issue names', () => {
    it('a user sees only the rooms they are a member of', () => {
      expect(permission(table('chat_rooms'), 'select', 'user')!.filter).toEqual({ members: { user_id: ME } });
    });

    it('a user sees only non-deleted messages in rooms they are a member of, and not who deleted what', () => {
      const p = permission(table('chat_messages'), 'select', 'user')!;
      expect(p.filter).toEqual({ _and: [{ is_deleted: { _eq: false } }, { room: { members: { user_id: ME } } }] });
      expect(p.columns).not.toContain('deleted_by');
    });

    it('a user sees only their own membership rows', () => {
      expect(permission(table('chat_members'), 'select', 'user')!.filter).toEqual({ user_id: ME });
    });

    it('a user posts only as themselves and only into rooms they are a member of', () => {
      const p = permission(table('chat_messages'), 'insert', 'user')!;
      expect(p.set).toEqual({ user_id: 'X-Hasura-User-Id' });
      expect(p.columns).not.toContain('user_id');
      expect(p.check).toEqual({ room: { members: { user_id: ME } } });
      expect([...(p.columns as string[])].sort()).toEqual(['client_message_id', 'content', 'id', 'message_type', 'phenom_id', 'room_id']);
    });

    it('support soft-deletes: is_deleted only, deleted_by preset, live rows only, never content', () => {
      const p = permission(table('chat_messages'), 'update', 'support')!;
      expect(p.columns).toEqual(['is_deleted']);
      expect(p.set).toEqual({ deleted_by: 'X-Hasura-User-Id' });
      expect(p.filter).toEqual({ is_deleted: { _eq: false } });
      expect(p.check).toEqual({ is_deleted: { _eq: true } });
    });

    it('bans record the caller as banned_by for every role that may ban', () => {
      for (const role of ['support', 'chat_admin']) {
        const p = permission(table('chat_bans'), 'insert', role)!;
        expect(p.set).toEqual({ banned_by: 'X-Hasura-User-Id' });
        expect(p.columns).not.toContain('banned_by');
      }
    });

    it('chat_admin and support are not row-filtered (they moderate every room)', () => {
      for (const t of tables.values()) {
        for (const op of OPERATIONS) {
          for (const role of ['chat_admin', 'support']) {
            const p = permission(t, op, role);
            if (!p) continue;
            // support's soft-delete filter is the one deliberate exception (see above).
            if (t.table.name === 'chat_messages' && op === 'update' && role === 'support') continue;
            expect({ where: `${t.table.name} ${op} ${role}`, filter: p.filter ?? {}, check: p.check ?? {} }).toEqual({ where: `${t.table.name} ${op} ${role}`, filter: {}, check: {} });
          }
        }
      }
    });

    it('chat_admin (the MCP machine account) can mute and unban, as contract C3 needs', () => {
      expect(permission(table('chat_members'), 'update', 'chat_admin')!.columns).toEqual(expect.arrayContaining(['is_muted', 'muted_until']));
      expect(permission(table('chat_bans'), 'delete', 'chat_admin')!.filter).toEqual({});
    });
  });

  describe('link-preview event trigger', () => {
    it('calls the webhook from the environment with the shared secret header the Lambda checks, with retries', () => {
      const [trigger] = table('chat_messages').event_triggers!;
      expect(trigger.definition.insert).toEqual({ columns: '*' });
      expect(trigger.webhook).toBeUndefined();
      expect(trigger.webhook_from_env).toBe('LINK_PREVIEW_WEBHOOK_URL');
      expect(trigger.headers).toEqual([{ name: expect.stringMatching(new RegExp(`^${WEBHOOK_SECRET_HEADER}$`, 'i')), value_from_env: 'LINK_PREVIEW_WEBHOOK_SECRET' }]);
      expect(trigger.retry_conf!.num_retries).toBeGreaterThanOrEqual(3);
      expect(trigger.retry_conf!.interval_sec).toBeGreaterThan(0);
      expect(trigger.retry_conf!.timeout_sec).toBeGreaterThan(0);
    });
  });
});
