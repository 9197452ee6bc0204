import { LIFT_EXPIRED_MODERATION } from '../../chat-domain/reconciler-requests';

/** What the post-authentication trigger sends (InvocationType Event) right after a sign-in. */
export interface ReconcileUserRequest {
  readonly kind: 'reconcile-user';
  readonly userPoolId: string;
  /** Cognito's userName. */
  readonly userName: string;
  /** The app client the user signed in with (callerContext.clientId): the Synapse OIDC client means a Matrix login is under way. */
  readonly clientId?: string;
}

/** What the one-minute schedule sends: end the timed mutes and bans whose time is up. */
export { LIFT_EXPIRED_MODERATION };

export type ReconcileRequest = { readonly kind: 'reconcile-all' } | { readonly kind: typeof LIFT_EXPIRED_MODERATION } | ReconcileUserRequest;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/**
 * An EventBridge scheduled event (source aws.events, detail-type "Scheduled Event", as the
 * EventBridge docs show it) is a full run; `{kind: 'reconcile-user', ...}` is one user;
 * `{kind: 'lift-expired-moderation'}` (the one-minute rule's fixed input) ends timed mutes and bans.
 * Anything else throws a clear error before anything is read or written.
 */
export function parseReconcileRequest(event: unknown, expectedUserPoolId: string): ReconcileRequest {
  if (!isRecord(event)) throw new Error('the reconciler event is not a JSON object');
  if (event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') return { kind: 'reconcile-all' };
  if (event.kind === LIFT_EXPIRED_MODERATION) return { kind: LIFT_EXPIRED_MODERATION };
  if (event.kind === 'reconcile-user') {
    const userPoolId = text(event.userPoolId);
    const userName = text(event.userName);
    if (!userPoolId || !userName) throw new Error('a reconcile-user event needs userPoolId and userName');
    if (userPoolId !== expectedUserPoolId) throw new Error(`the event names user pool ${userPoolId}, but this reconciler serves ${expectedUserPoolId}`);
    return { kind: 'reconcile-user', userPoolId, userName, clientId: text(event.clientId) };
  }
  throw new Error(`unrecognised reconciler event (neither an EventBridge "Scheduled Event" nor kind "reconcile-user" or "${LIFT_EXPIRED_MODERATION}"): ${JSON.stringify(event).slice(0, 200)}`);
}
