import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { asyncListener, readBody } from '../http-body';
import { ec2Error, ec2Response, el, fields, list, queryError, queryList, queryResponse, XmlNode } from './query-xml';

/**
 * A stand-in, on 127.0.0.1, for the slice of an AWS account that `npm run preflight` and
 * `npm run dns-records` read: STS, CloudFormation, EC2, ELBv2 and RDS (Query protocols, XML
 * answers), ACM and ECS (JSON 1.1) and SESv2 (REST-JSON). Like one AWS endpoint per service, it
 * tells the services apart by the SigV4 credential scope (`…/<region>/<service>/aws4_request`),
 * refuses unsigned requests, and answers each API's documented errors with its codes and HTTP
 * statuses. Tests fill in the resources; point the SDK at `url` (e.g. `AWS_ENDPOINT_URL`).
 */

export interface StackState {
  StackStatus: string;
  Outputs: Record<string, string>;
  Parameters?: Record<string, string>;
  Resources: Array<{ LogicalResourceId: string; PhysicalResourceId?: string; ResourceType: string; ResourceStatus: string }>;
}

export interface CertificateState {
  DomainName: string;
  SubjectAlternativeNames?: string[];
  Status: 'PENDING_VALIDATION' | 'ISSUED' | 'INACTIVE' | 'EXPIRED' | 'VALIDATION_TIMED_OUT' | 'REVOKED' | 'FAILED';
  /** Validation per name; ResourceRecord left out means ACM has not produced it yet. */
  DomainValidationOptions: Array<{
    DomainName: string;
    ValidationStatus: 'PENDING_VALIDATION' | 'SUCCESS' | 'FAILED';
    ValidationMethod: 'DNS' | 'EMAIL';
    ResourceRecord?: { Name: string; Type: 'CNAME'; Value: string };
  }>;
}

export interface OrderableOption {
  Engine: string;
  EngineVersion: string;
  DBInstanceClass: string;
  StorageType: string;
  MultiAZCapable: boolean;
  AvailabilityZones: string[];
}

