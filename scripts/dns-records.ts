/**
 * Prints the records a person creates by hand for an environment, exactly as they are to be typed
 * in: the certificate's validation CNAME (from ACM), the domain's CNAME to the load balancer (from
 * the stack), and in production the apex's Matrix delegation file.
 *
 *   npm run dns-records -- -c env=production
 *
 * Run it while `cdk deploy` waits at the certificate (the validation record exists from about a
 * minute into the deploy), and again when the deploy has finished.
 */
import { DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeStacksCommand, ListStackResourcesCommand, Stack, StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { stackName } from '../lib/app';
import { ChatConfig } from '../lib/config';
import { cnameRecord, DNS_RECORD_OUTPUTS, matrixServerWellKnown } from '../lib/dns-records';
import { AwsClients } from './aws/clients';
import { awsErrorCode, awsErrorFix } from './aws/errors';
import { parseScriptArgs, runMain } from './cli';
import { checkedOrExitCode, loadDeployTarget } from './deploy-config';

const USAGE = 'usage: npm run dns-records -- -c env=NAME [--endpoint-url URL]';

export interface DnsRecord {
  /** The record as a DNS provider's form takes it: `<name> CNAME <target>`. */
  readonly record: string;
  readonly note: string;
}

export interface WebFile {
  readonly url: string;
  readonly body: string;
  readonly note: string;
}

export interface DnsReport {
  readonly stackName: string;
  readonly region: string;
  readonly records: DnsRecord[];
  readonly webFiles: WebFile[];
  /** Records that cannot be printed yet, each with the reason and what to do. */
  readonly pending: string[];
  /** Records nobody has to create, with why (e.g. Route 53 validation). */
  readonly nothingToDo: string[];
}

/** The stack, or undefined if it does not exist (yet). */
async function describeStack(clients: AwsClients, name: string): Promise<Stack | undefined> {
  try {
    return (await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: name }))).Stacks?.[0];
  } catch (err) {
    // CloudFormation answers a missing stack with a ValidationError, not a not-found code.
    if (awsErrorCode(err) === 'ValidationError' && /does not exist/.test((err as Error).message)) return undefined;
    throw err;
  }
}

async function listResources(clients: AwsClients, name: string): Promise<StackResourceSummary[]> {
  const all: StackResourceSummary[] = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.cloudFormation.send(new ListStackResourcesCommand({ StackName: name, NextToken }));
    all.push(...(page.StackResourceSummaries ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return all;
}

const regionOfArn = (arn: string) => arn.split(':')[3];
/** A create or update still running: resources may appear on the next look. */
const inProgress = (stack: Stack) => /_IN_PROGRESS$/.test(stack.StackStatus ?? '');

async function certificateRecords(config: ChatConfig, clients: AwsClients, certificateArn: string, report: DnsReport): Promise<void> {
  let cert;
  try {
    cert = (await clients.forRegion(regionOfArn(certificateArn)).acm.send(new DescribeCertificateCommand({ CertificateArn: certificateArn }))).Certificate;
  } catch (err) {
    report.pending.push(`certificate validation: ${awsErrorFix(err, `describe certificate ${certificateArn}`)}`);
    return;
  }
  const seen = new Set<string>();
  for (const option of cert?.DomainValidationOptions ?? []) {
    if (option.ValidationMethod && option.ValidationMethod !== 'DNS') {
      report.nothingToDo.push(`certificate ${certificateArn} validates ${option.DomainName} by ${option.ValidationMethod}, not DNS`);
      continue;
    }
    const rr = option.ResourceRecord;
    if (!rr?.Name || !rr.Value) {
      // ACM fills in ResourceRecord a few seconds after the certificate is requested.
      report.pending.push(`certificate validation of ${option.DomainName}: ACM has not produced the record yet; run this again in a minute`);
      continue;
    }
    const record = `${rr.Name} ${rr.Type ?? 'CNAME'} ${rr.Value}`;
    if (seen.has(record)) continue;
    seen.add(record);
    const state =
      option.ValidationStatus === 'SUCCESS'
        ? 'validated; keep the record: ACM renews the certificate with it'
        : option.ValidationStatus === 'FAILED'
          ? `validation FAILED (certificate ${cert?.Status}): request a new certificate after fixing the record`
          : config.certificate.mode === 'create'
            ? 'pending: the deploy waits at the certificate until this record resolves'
            : 'pending: the certificate stays unusable until this record resolves';
    report.records.push({
      record,
      // Cloudflare (the seeds' DNS) answers a proxied name with its own addresses, so ACM never sees the CNAME.
      note: `certificate validation of ${option.DomainName}, ${state}. At Cloudflare: DNS only (grey cloud), never proxied`,
    });
  }
}

/** Collects the records; throws only when the stack itself cannot be read. */
export async function collectDnsRecords(config: ChatConfig, clients: AwsClients): Promise<DnsReport> {
  const name = stackName(config);
  const report: DnsReport = { stackName: name, region: config.region, records: [], webFiles: [], pending: [], nothingToDo: [] };
  const stack = await describeStack(clients, name);
  const outputs = new Map((stack?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  let resources: StackResourceSummary[] | undefined;
  const resourceOfType = async (type: string) => {
    resources ??= stack ? await listResources(clients, name) : [];
    return resources.find((r) => r.ResourceType === type && r.PhysicalResourceId);
  };
  const notStarted = `the stack ${name} does not exist yet: start \`npx cdk deploy -c env=${config.envName}\` and run this again`;

  // 1. The certificate's validation CNAME: only ACM knows it, once the certificate is requested.
  const cert = config.certificate;
  if (cert.mode === 'create' && cert.validation === 'route53') {
    report.nothingToDo.push(`certificate validation: CloudFormation adds the record to the Route 53 zone ${cert.hostedZoneName} (${cert.hostedZoneId})`);
  } else if (cert.mode === 'import') {
    await certificateRecords(config, clients, cert.arn, report);
  } else if (!stack) {
    report.pending.push(`certificate validation: ${notStarted}`);
  } else {
    const resource = await resourceOfType('AWS::CertificateManager::Certificate');
    if (resource?.PhysicalResourceId) await certificateRecords(config, clients, resource.PhysicalResourceId, report);
    else if (inProgress(stack)) report.pending.push(`certificate validation: CloudFormation has not requested the certificate yet (stack ${stack.StackStatus}); run this again in a minute`);
    else report.pending.push(`certificate validation: the stack ${name} (${stack.StackStatus}) has no certificate; deploy it again with -c env=${config.envName}`);
  }

  // 2. The domain's CNAME to the load balancer.
  const cnameNote = 'the chat domain to the load balancer (seed 002: proxied at Cloudflare)';
  const fromOutput = outputs.get(DNS_RECORD_OUTPUTS.cname);
  if (fromOutput) {
    report.records.push({ record: fromOutput, note: cnameNote });
  } else if (config.loadBalancer.mode === 'import') {
    report.records.push({ record: cnameRecord(config.domainName, config.loadBalancer.dnsName), note: cnameNote });
  } else if (!stack) {
    report.pending.push(`${config.domainName} CNAME: ${notStarted}`);
  } else {
    // Mid-deploy the outputs are not there yet, but the load balancer may already be.
    const lb = await resourceOfType('AWS::ElasticLoadBalancingV2::LoadBalancer');
    try {
      const dnsName = lb?.PhysicalResourceId ? (await clients.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.PhysicalResourceId] }))).LoadBalancers?.[0]?.DNSName : undefined;
      if (dnsName) report.records.push({ record: cnameRecord(config.domainName, dnsName), note: cnameNote });
      else if (inProgress(stack)) report.pending.push(`${config.domainName} CNAME: the load balancer does not exist yet (stack ${stack.StackStatus}); run this again later in the deploy`);
      else
        report.pending.push(
          `${config.domainName} CNAME: the stack ${name} (${stack.StackStatus}) has neither the ${DNS_RECORD_OUTPUTS.cname} output nor a load balancer; deploy it again with -c env=${config.envName}`,
        );
    } catch (err) {
      report.pending.push(`${config.domainName} CNAME: ${awsErrorFix(err, `describe load balancer ${lb?.PhysicalResourceId}`)}`);
    }
  }

  // 3. Matrix delegation at the server name's apex (known from the config alone).
  const wellKnown = matrixServerWellKnown(config);
  if (wellKnown) {
    report.webFiles.push({
      ...wellKnown,
      note: `serve this JSON (Content-Type: application/json) from the web server of ${config.matrixServerName}: other Matrix servers find the homeserver through it`,
    });
  }
  return report;
}

