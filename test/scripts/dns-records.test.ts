import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../scripts/dns-records';
import type { AwsClients } from '../../scripts/aws/clients';
import { AccountStandIn, startAccountStandIn, StackState } from '../support/aws/account-stand-in';
import { standInAwsEnv, standInClients } from '../support/aws/sdk-env';
import { captureConsole } from '../support/console-capture';
import { writeCdkJson } from '../support/cdk-json';
import { cdkJsonEnvironments } from '../support/synth';

const REPO = join(__dirname, '../..');
const CERT_ARN = 'arn:aws:acm:us-east-1:111122223333:certificate/5f1c0a4e-9d2b-4f6e-8a37-1c2d3e4f5a6b';
const LB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/PhenomChat-Platf-1RX3ZQ/50dc6c495c0c9188';
const LB_DNS = 'PhenomChat-Platf-1RX3ZQ-1234567890.us-east-1.elb.amazonaws.com';
const VALIDATION = { Name: '_3f1c2b7a9d8e.chat-testing.thephenom.app.', Type: 'CNAME' as const, Value: '_8a7b6c5d4e3f.xlfgrmvvlj.acm-validations.aws.' };

let aws: AccountStandIn;
let clients: AwsClients;
const { out, err } = captureConsole();

/** The resources of a stack part-way through its first deploy (many, so pagination matters). */
function resources(certificate: boolean, loadBalancer: boolean): StackState['Resources'] {
  return [
    ...Array.from({ length: 7 }, (_, i) => ({
      LogicalResourceId: `PlatformNetworkVpcSubnet${i}`,
      PhysicalResourceId: `subnet-0${i}`,
      ResourceType: 'AWS::EC2::Subnet',
      ResourceStatus: 'CREATE_COMPLETE',
    })),
    ...(loadBalancer
      ? [{ LogicalResourceId: 'PlatformLoadBalancerAlb0D3A1C4B', PhysicalResourceId: LB_ARN, ResourceType: 'AWS::ElasticLoadBalancingV2::LoadBalancer', ResourceStatus: 'CREATE_COMPLETE' }]
      : []),
    ...(certificate
      ? [{ LogicalResourceId: 'PlatformLoadBalancerCertificate6C5F2B1E', PhysicalResourceId: CERT_ARN, ResourceType: 'AWS::CertificateManager::Certificate', ResourceStatus: 'CREATE_IN_PROGRESS' }]
      : []),
  ];
}

beforeEach(async () => {
  // Three resources per page, so the listing takes several pages as a real stack's does.
  aws = await startAccountStandIn({ pageSize: 3 });
  clients = standInClients(aws.url);
});
afterEach(() => aws.close());

