/**
 * Evaluates a synthesized template's ALB listener rules for one request, the way the ALB does
 * (Elastic Load Balancing "Listener rules" and "Path conditions"): rules in ascending priority, every
 * condition of a rule must match, the first matching rule's actions run, else the listener default.
 *
 * - host-header: case-insensitive, `*` and `?` wildcards.
 * - path-pattern: case-sensitive, on the path only (never the query), `*` and `?` wildcards.
 * - source-ip: IPv4 CIDRs, matched against the address the ALB sees (the connecting peer).
 * - redirect: #{protocol} #{host} #{port} #{path} #{query} placeholders; unset fields keep the request's.
 *
 * Used by the routing tests and by the ALB-shaped loopback proxy of the manual browser check.
 */

export interface AlbRequest {
  readonly host: string;
  /** The path exactly as sent (no normalization: the ALB matches what it receives). */
  readonly path: string;
  /** Without the leading "?"; empty when the request has none. */
  readonly query?: string;
  /** The connecting peer's IPv4 address. @default '198.51.100.10' */
  readonly sourceIp?: string;
  /** @default 'https' */
  readonly protocol?: 'http' | 'https';
  /** @default 443 */
  readonly port?: number;
  /** @default 'GET' */
  readonly method?: string;
}

export type AlbAction =
  | { readonly type: 'forward'; readonly targetGroup: string }
  | { readonly type: 'redirect'; readonly status: 301 | 302; readonly location: string }
  | { readonly type: 'fixed-response'; readonly status: number; readonly contentType?: string; readonly body?: string }
  | {
      readonly type: 'authenticate-cognito';
      readonly onUnauthenticatedRequest: 'authenticate' | 'deny' | 'allow';
      readonly userPoolClient: unknown;
      readonly sessionCookieName: string;
      readonly sessionTimeoutSeconds: number;
      readonly scope: string;
    };

export interface AlbRouting {
  /** The matching rule's priority, or 'default' for the listener's default action. */
  readonly priority: number | 'default';
  /** The matching rule's logical id (undefined for the default action). */
  readonly ruleId?: string;
  /** The actions in order (an authenticate action comes before its forward). */
  readonly actions: readonly AlbAction[];
}

type Json = Record<string, unknown>;

/** An ALB wildcard pattern (`*` any run of characters, `?` one) as a regular expression; `flags` 'i' for host headers. */
const wildcard = (pattern: string, flags = '') =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    flags,
  );

/** Whether the ALB's path condition `pattern` matches `path` (case-sensitive, the whole path). */
export const albPathPatternMatches = (pattern: string, path: string): boolean => wildcard(pattern).test(path);

function ipv4ToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(base) & mask);
}

function conditionMatches(condition: Json, req: Required<AlbRequest>): boolean {
  switch (condition.Field) {
    case 'host-header':
      return ((condition.HostHeaderConfig as Json).Values as string[]).some((v) => wildcard(v, 'i').test(req.host));
    case 'path-pattern':
      return ((condition.PathPatternConfig as Json).Values as string[]).some((v) => wildcard(v).test(req.path));
    case 'source-ip':
      return ((condition.SourceIpConfig as Json).Values as string[]).some((c) => inCidr(req.sourceIp, c));
    case 'http-request-method':
      // Case-sensitive, as the ALB compares methods.
      return ((condition.HttpRequestMethodConfig as Json).Values as string[]).includes(req.method);
    default:
      throw new Error(`the ALB rule evaluator does not know the condition ${String(condition.Field)}`);
  }
}

function action(a: Json, req: Required<AlbRequest>): AlbAction {
  switch (a.Type) {
    case 'forward': {
      const tg = (a.TargetGroupArn ?? ((a.ForwardConfig as Json | undefined)?.TargetGroups as Json[] | undefined)?.[0]?.TargetGroupArn) as Json;
      return { type: 'forward', targetGroup: String(tg?.Ref ?? JSON.stringify(tg)) };
    }
    case 'redirect': {
      const c = a.RedirectConfig as Json;
      const sub = (v: unknown, dflt: string) =>
        String(v ?? dflt)
          .replace(/#\{protocol\}/g, req.protocol)
          .replace(/#\{host\}/g, req.host)
          .replace(/#\{port\}/g, String(req.port))
          .replace(/#\{path\}/g, req.path.replace(/^\//, ''))
          .replace(/#\{query\}/g, req.query);
      const protocol = sub(c.Protocol, '#{protocol}').toLowerCase();
      const path = sub(c.Path, '/#{path}');
      const query = sub(c.Query, '#{query}');
      const location = `${protocol}://${sub(c.Host, '#{host}')}:${sub(c.Port, '#{port}')}${path}${query ? `?${query}` : ''}`;
      return { type: 'redirect', status: c.StatusCode === 'HTTP_301' ? 301 : 302, location };
    }
    case 'fixed-response': {
      const c = a.FixedResponseConfig as Json;
      return { type: 'fixed-response', status: Number(c.StatusCode), contentType: c.ContentType as string | undefined, body: c.MessageBody as string | undefined };
    }
    case 'authenticate-cognito': {
      const c = a.AuthenticateCognitoConfig as Json;
      return {
        type: 'authenticate-cognito',
        onUnauthenticatedRequest: ((c.OnUnauthenticatedRequest as string | undefined) ?? 'authenticate') as 'authenticate' | 'deny' | 'allow',
        userPoolClient: c.UserPoolClientId,
        sessionCookieName: (c.SessionCookieName as string | undefined) ?? 'AWSELBAuthSessionCookie',
        sessionTimeoutSeconds: Number(c.SessionTimeout ?? 604800),
        scope: (c.Scope as string | undefined) ?? 'openid',
      };
    }
    default:
      throw new Error(`the ALB rule evaluator does not know the action ${String(a.Type)}`);
  }
}

const ordered = (actions: Json[]) => [...actions].sort((x, y) => Number(x.Order ?? 0) - Number(y.Order ?? 0));

/**
 * Routes `request` through the rules of the template's HTTPS (443) listener.
 * @param template the synthesized template (Template.toJSON())
 */
export function routeRequest(template: Json, request: AlbRequest): AlbRouting {
  const req: Required<AlbRequest> = { query: '', sourceIp: '198.51.100.10', protocol: 'https', port: 443, method: 'GET', ...request };
  const resources = template.Resources as Record<string, { Type: string; Properties: Json }>;
  const listeners = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener' && r.Properties.Port === 443);
  if (listeners.length !== 1) throw new Error(`expected one HTTPS listener in the template, found ${listeners.length}`);
  const [listenerId, listener] = listeners[0];
  const rules = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::ListenerRule' && (r.Properties.ListenerArn as Json)?.Ref === listenerId)
    .sort(([, a], [, b]) => Number(a.Properties.Priority) - Number(b.Properties.Priority));
  for (const [ruleId, rule] of rules) {
    if ((rule.Properties.Conditions as Json[]).every((c) => conditionMatches(c, req))) {
      return { priority: Number(rule.Properties.Priority), ruleId, actions: ordered(rule.Properties.Actions as Json[]).map((a) => action(a, req)) };
    }
  }
  return { priority: 'default', actions: ordered(listener.Properties.DefaultActions as Json[]).map((a) => action(a, req)) };
}
