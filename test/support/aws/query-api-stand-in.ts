import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { asyncListener, readBody } from '../http-body';

/**
 * A stand-in on 127.0.0.1 for the three AWS Query-protocol APIs the deletion-protection step calls
 * (CloudFormation 2010-05-15, RDS 2014-10-31, Elastic Load Balancing v2 2015-12-01), shaped as their
 * API references define the protocol: `POST /` with a form-encoded body (`Action`, `Version`, flattened
 * parameters such as `Attributes.member.1.Key`), SigV4-signed (the service is the credential scope's),
 * answered with `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>` XML, and errors as
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error>` with the documented codes. It refuses what the
 * services refuse: deleting a protected DB instance or load balancer, an unknown instance or stack.
 * Point all three SDK clients at `url`.
 */
export interface StackState {
  status: string;
  terminationProtection: boolean;
}

export interface QueryCall {
  readonly service: string;
  readonly action: string;
  readonly params: Record<string, string>;
}

export interface QueryApiStandIn {
  readonly url: string;
  /** CloudFormation stacks by stack id. */
  readonly stacks: Map<string, StackState>;
  /** RDS instances by identifier: their DeletionProtection. */
  readonly dbInstances: Map<string, { deletionProtection: boolean }>;
  /** Application load balancers by ARN: their attributes. */
  readonly loadBalancers: Map<string, Record<string, string>>;
  /** Every request received, in order. */
  readonly calls: QueryCall[];
  close(): Promise<void>;
}

class QueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const NAMESPACES: Record<string, { version: string; xmlns: string }> = {
  cloudformation: { version: '2010-05-15', xmlns: 'http://cloudformation.amazonaws.com/doc/2010-05-15/' },
  rds: { version: '2014-10-31', xmlns: 'http://rds.amazonaws.com/doc/2014-10-31/' },
  elasticloadbalancing: { version: '2015-12-01', xmlns: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/' },
};

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startQueryApiStandIn(): Promise<QueryApiStandIn> {
  const stacks = new Map<string, StackState>();
  const dbInstances = new Map<string, { deletionProtection: boolean }>();
  const loadBalancers = new Map<string, Record<string, string>>();
  const calls: QueryCall[] = [];

  const stack = (name: string) => {
    const found = stacks.get(name);
    if (!found) throw new QueryError(400, 'ValidationError', `Stack with id ${name} does not exist`);
    return found;
  };
  const db = (id: string) => {
    const found = dbInstances.get(id);
    if (!found) throw new QueryError(404, 'DBInstanceNotFound', `DBInstance ${id} not found.`);
    return found;
  };
  const alb = (arn: string) => {
    const found = loadBalancers.get(arn);
    if (!found) throw new QueryError(400, 'LoadBalancerNotFound', `Load balancers '[${arn}]' not found`);
    return found;
  };
  const dbInstanceXml = (id: string) =>
    `<DBInstance><DBInstanceIdentifier>${xmlEscape(id)}</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>` +
    `<Engine>postgres</Engine><DeletionProtection>${db(id).deletionProtection}</DeletionProtection></DBInstance>`;

  const actions: Record<string, Record<string, (p: Record<string, string>) => string>> = {
    cloudformation: {
      DescribeStacks(p) {
        const s = stack(p.StackName);
        return (
          `<Stacks><member><StackId>${xmlEscape(p.StackName)}</StackId><StackName>${xmlEscape(p.StackName.split('/')[1] ?? p.StackName)}</StackName>` +
          `<CreationTime>2026-12-01T10:00:00.000Z</CreationTime><StackStatus>${s.status}</StackStatus>` +
          `<EnableTerminationProtection>${s.terminationProtection}</EnableTerminationProtection></member></Stacks>`
        );
      },
      UpdateTerminationProtection(p) {
        const s = stack(p.StackName);
        // "You can set termination protection on a stack with any status except DELETE_IN_PROGRESS or DELETE_COMPLETE."
        if (s.status.startsWith('DELETE_')) throw new QueryError(400, 'ValidationError', `Stack ${p.StackName} is in ${s.status} state`);
        s.terminationProtection = p.EnableTerminationProtection === 'true';
        return `<StackId>${xmlEscape(p.StackName)}</StackId>`;
      },
    },
    rds: {
      ModifyDBInstance(p) {
        const instance = db(p.DBInstanceIdentifier);
        if (p.DeletionProtection !== undefined) instance.deletionProtection = p.DeletionProtection === 'true';
        return dbInstanceXml(p.DBInstanceIdentifier);
      },
      DescribeDBInstances(p) {
        return `<DBInstances>${dbInstanceXml(p.DBInstanceIdentifier)}</DBInstances>`;
      },
      DeleteDBInstance(p) {
        if (db(p.DBInstanceIdentifier).deletionProtection) {
          throw new QueryError(400, 'InvalidParameterCombination', 'Cannot delete protected DB Instance, please disable deletion protection and try again.');
        }
        const xml = dbInstanceXml(p.DBInstanceIdentifier);
        dbInstances.delete(p.DBInstanceIdentifier);
        return xml;
      },
    },
    elasticloadbalancing: {
      ModifyLoadBalancerAttributes(p) {
        const attributes = alb(p.LoadBalancerArn);
        for (let i = 1; p[`Attributes.member.${i}.Key`] !== undefined; i++) attributes[p[`Attributes.member.${i}.Key`]] = p[`Attributes.member.${i}.Value`];
        const members = Object.entries(attributes).map(([k, v]) => `<member><Key>${xmlEscape(k)}</Key><Value>${xmlEscape(v)}</Value></member>`);
        return `<Attributes>${members.join('')}</Attributes>`;
      },
      DeleteLoadBalancer(p) {
        if (alb(p.LoadBalancerArn)['deletion_protection.enabled'] === 'true') {
          throw new QueryError(400, 'OperationNotPermitted', `Load balancer '${p.LoadBalancerArn}' cannot be deleted because deletion protection is enabled`);
        }
        loadBalancers.delete(p.LoadBalancerArn);
        return '';
      },
    },
  };

  const server: Server = createServer(
    asyncListener(async (req, res) => {
      const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
      const service = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
      const ns = NAMESPACES[service];
      const requestId = randomUUID();
      const fail = (err: QueryError) => {
        res.writeHead(err.status, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="${ns?.xmlns ?? ''}"><Error><Type>Sender</Type><Code>${err.code}</Code>` +
            `<Message>${xmlEscape(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      };
      if (!ns || req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        return fail(new QueryError(400, 'MissingAuthenticationToken', `unsupported ${req.method} for service "${service}"`));
      }
      const action = actions[service][params.Action];
      if (!action || params.Version !== ns.version) return fail(new QueryError(400, 'InvalidAction', `${params.Action} (${params.Version}) is not valid for ${service}`));
      const { Action, Version: _version, ...rest } = params;
      calls.push({ service, action: Action, params: rest });
      try {
        const result = action(rest);
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(`<${Action}Response xmlns="${ns.xmlns}"><${Action}Result>${result}</${Action}Result>` + `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${Action}Response>`);
      } catch (err) {
        if (!(err instanceof QueryError)) throw err;
        fail(err);
      }
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stacks,
    dbInstances,
    loadBalancers,
    calls,
    close: () => new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
