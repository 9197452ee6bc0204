import { ALB_PEER_RANGES, createClientIpSource, type EdgeProvider } from '../../chat-domain/client-ip';
import { CLIENT_IP_CASES } from '../support/client-ip-cases';

describe.each(['none', 'cloudflare'] as const)('createClientIpSource, edge.provider %s', (provider: EdgeProvider) => {
  // 127.0.0.1 plays the ALB as in the nginx test of docker/synapse-edge; 127.0.0.2 a stranger.
  const source = createClientIpSource(provider, ['127.0.0.1/32']);

  // The same cases Synapse's edge proxy answers under nginx (test/docker/synapse-edge/edge.test.ts).
  it.each(CLIENT_IP_CASES)('attributes to $name', (c) => {
    const peer = c.from === 'alb' ? '127.0.0.1' : '127.0.0.2';
    const expected = c[provider];
    expect(source({ peer, xForwardedFor: c.xForwardedFor, cfConnectingIp: c.cfConnectingIp }).clientIp).toBe(expected === 'alb' || expected === 'peer' ? peer : expected);
  });

  it('reads repeated headers as Node gives them, and an IPv4-mapped peer as IPv4', () => {
    expect(source({ peer: '::ffff:127.0.0.1', xForwardedFor: ['6.6.6.6', '203.0.113.7'], cfConnectingIp: undefined })).toEqual({ clientIp: '203.0.113.7', albSaw: '203.0.113.7' });
    // Two CF-Connecting-IP headers are not what Cloudflare sends.
    expect(source({ peer: '127.0.0.1', xForwardedFor: '173.245.48.5', cfConnectingIp: ['198.51.100.9', '6.6.6.6'] }).clientIp).toBe('173.245.48.5');
  });

  it('keeps the peer when the last X-Forwarded-For entry is no address', () => {
    expect(source({ peer: '127.0.0.1', xForwardedFor: '203.0.113.7, not-an-ip', cfConnectingIp: undefined }).clientIp).toBe('127.0.0.1');
  });
});

describe('the ALB peer ranges', () => {
  it('believe a VPC address and no public one by default', () => {
    const source = createClientIpSource('none');
    expect(ALB_PEER_RANGES).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
    expect(source({ peer: '10.0.1.20', xForwardedFor: '203.0.113.7', cfConnectingIp: undefined }).clientIp).toBe('203.0.113.7');
    expect(source({ peer: '198.51.100.1', xForwardedFor: '203.0.113.7', cfConnectingIp: undefined }).clientIp).toBe('198.51.100.1');
  });

  it('refuses a malformed range', () => {
    expect(() => createClientIpSource('none', ['10.0.0.0'])).toThrow('not a CIDR block: 10.0.0.0');
  });
});