export function formatDnsReport(report: DnsReport): string {
  const lines = [`${report.stackName} (${report.region}): records to create by hand`, ''];
  if (report.records.length) {
    lines.push('DNS records (name TYPE target):');
    for (const r of report.records) lines.push(r.record, `    ${r.note}`);
    lines.push('');
  }
  if (report.webFiles.length) {
    lines.push('Web files (URL body):');
    for (const f of report.webFiles) lines.push(`${f.url} ${f.body}`, `    ${f.note}`);
    lines.push('');
  }
  if (report.nothingToDo.length) lines.push('Nothing to add:', ...report.nothingToDo.map((n) => `- ${n}`), '');
  if (report.pending.length) lines.push('Not known yet:', ...report.pending.map((p) => `- ${p}`), '');
  return lines.join('\n').trimEnd();
}

export interface DnsRecordsDeps {
  /** @default - clients in the config's region, with the SDK's credential chain */
  readonly clients?: AwsClients;
  /** @default - the repository's cdk.json */
  readonly cdkJsonPath?: string;
}

/** Exit code: 0 when every record is printed, 1 when one is not known yet or AWS failed, 2 on a usage error. */
export async function main(argv: string[], deps: DnsRecordsDeps = {}): Promise<number> {
  const parsed = parseScriptArgs<{ context?: string[]; 'endpoint-url'?: string }>(argv, { context: { type: 'string', short: 'c', multiple: true }, 'endpoint-url': { type: 'string' } }, USAGE);
  if ('exitCode' in parsed) return parsed.exitCode;
  const checked = checkedOrExitCode(() => loadDeployTarget(parsed.values.context ?? [], deps.cdkJsonPath).config, USAGE);
  if ('exitCode' in checked) return checked.exitCode;
  const config = checked.value;
  const clients = deps.clients ?? new AwsClients({ region: config.region, endpoint: parsed.values['endpoint-url'] });
  try {
    const report = await collectDnsRecords(config, clients);
    console.log(formatDnsReport(report));
    return report.pending.length ? 1 : 0;
  } catch (err) {
    console.error(`dns-records: ${awsErrorFix(err, `describe stack ${stackName(config)}`)}`);
    return 1;
  }
}

if (require.main === module) runMain(() => main(process.argv.slice(2)));
