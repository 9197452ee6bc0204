/**
 * Keeps Synapse's server-admin flag equal to membership of the Cognito group `chat-admin`.
 *
 * Synapse has no way to take the admin flag from an OIDC claim (neither 1.67 nor 1.142: the
 * mapping provider returns a localpart, display name and e-mails only; matrix-org/synapse#8790),
 * so a periodic job sets it through the admin API. The Admin UI and /_synapse/admin/* then work for
 * exactly those people: Synapse answers the admin API only for server admins' tokens.
 *
 * Called by the membership reconciler's full run (lambda/membership-reconciler/synapse.ts), with the
 * Matrix ids of the group's enabled members, the admin bot in `keep`, and local accounts (no Cognito
 * external id) kept by `keepIf`.
 */

import { MatrixClient, MatrixHttpError } from '../../chat-clients/matrix-client';

/** A Matrix user id as Synapse stores it: `@localpart:server` (server may carry a port). */
const USER_ID = /^@[a-z0-9._=\-/+]+:[A-Za-z0-9.-]+(?::\d{1,5})?$/;

export interface SynapseAdminPort {
  /** The local, non-deactivated users whose admin flag is set. */
  listServerAdmins(): Promise<string[]>;
  /** Sets or clears the flag; returns false when Synapse has no such user (never creates one). */
  setServerAdmin(userId: string, admin: boolean): Promise<boolean>;
}

export interface ServerAdminSyncInput {
  /** Matrix user ids of the chat-admin group's members: these must be server admins. */
  readonly members: readonly string[];
  /**
   * Never demoted, whatever the group says: at least the account whose token the port uses (the admin
   * bot), since Synapse refuses to let a user demote itself and the deploy steps need the bot.
   */
  readonly keep: readonly string[];
  /**
   * Asked for each server admin who is neither a member nor in `keep`: true keeps them too (the
   * reconciler keeps accounts that did not come from Cognito: an operator's break-glass account).
   * @default every such admin is demoted
   */
  readonly keepIf?: (userId: string) => Promise<boolean>;
}

export interface ServerAdminSyncResult {
  readonly promoted: readonly string[];
  readonly demoted: readonly string[];
  /** Group members who have never signed in to Matrix: promoted on a run after their first sign-in. */
  readonly notYetRegistered: readonly string[];
  /** Already right. */
  readonly unchanged: readonly string[];
}

function checkUserIds(field: string, ids: readonly string[]): void {
  const bad = ids.filter((id) => !USER_ID.test(id));
  if (bad.length > 0) throw new Error(`${field}: expected Matrix user ids such as @alice:chat.example.com, got ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
}

/**
 * Promotes every member who is not yet a server admin and demotes every server admin who is neither a
 * member nor kept. Idempotent: a second run with the same input changes nothing.
 */
export async function syncServerAdmins(api: SynapseAdminPort, input: ServerAdminSyncInput): Promise<ServerAdminSyncResult> {
  checkUserIds('members', input.members);
  checkUserIds('keep', input.keep);
  if (input.keep.length === 0) throw new Error('keep: name at least the admin bot, whose token runs the sync (Synapse refuses to let it demote itself)');
  const members = new Set(input.members);
  const keep = new Set(input.keep);
  const current = new Set(await api.listServerAdmins());

  const promoted: string[] = [];
  const notYetRegistered: string[] = [];
  const unchanged: string[] = [];
  for (const userId of [...members].sort()) {
    if (current.has(userId)) unchanged.push(userId);
    else if (await api.setServerAdmin(userId, true)) promoted.push(userId);
    else notYetRegistered.push(userId);
  }
  const demoted: string[] = [];
  for (const userId of [...current].sort()) {
    if (members.has(userId)) continue;
    if (keep.has(userId) || (input.keepIf && (await input.keepIf(userId)))) {
      unchanged.push(userId);
      continue;
    }
    // false: the user vanished between the listing and now, so there is nothing left to demote.
    if (await api.setServerAdmin(userId, false)) demoted.push(userId);
  }
  return { promoted, demoted, notYetRegistered, unchanged };
}

export interface SynapseAdminHttpOptions {
  /** Synapse inside the VPC, e.g. http://homeserver.synapse.phenom-development.internal:8008. */
  readonly baseUrl: string;
  /** A server admin's access token (the admin bot's). */
  readonly accessToken: string;
  /**
   * Per request: small JSON calls to a homeserver in the same VPC; 10 s is far above their latency and
   * still leaves a scheduled Lambda time to report a clear error.
   * @default 10000
   */
  readonly timeoutMs?: number;
}

/** The two admin API calls the sync needs, over HTTP. */
export class SynapseAdminHttp implements SynapseAdminPort {
  private readonly client: MatrixClient;

  constructor(options: SynapseAdminHttpOptions) {
    if (!/^https?:\/\/[^/\s]+/.test(options.baseUrl)) throw new Error(`baseUrl must be an absolute http(s) URL, got ${options.baseUrl}`);
    if (!options.accessToken) throw new Error('accessToken must be a server admin access token');
    this.client = new MatrixClient({ baseUrl: options.baseUrl, accessToken: options.accessToken, timeoutMs: options.timeoutMs ?? 10_000 });
  }

  async listServerAdmins(): Promise<string[]> {
    const admins: string[] = [];
    let from: string | undefined = '0';
    while (from !== undefined) {
      // Newer Synapse filters on admins=true; 1.67 ignores it and lists everyone, so filter here too.
      // 1.67 reports admin as 0/1, newer versions as a boolean.
      const page: { users: Array<{ name: string; admin: boolean | number; deactivated?: boolean | number }>; next_token?: string | number } = await this.client.request(
        'GET',
        '/_synapse/admin/v2/users',
        { query: { from, limit: '100', guests: 'false', admins: 'true' } },
      );
      for (const u of page.users) if (Boolean(u.admin) && !u.deactivated) admins.push(u.name);
      from = page.next_token === undefined || page.next_token === null ? undefined : String(page.next_token);
    }
    return admins;
  }

  async setServerAdmin(userId: string, admin: boolean): Promise<boolean> {
    // The v1 admin-flag endpoint only updates an existing row (404 when there is none). PUT v2/users would
    // create the account instead, which the sync must never do: Synapse creates users at first SSO sign-in.
    try {
      await this.client.request('PUT', `/_synapse/admin/v1/users/${encodeURIComponent(userId)}/admin`, { body: { admin } });
      return true;
    } catch (err) {
      if (err instanceof MatrixHttpError && err.status === 404) return false;
      throw err;
    }
  }
}
