import { BlockList, isIP } from 'node:net';

/** What is in front of the ALB (config `edge.provider`). */
export type EdgeProvider = 'cloudflare' | 'none';

/**
 * Cloudflare's published ranges (https://www.cloudflare.com/ips-v4 and /ips-v6: 15 IPv4 and 7 IPv6
 * ranges as listed there when this was written; re-check them when you touch this list). The one
 * list: the WAF's and the ALB's settings, Synapse's edge proxy (docker/synapse-edge, generated from
 * it by `npm run edge:conf`) and the MCP server all read it. When Cloudflare adds a range, visitors
 * arriving through it count as the Cloudflare address until it is added here (fail-safe: never a
 * client-chosen address); the ALB's SG, when limited to these ranges, refuses them until then.
 */
export const CLOUDFLARE_IPV4_RANGES: readonly string[] = [
  '173.245.48.0/20',
  '103.21.244.0/22',
  '103.22.200.0/22',
  '103.31.4.0/22',
  '141.101.64.0/18',
  '108.162.192.0/18',
  '190.93.240.0/20',
  '188.114.96.0/20',
  '197.234.240.0/22',
  '198.41.128.0/17',
  '162.158.0.0/15',
  '104.16.0.0/13',
  '104.24.0.0/14',
  '172.64.0.0/13',
  '131.0.72.0/22',
];
export const CLOUDFLARE_IPV6_RANGES: readonly string[] = ['2400:cb00::/32', '2606:4700::/32', '2803:f800::/32', '2405:b500::/32', '2405:8100::/32', '2a06:98c0::/29', '2c0f:f248::/32'];

/**
 * Where the ALB's nodes connect from: the private ranges, as in a VPC created here (config refuses
 * any other network.cidr). Only a peer in them is believed to be the ALB.
 */
export const ALB_PEER_RANGES: readonly string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/**
 * The header Cloudflare writes the visitor's address into (overwriting any the visitor sent), as
 * Cloudflare and WAF's ForwardedIPConfig spell it; Node's request headers have it in lower case.
 */
export const CF_CONNECTING_IP_HEADER = 'CF-Connecting-IP';

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    const family = isIP(net!);
    if (!family || !bits) throw new Error(`not a CIDR block: ${cidr}`);
    list.addSubnet(net!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** A bare IPv4 or IPv6 address (IPv4-mapped IPv6 as IPv4), or undefined for anything else. */
export function parseIp(value: string | undefined): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed)?.[1] ?? trimmed;
  const family = isIP(mapped);
  return family ? { address: mapped, family: family === 6 ? 'ipv6' : 'ipv4' } : undefined;
}

const contains = (list: BlockList, value: string): boolean => {
  const ip = parseIp(value);
  return ip !== undefined && list.check(ip.address, ip.family);
};

/** One header as Node gives it: a string, or several (repeated headers), or absent. */
type HeaderValue = string | readonly string[] | undefined;

export interface ClientIpInput {
  /** The TCP peer of this hop (the ALB node, in the VPC). */
  readonly peer: string | undefined;
  readonly xForwardedFor: HeaderValue;
  readonly cfConnectingIp: HeaderValue;
}

export interface ClientIpSource {
  /** The address the request is attributed to. */
  readonly clientIp: string;
  /** The address the ALB saw (its last X-Forwarded-For entry), or the peer when the peer is not the ALB. */
  readonly albSaw: string;
}

/**
 * The client address, chosen as Synapse's edge proxy chooses it (docker/synapse-edge/nginx.conf and
 * client-ip.<provider>.conf, tested against the same cases):
 *
 * 1. the address the ALB saw: the last X-Forwarded-For entry, which the ALB appends (xff_header_processing
 *    append, no port), believed only when the peer is in `albPeers`; every entry before it is the client's
 *    own words. Otherwise, or when that entry is no address, the peer itself;
 * 2. with `cloudflare`, CF-Connecting-IP instead, but only when the address the ALB saw is one of
 *    Cloudflare's and the header holds exactly one well-formed address: a request sent to the ALB directly,
 *    with a CF-Connecting-IP of its own choosing, keeps the address the ALB saw.
 */
export function createClientIpSource(provider: EdgeProvider, albPeers: readonly string[] = ALB_PEER_RANGES): (input: ClientIpInput) => ClientIpSource {
  const alb = blockList(albPeers);
  const cloudflare = blockList([...CLOUDFLARE_IPV4_RANGES, ...CLOUDFLARE_IPV6_RANGES]);
  return ({ peer, xForwardedFor, cfConnectingIp }) => {
    const peerIp = parseIp(peer)?.address ?? '';
    const xff = typeof xForwardedFor === 'string' ? xForwardedFor : xForwardedFor?.join(',');
    const lastEntry = xff === undefined ? undefined : parseIp(xff.split(',').pop());
    const albSaw = contains(alb, peerIp) && lastEntry ? lastEntry.address : peerIp;
    if (provider === 'none' || !contains(cloudflare, albSaw) || typeof cfConnectingIp !== 'string') return { clientIp: albSaw, albSaw };
    // Exactly the header's text: a list, a port or padding is not what Cloudflare writes.
    const cf = parseIp(cfConnectingIp);
    return { clientIp: cf && cf.address === cfConnectingIp ? cf.address : albSaw, albSaw };
  };
}