export interface AccountState {
  account: string;
  callerArn: string;
  /** When set, every request is refused as AWS refuses a bad or deleted access key. */
  rejectCredentials: boolean;
  stacks: Map<string, StackState>;
  certificates: Map<string, CertificateState>;
  vpcs: Map<string, { cidrBlock: string; state: 'available' | 'pending' }>;
  subnets: Map<string, { vpcId: string; availabilityZone: string; cidrBlock: string; state: 'available' | 'pending' }>;
  loadBalancers: Map<string, { DNSName: string; CanonicalHostedZoneId: string; VpcId: string; Type: 'application' | 'network'; State: 'active' | 'provisioning' | 'failed' }>;
  listeners: Map<string, { LoadBalancerArn: string; Port: number; Protocol: 'HTTP' | 'HTTPS' }>;
  clusters: Map<string, { status: 'ACTIVE' | 'PROVISIONING' | 'DEPROVISIONING' | 'FAILED' | 'INACTIVE' }>;
  /** ECS services by `<cluster name>/<service name>`; `deployments` counts the deployments UpdateService started. */
  services: Map<string, { status: 'ACTIVE' | 'DRAINING' | 'INACTIVE'; desiredCount: number; deployments: number }>;
  dbInstances: Map<string, { Address: string; Port: number; Engine: string; EngineVersion: string; DBInstanceStatus: string }>;
  orderable: OrderableOption[];
  /** SES identities by `<region>/<identity>`. */
  emailIdentities: Map<
    string,
    { IdentityType: 'DOMAIN' | 'EMAIL_ADDRESS'; VerifiedForSendingStatus: boolean; VerificationStatus: 'PENDING' | 'SUCCESS' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED' }
  >;
  /** How many items one page of a paginated answer holds (AWS: 100 for these APIs). */
  pageSize: number;
}

export interface AccountStandIn extends AccountState {
  readonly url: string;
  /** `<service>:<operation>` of every request, in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

const NAMESPACES: Record<string, { ns: string; version: string }> = {
  sts: { ns: 'https://sts.amazonaws.com/doc/2011-06-15/', version: '2011-06-15' },
  cloudformation: { ns: 'http://cloudformation.amazonaws.com/doc/2010-05-15/', version: '2010-05-15' },
  rds: { ns: 'http://rds.amazonaws.com/doc/2014-10-31/', version: '2014-10-31' },
  elasticloadbalancing: { ns: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/', version: '2015-12-01' },
  ec2: { ns: 'http://ec2.amazonaws.com/doc/2016-11-15/', version: '2016-11-15' },
};
const JSON_TARGETS: Record<string, string> = { acm: 'CertificateManager.', ecs: 'AmazonEC2ContainerServiceV20141113.' };

/** A service error: its code, message and HTTP status, as the API reference lists them. */
class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Handler = (params: URLSearchParams, region: string) => XmlNode[];
type JsonHandler = (body: Record<string, unknown>, region: string) => unknown;

/** One page of `items` from the marker/token `start`, with the next one when more remain. */
function page<T>(items: T[], start: string | null, size: number): { items: T[]; next?: string } {
  const from = start ? Number(Buffer.from(start, 'base64').toString('utf8')) : 0;
  const to = from + size;
  return { items: items.slice(from, to), ...(to < items.length ? { next: Buffer.from(String(to)).toString('base64') } : {}) };
}

export async function startAccountStandIn(init: Partial<AccountState> = {}): Promise<AccountStandIn> {
  const calls: string[] = [];
  const state: AccountState = {
    account: '111122223333',
    callerArn: 'arn:aws:sts::111122223333:assumed-role/deployer/stand-in',
    rejectCredentials: false,
    stacks: new Map(),
    certificates: new Map(),
    vpcs: new Map(),
    subnets: new Map(),
    loadBalancers: new Map(),
    listeners: new Map(),
    clusters: new Map(),
    services: new Map(),
    dbInstances: new Map(),
    orderable: [],
    emailIdentities: new Map(),
    pageSize: 100,
    ...init,
  };
  const stackId = (name: string) => `arn:aws:cloudformation:us-east-1:${state.account}:stack/${name}/0e3c8a40-0000-4000-8000-000000000000`;
  const stack = (name: string | null): StackState => {
    const found = name ? state.stacks.get(name) : undefined;
    if (!found) throw new ApiError('ValidationError', `Stack with id ${name} does not exist`);
    return found;
  };

  const query: Record<string, Record<string, Handler>> = {
    sts: {
      GetCallerIdentity: () => fields({ Arn: state.callerArn, UserId: 'AROASTANDIN0000000000:stand-in', Account: state.account }),
    },
    cloudformation: {
      DescribeStacks: (p) => {
        const name = p.get('StackName');
        const s = stack(name);
        const member: XmlNode[] = [
          ...fields({ StackName: name ?? undefined, StackId: stackId(name as string), CreationTime: '2026-01-05T10:00:00.000Z', StackStatus: s.StackStatus }),
          list(
            'Parameters',
            Object.entries(s.Parameters ?? {}).map(([ParameterKey, ParameterValue]) => fields({ ParameterKey, ParameterValue })),
          ),
          list(
            'Outputs',
            Object.entries(s.Outputs).map(([OutputKey, OutputValue]) => fields({ OutputKey, OutputValue })),
          ),
        ];
        return [list('Stacks', [member])];
      },
      ListStackResources: (p) => {
        const { items, next } = page(stack(p.get('StackName')).Resources, p.get('NextToken'), state.pageSize);
        return [
          list(
            'StackResourceSummaries',
            items.map((r) => fields({ ...r, LastUpdatedTimestamp: '2026-01-05T10:01:00.000Z' })),
          ),
          ...fields({ NextToken: next }),
        ];
      },
    },
    rds: {
      DescribeDBInstances: (p) => {
        const id = p.get('DBInstanceIdentifier');
        const db = id ? state.dbInstances.get(id) : undefined;
        if (!db) throw new ApiError('DBInstanceNotFound', `DBInstance ${id} not found.`, 404);
        const instance = [
          ...fields({ DBInstanceIdentifier: id as string, DBInstanceClass: 'db.m5.large', Engine: db.Engine, DBInstanceStatus: db.DBInstanceStatus, EngineVersion: db.EngineVersion }),
          el('Endpoint', fields({ Address: db.Address, Port: db.Port, HostedZoneId: 'Z2R2ITUGPM61AM' })),
        ];
        return [list('DBInstances', [instance], 'DBInstance')];
      },
      DescribeOrderableDBInstanceOptions: (p) => {
        const engine = p.get('Engine');
        if (!engine) throw new ApiError('MissingParameter', 'The request must contain the parameter Engine');
        const matches = state.orderable.filter(
          (o) => o.Engine === engine && (!p.get('EngineVersion') || o.EngineVersion === p.get('EngineVersion')) && (!p.get('DBInstanceClass') || o.DBInstanceClass === p.get('DBInstanceClass')),
        );
        const size = Math.min(Number(p.get('MaxRecords') ?? 100), state.pageSize);
        const { items, next } = page(matches, p.get('Marker'), size);
        return [
          list(
            'OrderableDBInstanceOptions',
            items.map((o) => [
              ...fields({ Engine: o.Engine, EngineVersion: o.EngineVersion, DBInstanceClass: o.DBInstanceClass, LicenseModel: 'postgresql-license' }),
              list(
                'AvailabilityZones',
                o.AvailabilityZones.map((Name) => fields({ Name })),
                'AvailabilityZone',
              ),
              ...fields({ MultiAZCapable: o.MultiAZCapable, Vpc: true, SupportsStorageEncryption: true, StorageType: o.StorageType }),
            ]),
            'OrderableDBInstanceOption',
          ),
          ...fields({ Marker: next }),
        ];
      },
    },
    elasticloadbalancing: {
      DescribeListeners: (p) => {
        const arns = queryList(p, 'ListenerArns.member');
        if (arns.some((a) => !state.listeners.has(a))) throw new ApiError('ListenerNotFound', 'One or more listeners not found');
        return [
          list(
            'Listeners',
            arns.map((arn) => {
              const l = state.listeners.get(arn)!;
              return fields({ ListenerArn: arn, LoadBalancerArn: l.LoadBalancerArn, Port: l.Port, Protocol: l.Protocol });
            }),
          ),
        ];
      },
      DescribeLoadBalancers: (p) => {
        const arns = queryList(p, 'LoadBalancerArns.member');
        if (arns.some((a) => !state.loadBalancers.has(a))) throw new ApiError('LoadBalancerNotFound', 'One or more load balancers not found');
        return [
          list(
            'LoadBalancers',
            arns.map((arn) => {
              const lb = state.loadBalancers.get(arn)!;
              return [
                ...fields({
                  LoadBalancerArn: arn,
                  DNSName: lb.DNSName,
                  CanonicalHostedZoneId: lb.CanonicalHostedZoneId,
                  LoadBalancerName: arn.split('/')[2],
                  Scheme: 'internet-facing',
                  VpcId: lb.VpcId,
                }),
                el('State', fields({ Code: lb.State })),
                ...fields({ Type: lb.Type }),
              ];
            }),
          ),
        ];
      },
    },
  };

  const ec2: Record<string, Handler> = {
    DescribeVpcs: (p) => {
      const ids = queryList(p, 'VpcId');
      const missing = ids.find((id) => !state.vpcs.has(id));
      if (missing) throw new ApiError('InvalidVpcID.NotFound', `The vpc ID '${missing}' does not exist`);
      return [
        list(
          'vpcSet',
          ids.map((id) => fields({ vpcId: id, ownerId: state.account, state: state.vpcs.get(id)!.state, cidrBlock: state.vpcs.get(id)!.cidrBlock, isDefault: false })),
          'item',
        ),
      ];
    },
    DescribeSubnets: (p) => {
      const ids = queryList(p, 'SubnetId');
      const missing = ids.find((id) => !state.subnets.has(id));
      if (missing) throw new ApiError('InvalidSubnetID.NotFound', `The subnet ID '${missing}' does not exist`);
      return [
        list(
          'subnetSet',
          ids.map((id) => {
            const s = state.subnets.get(id)!;
            return fields({ subnetId: id, state: s.state, vpcId: s.vpcId, cidrBlock: s.cidrBlock, availabilityZone: s.availabilityZone, ownerId: state.account });
          }),
          'item',
        ),
      ];
    },
  };

  const json: Record<string, Record<string, JsonHandler>> = {
    acm: {
      DescribeCertificate: (body) => {
        const arn = String(body.CertificateArn ?? '');
        if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/.test(arn)) {
          throw new ApiError('InvalidArnException', `The certificate ARN ${arn} is not valid.`);
        }
        const cert = state.certificates.get(arn);
        if (!cert) throw new ApiError('ResourceNotFoundException', `Could not find certificate ${arn}.`);
        return {
          Certificate: {
            CertificateArn: arn,
            DomainName: cert.DomainName,
            SubjectAlternativeNames: cert.SubjectAlternativeNames ?? [cert.DomainName],
            DomainValidationOptions: cert.DomainValidationOptions.map((o) => ({ ...o, ValidationDomain: o.DomainName })),
            Status: cert.Status,
            Type: 'AMAZON_ISSUED',
            KeyAlgorithm: 'RSA_2048',
            CreatedAt: 1767607200,
            InUseBy: [],
          },
        };
      },
    },
    ecs: {
      DescribeClusters: (body, region) => {
        const names = (body.clusters as string[] | undefined) ?? ['default'];
        const arn = (n: string) => `arn:aws:ecs:${region}:${state.account}:cluster/${n}`;
        return {
          clusters: names
            .filter((n) => state.clusters.has(n))
            .map((n) => ({
              clusterArn: arn(n),
              clusterName: n,
              status: state.clusters.get(n)!.status,
              registeredContainerInstancesCount: 0,
              runningTasksCount: 0,
              pendingTasksCount: 0,
              activeServicesCount: 0,
            })),
          failures: names.filter((n) => !state.clusters.has(n)).map((n) => ({ arn: arn(n), reason: 'MISSING' })),
        };
      },
      // UpdateService (ECS API reference): cluster (name or ARN, default "default") and service (name or
      // ARN, required); an unknown cluster is ClusterNotFoundException, an unknown service
      // ServiceNotFoundException, one being deleted ServiceNotActiveException. forceNewDeployment
      // starts a deployment with the same task definition; the answer is the service as it now is.
      UpdateService: (body, region) => {
        const nameOf = (v: unknown) => String(v).split('/').pop()!;
        if (typeof body.service !== 'string' || !body.service) throw new ApiError('InvalidParameterException', 'service can not be blank.');
        const cluster = nameOf(body.cluster ?? 'default');
        if (!state.clusters.has(cluster)) throw new ApiError('ClusterNotFoundException', 'Cluster not found.');
        const name = nameOf(body.service);
        const service = state.services.get(`${cluster}/${name}`);
        if (!service) throw new ApiError('ServiceNotFoundException', 'Service not found.');
        if (service.status !== 'ACTIVE') throw new ApiError('ServiceNotActiveException', 'Service was not ACTIVE.');
        if (body.forceNewDeployment === true) service.deployments += 1;
        const clusterArn = `arn:aws:ecs:${region}:${state.account}:cluster/${cluster}`;
        return {
          service: {
            serviceArn: `arn:aws:ecs:${region}:${state.account}:service/${cluster}/${name}`,
            serviceName: name,
            clusterArn,
            status: service.status,
            desiredCount: service.desiredCount,
            deployments: Array.from({ length: service.deployments }, (_, n) => ({ id: `ecs-svc/${n + 1}`, status: n + 1 === service.deployments ? 'PRIMARY' : 'ACTIVE' })),
          },
        };
      },
    },
  };

