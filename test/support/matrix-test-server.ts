import { randomBytes } from 'node:crypto';
import { MatrixClient } from '../../chat-clients/matrix-client';
import { MatrixHomeserver, MatrixHomeserverOptions } from './matrix-homeserver';

/**
 * The homeserver a test drives: a real Synapse when SYNAPSE_URL and SYNAPSE_SHARED_SECRET are
 * set, else a fresh stand-in (matrix-homeserver.ts). Everything is done over HTTP, the same way
 * on both, and every name a test creates carries `tag`, so a real server can be reused run after run.
 */
export interface TestHomeserver {
  readonly baseUrl: string;
  readonly real: boolean;
  /** Only for the stand-in. */
  readonly standIn?: MatrixHomeserver;
  readonly sharedSecret: string;
  /** A random suffix for this run's users and aliases. */
  readonly tag: string;
  close(): Promise<void>;
}

export interface Account {
  readonly userId: string;
  readonly token: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

export const REAL_SYNAPSE = Boolean(process.env.SYNAPSE_URL && process.env.SYNAPSE_SHARED_SECRET);
const STAND_IN_SECRET = 'stand-in-registration-shared-secret';

export async function startTestHomeserver(options: MatrixHomeserverOptions = {}): Promise<TestHomeserver> {
  const tag = randomBytes(4).toString('hex');
  if (REAL_SYNAPSE) {
    return { baseUrl: process.env.SYNAPSE_URL!.replace(/\/+$/, ''), real: true, sharedSecret: process.env.SYNAPSE_SHARED_SECRET!, tag, close: async () => undefined };
  }
  const standIn = await MatrixHomeserver.start({ serverName: 'chat.test', registrationSharedSecret: STAND_IN_SECRET, ...options });
  return { baseUrl: standIn.url, real: false, standIn, sharedSecret: STAND_IN_SECRET, tag, close: () => standIn.stop() };
}

/** One HTTP call as `token` (the test's own hands, not code under test). */
export async function call(hs: TestHomeserver, token: string | undefined, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
  const response = await fetch(`${hs.baseUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Registers a user with the shared secret (admin or not) and returns its session. */
export async function registerAccount(hs: TestHomeserver, localpart: string, admin: boolean, displayName?: string): Promise<Account> {
  const r = await new MatrixClient({ baseUrl: hs.baseUrl }).registerWithSharedSecret(hs.sharedSecret, {
    username: localpart,
    password: `pw-${localpart}-${randomBytes(8).toString('hex')}`,
    displayName,
    admin,
  });
  return { userId: r.user_id, token: r.access_token };
}

export const serverNameOf = (userId: string): string => userId.slice(userId.indexOf(':') + 1);
export const enc = encodeURIComponent;

/** An account as Synapse's OIDC login leaves it: created by the admin API with an external id (and no password). */
export async function createSsoAccount(hs: TestHomeserver, admin: Account, localpart: string, authProvider: string, externalId: string, displayName?: string): Promise<string> {
  const userId = `@${localpart}:${serverNameOf(admin.userId)}`;
  const r = await call(hs, admin.token, 'PUT', `/_synapse/admin/v2/users/${enc(userId)}`, {
    external_ids: [{ auth_provider: authProvider, external_id: externalId }],
    ...(displayName ? { displayname: displayName } : {}),
  });
  if (r.status !== 201) throw new Error(`creating ${userId} answered ${r.status} ${JSON.stringify(r.json)}`);
  return userId;
}

/** A user with a password, logged in (for acting as that user). */
export async function createLoggedInAccount(hs: TestHomeserver, admin: Account, localpart: string): Promise<Account> {
  const userId = `@${localpart}:${serverNameOf(admin.userId)}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const created = await call(hs, admin.token, 'PUT', `/_synapse/admin/v2/users/${enc(userId)}`, { password });
  if (created.status !== 201) throw new Error(`creating ${userId} answered ${created.status} ${JSON.stringify(created.json)}`);
  const login = await call(hs, undefined, 'POST', '/_matrix/client/v3/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password });
  if (login.status !== 200) throw new Error(`login of ${userId} answered ${login.status} ${JSON.stringify(login.json)}`);
  return { userId, token: String(login.json.access_token) };
}

/** A room's full current state (as a joined member sees it). */
export async function roomState(hs: TestHomeserver, token: string, roomId: string): Promise<{ type: string; state_key: string; sender: string; content: Record<string, unknown>; event_id: string }[]> {
  const r = await call(hs, token, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state`);
  if (r.status !== 200) throw new Error(`room state of ${roomId} answered ${r.status}`);
  return r.json as unknown as { type: string; state_key: string; sender: string; content: Record<string, unknown>; event_id: string }[];
}

/** The newest event id of a room's timeline: unchanged exactly when no event was sent. */
export async function latestEventId(hs: TestHomeserver, token: string, roomId: string): Promise<string> {
  const r = await call(hs, token, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=1`);
  if (r.status !== 200) throw new Error(`messages of ${roomId} answered ${r.status}`);
  return String((r.json.chunk as { event_id: string }[])[0]?.event_id);
}

/** Every member's membership in a room, from its state. */
export async function memberships(hs: TestHomeserver, token: string, roomId: string): Promise<Record<string, string>> {
  const state = await roomState(hs, token, roomId);
  return Object.fromEntries(state.filter((e) => e.type === 'm.room.member').map((e) => [e.state_key, String(e.content.membership)]));
}
