import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server';
import { LOOPBACK_HOSTS, type ServerConfig } from '../config';

/** Response headers a browser page (the MCP Inspector in direct mode, a web agent) must be able to read. */
const EXPOSED = 'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, Retry-After, X-Request-Id';
/** Request headers MCP clients send: the bearer token, JSON-RPC content, the protocol version, resumption. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID, X-Request-Id';
// Long enough that a browser client does not preflight every call; Chromium caps it at 2 h anyway.
const PREFLIGHT_MAX_AGE_S = '600';

/**
 * DNS-rebinding and CORS rules for /mcp and the discovery documents (MCP 2025-11-25 transports,
 * "Security Warning"; the conformance suite's dns-rebinding-protection scenario):
 * - Host must name this server (MCP_RESOURCE_URL's host; on loopback, any localhost name), on any
 *   port, whether or not an Origin is sent: a rebinding page's requests carry its own host name.
 * - A present Origin must be allowed: ALLOWED_ORIGINS exactly, plus (on loopback) localhost origins
 *   on any port. An allowed origin gets CORS headers, so browser clients can read challenges.
 */
export function createBrowserRules(config: ServerConfig) {
  function originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true; // not a browser
    if (config.allowedOrigins.includes(origin)) return true;
    if (!config.loopback) return false;
    const result = validateOriginHeader(origin, LOOPBACK_HOSTS);
    return result.ok && /^https?:\/\//.test(origin);
  }

  return {
    /** Rejects a foreign Host (403) and answers false, or answers true. */
    checkHost(req: IncomingMessage, res: ServerResponse): boolean {
      const result = validateHostHeader(req.headers.host, config.allowedHosts);
      if (result.ok) return true;
      res
        .writeHead(403, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: `${result.message}: this server answers only for ${config.allowedHosts.join(', ')}` } }));
      return false;
    },

    /**
     * For /mcp: rejects a disallowed Origin (403), answers a CORS preflight (204), or sets the
     * CORS headers for an allowed origin. Answers true when the request should go on.
     */
    checkOrigin(req: IncomingMessage, res: ServerResponse): boolean {
      const origin = req.headers.origin;
      if (!originAllowed(origin)) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'forbidden', error_description: 'this Origin is not allowed' }));
        return false;
      }
      if (origin !== undefined) {
        res.setHeader('access-control-allow-origin', origin);
        res.setHeader('vary', 'Origin');
        res.setHeader('access-control-expose-headers', EXPOSED);
      }
      if (req.method === 'OPTIONS') {
        // Preflights carry no credentials (Fetch standard), so they are answered before authentication.
        res
          .writeHead(204, {
            'access-control-allow-methods': 'POST, GET, DELETE, OPTIONS',
            'access-control-allow-headers': ALLOWED_HEADERS,
            'access-control-max-age': PREFLIGHT_MAX_AGE_S,
            allow: 'POST, GET, DELETE, OPTIONS',
          })
          .end();
        return false;
      }
      return true;
    },

    /** Public discovery documents: readable from any page (no credentials involved); preflight answered. */
    publicDocument(req: IncomingMessage, res: ServerResponse): boolean {
      res.setHeader('access-control-allow-origin', '*');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': `${ALLOWED_HEADERS}`, 'access-control-max-age': PREFLIGHT_MAX_AGE_S }).end();
        return false;
      }
      return true;
    },
  };
}
