import type { Principal } from '../auth/verifier';
import type { Logger } from '../log';

/** What one authenticated HTTP request carries into the per-request MCP server. */
export interface RequestContext {
  requestId: string;
  principal: Principal;
  canModerate: boolean;
  log: Logger;
  /** Set by the tool layer: `ok` or a ChatError code; read by the access log. */
  outcome?: string;
}
