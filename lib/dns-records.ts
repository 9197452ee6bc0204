/**
 * The DNS (and web) records a person creates by hand, by design: the stack cannot write them
 * because the seeds' DNS lives at Cloudflare and the Matrix server name's apex is another site.
 * The stack prints each as an output; `npm run dns-records` prints them too, with the certificate's
 * validation CNAME, which only ACM knows. This module has no CDK import so that script stays light.
 */

/** Stack output keys of the records, read by `npm run dns-records` and the runbook. */
export const DNS_RECORD_OUTPUTS = {
  /** `<domainName> CNAME <load balancer DNS name>` */
  cname: 'DnsCnameRecord',
  /** `https://<matrixServerName>/.well-known/matrix/server` (only when the server name is not the domain) */
  wellKnownUrl: 'MatrixServerWellKnownUrl',
  /** The JSON that URL must answer with. */
  wellKnownBody: 'MatrixServerWellKnownBody',
} as const;

/** The record pointing the chat domain at the load balancer, as a DNS provider's form asks for it. */
export function cnameRecord(domainName: string, loadBalancerDnsName: string): string {
  return `${domainName} CNAME ${loadBalancerDnsName}`;
}

export interface MatrixServerWellKnown {
  readonly url: string;
  /** `{"m.server":"<domainName>:443"}`: federating servers reach the homeserver on 443, not 8448. */
  readonly body: string;
}

/**
 * The delegation file the Matrix server name's own web server must serve, or undefined when the
 * server name is the chat domain itself (Synapse then serves it, `serve_server_wellknown`).
 * Matrix server-server API, "Resolving server names": `/.well-known/matrix/server` on the server
 * name's host, with `m.server` naming the delegated host and port.
 */
export function matrixServerWellKnown(config: { readonly domainName: string; readonly matrixServerName: string }): MatrixServerWellKnown | undefined {
  if (config.matrixServerName === config.domainName) return undefined;
  return {
    url: `https://${config.matrixServerName}/.well-known/matrix/server`,
    body: JSON.stringify({ 'm.server': `${config.domainName}:443` }),
  };
}
