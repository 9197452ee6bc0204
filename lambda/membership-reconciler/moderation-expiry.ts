import { ExpiryReport, liftExpired } from '../../chat-clients/matrix-moderation-expiry';
import { findChatRooms } from './synapse';
import { SynapseMembershipClient } from './synapse-client';

/**
 * Ends the timed mutes and bans whose time is up in the three chat rooms, with the MCP server's
 * own lifting code (chat-clients/matrix-moderation-expiry.ts). Run from one place, the
 * one-minute schedule, instead of a timer in every MCP replica: nothing waits for the MCP service
 * to be up, and no two replicas race. Idempotent (see liftExpired).
 */
export async function liftExpiredModeration(client: SynapseMembershipClient, aliasSuffix: string, now: number): Promise<ExpiryReport> {
  const { rooms } = await findChatRooms(client, aliasSuffix);
  return liftExpired(
    client.moderation(),
    rooms.map((r) => r.roomId),
    now,
  );
}
