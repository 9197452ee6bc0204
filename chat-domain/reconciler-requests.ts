/**
 * The `kind` of the membership reconciler's scheduled request that lifts timed mutes and bans: the
 * EventBridge rule (lib/) sends it, the Lambda (lambda/membership-reconciler/event.ts) parses it.
 */
export const LIFT_EXPIRED_MODERATION = 'lift-expired-moderation';
