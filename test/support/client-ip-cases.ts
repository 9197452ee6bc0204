/**
 * Who the client is, for one request, as Synapse's edge proxy (docker/synapse-edge, under nginx) and
 * chat-domain/client-ip.ts (the MCP server's) must both answer it. `from: 'alb'` is a peer the edge
 * believes to be the ALB; `from: 'stranger'` any other peer (each test maps them to real addresses).
 */
export interface ClientIpCase {
  readonly name: string;
  readonly from: 'alb' | 'stranger';
  readonly xForwardedFor?: string;
  readonly cfConnectingIp?: string;
  /** The client address with edge.provider none and cloudflare; `peer` is the stranger's own address. */
  readonly none: string;
  readonly cloudflare: string;
}

export const CLIENT_IP_CASES: readonly ClientIpCase[] = [
  { name: 'the entry the ALB appended, not one the client wrote before it', from: 'alb', xForwardedFor: '6.6.6.6, 203.0.113.7', none: '203.0.113.7', cloudflare: '203.0.113.7' },
  { name: 'the last of several entries', from: 'alb', xForwardedFor: '6.6.6.6,7.7.7.7, 203.0.113.8', none: '203.0.113.8', cloudflare: '203.0.113.8' },
  { name: 'a single entry', from: 'alb', xForwardedFor: '203.0.113.9', none: '203.0.113.9', cloudflare: '203.0.113.9' },
  { name: 'the peer, for an in-VPC caller without the header', from: 'alb', none: 'alb', cloudflare: 'alb' },
  { name: 'the peer, for a stranger writing X-Forwarded-For', from: 'stranger', xForwardedFor: '6.6.6.6', none: 'peer', cloudflare: 'peer' },
  {
    name: 'CF-Connecting-IP when the ALB saw Cloudflare (cloudflare only)',
    from: 'alb',
    xForwardedFor: '6.6.6.6, 198.51.100.9, 173.245.48.5',
    cfConnectingIp: '198.51.100.9',
    none: '173.245.48.5',
    cloudflare: '198.51.100.9',
  },
  { name: 'an IPv6 CF-Connecting-IP', from: 'alb', xForwardedFor: '104.16.0.1', cfConnectingIp: '2001:db8::1', none: '104.16.0.1', cloudflare: '2001:db8::1' },
  {
    name: 'a forged CF-Connecting-IP sent to the ALB directly',
    from: 'alb',
    xForwardedFor: '173.245.48.5, 203.0.113.7',
    cfConnectingIp: '198.51.100.9',
    none: '203.0.113.7',
    cloudflare: '203.0.113.7',
  },
  { name: 'a forged CF-Connecting-IP from a stranger', from: 'stranger', cfConnectingIp: '198.51.100.9', none: 'peer', cloudflare: 'peer' },
  { name: 'the Cloudflare address when CF-Connecting-IP is missing', from: 'alb', xForwardedFor: '173.245.48.5', none: '173.245.48.5', cloudflare: '173.245.48.5' },
  ...['198.51.100.9, 6.6.6.6', 'unknown', '198.51.100.9:443', '198.51.100.9 6.6.6.6'].map((bad) => ({
    name: `the Cloudflare address when CF-Connecting-IP is ${JSON.stringify(bad)}`,
    from: 'alb' as const,
    xForwardedFor: '173.245.48.5',
    cfConnectingIp: bad,
    none: '173.245.48.5',
    cloudflare: '173.245.48.5',
  })),
];