describe('npm run dns-records', () => {
  it('says the deploy has to start first when the stack does not exist', async () => {
    expect(await main(['-c', 'env=development'], { clients })).toBe(1);
    const text = out.join('\n');
    expect(text).toContain('certificate validation: the stack PhenomChat-development does not exist yet: start `npx cdk deploy -c env=development`');
    expect(text).toContain('chat-testing.thephenom.app CNAME: the stack PhenomChat-development does not exist yet');
    expect(text).not.toContain('DNS records (name TYPE target):');
  });

  it('prints the validation CNAME from ACM and the ALB CNAME while the deploy waits at the certificate', async () => {
    aws.stacks.set('PhenomChat-development', { StackStatus: 'CREATE_IN_PROGRESS', Outputs: {}, Resources: resources(true, true) });
    aws.certificates.set(CERT_ARN, {
      DomainName: 'chat-testing.thephenom.app',
      Status: 'PENDING_VALIDATION',
      DomainValidationOptions: [{ DomainName: 'chat-testing.thephenom.app', ValidationStatus: 'PENDING_VALIDATION', ValidationMethod: 'DNS', ResourceRecord: VALIDATION }],
    });
    aws.loadBalancers.set(LB_ARN, { DNSName: LB_DNS, CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K', VpcId: 'vpc-0a1b2c3d4e5f60718', Type: 'application', State: 'provisioning' });

    expect(await main(['-c', 'env=development'], { clients })).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines).toContain('_3f1c2b7a9d8e.chat-testing.thephenom.app. CNAME _8a7b6c5d4e3f.xlfgrmvvlj.acm-validations.aws.');
    expect(lines).toContain(`chat-testing.thephenom.app CNAME ${LB_DNS}`);
    expect(out.join('\n')).toMatch(/pending: the deploy waits at the certificate until this record resolves\. At Cloudflare: DNS only \(grey cloud\), never proxied/);
    // Development's server name is its domain: no apex file to serve.
    expect(out.join('\n')).not.toContain('.well-known');
    // The certificate was on the third page of resources.
    expect(aws.calls.filter((c) => c === 'cloudformation:ListStackResources')).toHaveLength(3);
    expect(aws.calls).toContain('acm:DescribeCertificate');
  });

  it('says when ACM has not produced the validation record yet', async () => {
    aws.stacks.set('PhenomChat-development', { StackStatus: 'CREATE_IN_PROGRESS', Outputs: {}, Resources: resources(true, false) });
    aws.certificates.set(CERT_ARN, {
      DomainName: 'chat-testing.thephenom.app',
      Status: 'PENDING_VALIDATION',
      DomainValidationOptions: [{ DomainName: 'chat-testing.thephenom.app', ValidationStatus: 'PENDING_VALIDATION', ValidationMethod: 'DNS' }],
    });
    expect(await main(['-c', 'env=development'], { clients })).toBe(1);
    const text = out.join('\n');
    expect(text).toContain('certificate validation of chat-testing.thephenom.app: ACM has not produced the record yet; run this again in a minute');
    expect(text).toContain('chat-testing.thephenom.app CNAME: the load balancer does not exist yet (stack CREATE_IN_PROGRESS)');
  });

  it('says to deploy again when a settled stack has neither the certificate nor the load balancer', async () => {
    aws.stacks.set('PhenomChat-development', { StackStatus: 'ROLLBACK_COMPLETE', Outputs: {}, Resources: resources(false, false) });
    expect(await main(['-c', 'env=development'], { clients })).toBe(1);
    const text = out.join('\n');
    expect(text).toContain('certificate validation: the stack PhenomChat-development (ROLLBACK_COMPLETE) has no certificate; deploy it again with -c env=development');
    expect(text).toContain('chat-testing.thephenom.app CNAME: the stack PhenomChat-development (ROLLBACK_COMPLETE) has neither the DnsCnameRecord output nor a load balancer');
  });

  it('prints the records from the stack outputs after a production deploy, with the apex delegation file', async () => {
    aws.stacks.set('PhenomChat-production', {
      StackStatus: 'CREATE_COMPLETE',
      Outputs: { DnsCnameRecord: `chat.thephenom.app CNAME ${LB_DNS}`, MatrixServerWellKnownUrl: 'https://thephenom.app/.well-known/matrix/server' },
      Resources: resources(true, true),
    });
    const record = { ...VALIDATION, Name: '_3f1c2b7a9d8e.chat.thephenom.app.' };
    aws.certificates.set(CERT_ARN, {
      DomainName: 'chat.thephenom.app',
      Status: 'ISSUED',
      DomainValidationOptions: [{ DomainName: 'chat.thephenom.app', ValidationStatus: 'SUCCESS', ValidationMethod: 'DNS', ResourceRecord: record }],
    });
    expect(await main(['-c', 'env=production'], { clients })).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines).toContain('_3f1c2b7a9d8e.chat.thephenom.app. CNAME _8a7b6c5d4e3f.xlfgrmvvlj.acm-validations.aws.');
    expect(lines).toContain(`chat.thephenom.app CNAME ${LB_DNS}`);
    expect(lines).toContain('https://thephenom.app/.well-known/matrix/server {"m.server":"chat.thephenom.app:443"}');
    expect(out.join('\n')).toContain('validated; keep the record: ACM renews the certificate with it');
    // The CNAME came from the output: the load balancer was not looked up.
    expect(aws.calls).not.toContain('elasticloadbalancing:DescribeLoadBalancers');
  });

  it('describes an imported certificate and takes an imported load balancer from the config', async () => {
    const envs = cdkJsonEnvironments();
    envs.development.certificate = { mode: 'import', arn: CERT_ARN };
    envs.development.loadBalancer = {
      mode: 'import',
      listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2',
      securityGroupId: 'sg-0123456789abcdef0',
      loadBalancerArn: LB_ARN,
      dnsName: 'shared-alb-1.us-east-1.elb.amazonaws.com',
      canonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
    };
    expect(await main(['-c', 'env=development'], { clients, cdkJsonPath: writeCdkJson(envs) })).toBe(1);
    const text = out.join('\n');
    expect(text).toContain('chat-testing.thephenom.app CNAME shared-alb-1.us-east-1.elb.amazonaws.com');
    expect(text).toContain(`certificate validation: could not describe certificate ${CERT_ARN} (ResourceNotFoundException: Could not find certificate ${CERT_ARN}.)`);
  });

  it('exits 1 with the fix when AWS refuses the credentials', async () => {
    aws.rejectCredentials = true;
    expect(await main(['-c', 'env=development'], { clients })).toBe(1);
    expect(err.join('\n')).toContain('dns-records: AWS rejected the credentials (InvalidClientTokenId: The security token included in the request is invalid.)');
  });

  it('exits 2 with the usage for an unknown environment or a malformed -c, and 0 for --help', async () => {
    expect(await main(['-c', 'env=staging'], { clients })).toBe(2);
    expect(err.join('\n')).toContain('unknown environment "staging"; cdk.json has development, production (pick one with -c env=NAME)\nusage: npm run dns-records');
    expect(await main(['-c', 'production'], { clients })).toBe(2);
    expect(err.join('\n')).toContain('-c expects key=value (as cdk does, e.g. -c env=production), got "production"');
    expect(await main(['--help'], { clients })).toBe(0);
    expect(out.at(-1)).toMatch(/^usage: npm run dns-records -- -c env=NAME/);
    expect(aws.calls).toEqual([]);
  });

  it('runs as the npm script, with the endpoints the SDK reads from the environment', async () => {
    aws.stacks.set('PhenomChat-development', { StackStatus: 'CREATE_COMPLETE', Outputs: { DnsCnameRecord: `chat-testing.thephenom.app CNAME ${LB_DNS}` }, Resources: resources(true, true) });
    aws.certificates.set(CERT_ARN, {
      DomainName: 'chat-testing.thephenom.app',
      Status: 'ISSUED',
      DomainValidationOptions: [{ DomainName: 'chat-testing.thephenom.app', ValidationStatus: 'SUCCESS', ValidationMethod: 'DNS', ResourceRecord: VALIDATION }],
    });
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'scripts/dns-records.ts', '-c', 'env=development'], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_EC2_METADATA_DISABLED: 'true', ...standInAwsEnv({ account: aws.url }) },
    });
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining([`chat-testing.thephenom.app CNAME ${LB_DNS}`, '_3f1c2b7a9d8e.chat-testing.thephenom.app. CNAME _8a7b6c5d4e3f.xlfgrmvvlj.acm-validations.aws.']),
    );
  }, 120_000);
});
