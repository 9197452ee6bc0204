import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { Pool } from 'pg';
import { CHAT_GROUPS, ChatEntitlements, entitlementsFor } from '../../chat-domain/groups';
import { chatUserProfile } from '../../chat-domain/profile';
import { applyHasuraEntitlements, hasuraDiffers, HasuraUser, readHasuraSnapshot, removeUnknownMembers } from '../shared/hasura-membership';
import { DirectoryUser, getDirectoryUser, listDirectory } from './directory';
import { MatrixWant, SynapseReconciler, SynapseReport } from './synapse';
import { SynapseMembershipClient } from './synapse-client';

export interface ReconcileDeps {
  readonly cognito: CognitoIdentityProviderClient;
  readonly userPoolId: string;
  readonly pool: () => Promise<Pick<Pool, 'query'>>;
  /** undefined: Synapse is not part of this deployment; only Hasura Lite is reconciled. */
  readonly synapse?: () => Promise<SynapseMembershipClient>;
  /** See SynapseReconciler. @default '' */
  readonly synapseRoomAliasSuffix?: string;
  readonly log: (message: string, details: Record<string, unknown>) => void;
  /** For the wait for a new Matrix account. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface HasuraReport {
  readonly usersChanged: number;
  readonly joined: number;
  readonly roleChanged: number;
  readonly left: number;
  /** Memberships of users the pool no longer has (full runs only). */
  readonly removedUnknown: number;
  readonly failures: { readonly what: string; readonly error: string }[];
}

export interface ReconcileReport {
  readonly scope: 'all' | 'user';
  readonly users: number;
  readonly hasura: HasuraReport;
  readonly synapse?: SynapseReport;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const entitlementsOf = (u: DirectoryUser): ChatEntitlements | null => (u.entitled ? entitlementsFor(u.groups) : null);
const hasuraUserOf = (u: DirectoryUser): HasuraUser => ({ sub: u.sub, ...chatUserProfile(u.claims, u.userName) });
const matrixWantOf = (u: DirectoryUser): MatrixWant => ({
  sub: u.sub,
  claims: u.claims,
  entitlements: entitlementsOf(u),
  serverAdmin: u.entitled && u.groups.includes(CHAT_GROUPS.admin.name),
});

/**
 * The whole pool: Cognito is listed first (a listing that fails ends the run before anything is
 * written), then Hasura Lite (one statement per user that differs, then the memberships of users
 * the pool no longer has), then Synapse. A failure on one user or one backend is reported and
 * the rest still runs; the caller throws at the end so the run counts as failed.
 */
export async function reconcileAll(deps: ReconcileDeps): Promise<ReconcileReport> {
  const listedAt = new Date();
  const users = await listDirectory(deps.cognito, deps.userPoolId);
  const hasura = await reconcileHasura(deps, users, { sweepBefore: listedAt });
  const synapse = deps.synapse ? await reconcileSynapse(deps, users, true) : undefined;
  return { scope: 'all', users: users.length, hasura, synapse };
}

export interface ReconcileUserOptions {
  readonly userName: string;
  /**
   * Wait this long for the user's Matrix account: after a first SSO login Synapse creates it once
   * the OIDC callback returns, which is after Cognito's post-authentication trigger has fired.
   * @default 0 (look once)
   */
  readonly waitForMatrixAccountMs?: number;
}

/** One user, right after their sign-in. A user the pool does not have is a clear error, with nothing written. */
export async function reconcileUser(deps: ReconcileDeps, options: ReconcileUserOptions): Promise<ReconcileReport> {
  const user = await getDirectoryUser(deps.cognito, deps.userPoolId, options.userName);
  if (!user) throw new Error(`user ${options.userName} is not in user pool ${deps.userPoolId}; nothing reconciled`);
  const hasura = await reconcileHasura(deps, [user]);
  let synapse: SynapseReport | undefined;
  if (deps.synapse) {
    const client = await deps.synapse();
    const reconciler = new SynapseReconciler(client, deps.synapseRoomAliasSuffix);
    await reconciler.load();
    const sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    const deadline = Date.now() + (options.waitForMatrixAccountMs ?? 0);
    // 1, 2, 4, 8, 8, ... s: the account normally appears within a second or two of the trigger.
    for (let delay = 1_000; !(await reconciler.matrixIdOf(user.sub, user.claims)) && Date.now() + delay <= deadline; delay = Math.min(delay * 2, 8_000)) {
      await sleep(delay);
    }
    await reconciler.load(); // the state may have moved on while we waited (Synapse's auto-join, another run)
    synapse = await reconciler.apply([matrixWantOf(user)], { sweep: false });
  }
  return { scope: 'user', users: 1, hasura, synapse };
}

async function reconcileHasura(deps: ReconcileDeps, users: readonly DirectoryUser[], sweep?: { readonly sweepBefore: Date }): Promise<HasuraReport> {
  const report = { usersChanged: 0, joined: 0, roleChanged: 0, left: 0, removedUnknown: 0, failures: [] as HasuraReport['failures'] };
  let pool: Pick<Pool, 'query'>;
  try {
    pool = await deps.pool();
  } catch (err) {
    report.failures.push({ what: 'connect to the chat database', error: errorText(err) });
    return report;
  }
  // A full run reads what is there first and writes only for users that differ.
  const snapshot = sweep
    ? await readHasuraSnapshot(
        pool,
        users.map((u) => u.sub),
      ).catch((err: unknown) => {
        report.failures.push({ what: 'read the chat tables', error: errorText(err) });
        return undefined;
      })
    : undefined;
  if (sweep && !snapshot) return report;
  for (const user of users) {
    const entitlements = entitlementsOf(user);
    const row = hasuraUserOf(user);
    if (snapshot && !hasuraDiffers(snapshot, row, entitlements)) continue;
    try {
      const change = await applyHasuraEntitlements(pool, row, entitlements);
      if (change.joined || change.roleChanged || change.left) report.usersChanged++;
      report.joined += change.joined;
      report.roleChanged += change.roleChanged;
      report.left += change.left;
      if (change.joined || change.roleChanged || change.left) deps.log('reconciled Hasura Lite memberships', { userId: user.sub, ...change });
    } catch (err) {
      report.failures.push({ what: `write the chat rows of ${user.sub}`, error: errorText(err) });
    }
  }
  if (sweep) {
    try {
      report.removedUnknown = await removeUnknownMembers(
        pool,
        users.map((u) => u.sub),
        sweep.sweepBefore,
      );
    } catch (err) {
      report.failures.push({ what: 'remove the memberships of users no longer in the pool', error: errorText(err) });
    }
  }
  return report;
}

async function reconcileSynapse(deps: ReconcileDeps, users: readonly DirectoryUser[], sweep: boolean): Promise<SynapseReport> {
  try {
    const reconciler = new SynapseReconciler(await deps.synapse!(), deps.synapseRoomAliasSuffix);
    await reconciler.load();
    return await reconciler.apply(users.map(matrixWantOf), { sweep });
  } catch (err) {
    return { joined: [], kicked: [], powerLevelUpdates: [], withoutAccount: [], failures: [{ what: 'reconcile Synapse', error: errorText(err) }] };
  }
}