  function sesv2(req: IncomingMessage, res: ServerResponse, region: string) {
    const m = /^\/v2\/email\/identities\/([^/?]+)$/.exec(req.url ?? '');
    const send = (status: number, body: unknown, type?: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), ...(type ? { 'x-amzn-errortype': type } : {}) });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' || !m) return send(404, { message: `no such operation ${req.method} ${req.url}` }, 'UnknownOperationException');
    calls.push('ses:GetEmailIdentity');
    const identity = decodeURIComponent(m[1]);
    const found = state.emailIdentities.get(`${region}/${identity}`);
    if (!found) return send(404, { message: `Email identity ${identity} does not exist.` }, 'NotFoundException');
    send(200, { ...found, FeedbackForwardingStatus: true, DkimAttributes: { SigningEnabled: true, Status: found.VerificationStatus, SigningAttributesOrigin: 'AWS_SES' } });
  }

  const server: Server = createServer(
    asyncListener(async (req, res) => {
      const raw = await readBody(req);
      const scope = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
      const xml = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
        res.end(body);
      };
      const jsonReply = (status: number, body: unknown, type?: string) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), ...(type ? { 'x-amzn-errortype': type } : {}) });
        res.end(JSON.stringify(body));
      };
      if (!scope) {
        res.writeHead(403, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ message: 'Missing Authentication Token' }));
      }
      const [, region, service] = scope;
      const target = String(req.headers['x-amz-target'] ?? '');
      try {
        if (state.rejectCredentials)
          throw new ApiError(
            service === 'ec2' ? 'AuthFailure' : service in JSON_TARGETS ? 'UnrecognizedClientException' : 'InvalidClientTokenId',
            'The security token included in the request is invalid.',
            403,
          );
        if (service === 'ses') return sesv2(req, res, region);
        if (service in JSON_TARGETS) {
          const operation = target.startsWith(JSON_TARGETS[service]) ? target.slice(JSON_TARGETS[service].length) : '';
          const handler = json[service][operation];
          if (!handler || req.method !== 'POST') throw new ApiError('UnknownOperationException', `unsupported ${req.method} ${target}`);
          calls.push(`${service}:${operation}`);
          return jsonReply(200, handler(JSON.parse(raw || '{}') as Record<string, unknown>, region));
        }
        const params = new URLSearchParams(raw);
        const action = params.get('Action') ?? '';
        const api = NAMESPACES[service];
        const handler = service === 'ec2' ? ec2[action] : query[service]?.[action];
        if (!api || !handler) throw new ApiError('InvalidAction', `The action ${action} is not valid for this web service.`);
        if (params.get('Version') !== api.version) throw new ApiError('InvalidParameterValue', `Version ${params.get('Version')} is not supported; expected ${api.version}`);
        calls.push(`${service}:${action}`);
        const body = handler(params, region);
        return xml(200, service === 'ec2' ? ec2Response(action, api.ns, body) : queryResponse(action, api.ns, body));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (service in JSON_TARGETS) return jsonReply(err.status, { __type: err.code, message: err.message }, err.code);
        if (service === 'ses') {
          res.writeHead(err.status, { 'content-type': 'application/json', 'x-amzn-errortype': err.code });
          return res.end(JSON.stringify({ message: err.message }));
        }
        return xml(err.status, service === 'ec2' ? ec2Error(err.code, err.message) : queryError(NAMESPACES[service]?.ns ?? '', err.code, err.message));
      }
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  });
}
