import { ChatConfig, loadConfig } from '../../../lib/config';
import { bootstrapCheck } from '../../../scripts/preflight/bootstrap';
import { certificateCheck, coversDomain } from '../../../scripts/preflight/certificate';
import { type Check, type PreflightContext, runChecks } from '../../../scripts/preflight/check';
import { clusterCheck } from '../../../scripts/preflight/cluster';
import { credentialsCheck } from '../../../scripts/preflight/credentials';
import { databaseCheck } from '../../../scripts/preflight/database';
import { loadBalancerCheck } from '../../../scripts/preflight/load-balancer';
import { networkCheck } from '../../../scripts/preflight/network';
import { rdsEngineCheck } from '../../../scripts/preflight/rds-engine';
import { secretsCheck } from '../../../scripts/preflight/secrets';
import { sesCheck } from '../../../scripts/preflight/ses';
import { userPoolCheck } from '../../../scripts/preflight/user-pool';
import { AccountStandIn, startAccountStandIn } from '../../support/aws/account-stand-in';
import { CognitoStandIn, startCognitoStandIn } from '../../support/aws/cognito-stand-in';
import { standInClients } from '../../support/aws/sdk-env';
import { SecretsManagerStandIn, startSecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';
import { cdkJsonEnvironments } from '../../support/synth';
import { IMPORTED, importedEnvironment, populateImported } from './imported-world';

let aws: AccountStandIn;
let cognito: CognitoStandIn;
let secrets: SecretsManagerStandIn;

beforeEach(async () => {
  aws = await startAccountStandIn();
  cognito = await startCognitoStandIn(IMPORTED.userPoolId);
  secrets = await startSecretsManagerStandIn();
  populateImported(aws, cognito, secrets);
});
afterEach(async () => {
  await Promise.all([aws.close(), cognito.close(), secrets.close()]);
});

/** A context as the preflight builds it, with each service's client on its stand-in. */
function contextFor(config: ChatConfig): PreflightContext {
  const clients = standInClients(aws.url, config.region);
  // Cognito and Secrets Manager have their own stand-ins (shared with the Lambda tests).
  const cognitoClients = standInClients(cognito.url, config.region);
  const secretsClients = standInClients(secrets.url, config.region);
  Object.defineProperty(clients, 'cognito', { get: () => cognitoClients.cognito });
  Object.defineProperty(clients, 'secretsManager', { get: () => secretsClients.secretsManager });
  return {
    config,
    context: {},
    aws: clients,
    docker: 'docker',
    toolkitStackName: 'CDKToolkit',
    account: aws.account,
    assembly: { dir: '/dev/null', stackName: `PhenomChat-${config.envName}`, requiredBootstrapVersion: 6, bootstrapQualifier: 'hnb659fds', dockerImages: 3, dockerPlatforms: ['linux/arm64'] },
  };
}

const imported = (edit: (env: Record<string, unknown>) => void = () => undefined) => {
  const env = importedEnvironment();
  edit(env);
  return contextFor(loadConfig({ ...cdkJsonEnvironments(), imported: env }, 'imported'));
};
const development = (edit: (env: Record<string, unknown>) => void = () => undefined) => {
  const envs = cdkJsonEnvironments();
  edit(envs.development);
  return contextFor(loadConfig(envs, 'development'));
};
const production = () => contextFor(loadConfig(cdkJsonEnvironments(), 'production'));

describe('credentials', () => {
  it('passes with the caller, and fails naming both accounts when cdk.json pins another', async () => {
    await expect(credentialsCheck.run(development())).resolves.toBe('arn:aws:sts::111122223333:assumed-role/deployer/stand-in (account 111122223333)');
    await expect(credentialsCheck.run(development((e) => (e.account = '444455556666')))).rejects.toThrow(
      'the credentials are for account 111122223333 (arn:aws:sts::111122223333:assumed-role/deployer/stand-in), but cdk.json deploys development to account 444455556666',
    );
  });

  it('turns a rejected key into the fix, through the runner', async () => {
    aws.rejectCredentials = true;
    const [result] = await runChecks([credentialsCheck], development());
    expect(result).toEqual({
      name: 'credentials',
      status: 'fail',
      fix: expect.stringMatching(/^AWS rejected the credentials \(InvalidClientTokenId: The security token included in the request is invalid\.\)/),
    });
  });
});

describe('bootstrap', () => {
  const toolkit = (version: string | undefined, status = 'UPDATE_COMPLETE', qualifier = 'hnb659fds') =>
    aws.stacks.set('CDKToolkit', { StackStatus: status, Outputs: version ? { BootstrapVersion: version } : {}, Parameters: { Qualifier: qualifier }, Resources: [] });

  it('says to bootstrap an account and region without a CDKToolkit stack', async () => {
    await expect(bootstrapCheck.run(development())).rejects.toThrow('aws://111122223333/us-east-1 is not bootstrapped (no CDKToolkit stack): run `npx cdk bootstrap aws://111122223333/us-east-1`');
  });

  it('compares the BootstrapVersion output with the version the assembly requires', async () => {
    toolkit('5');
    await expect(bootstrapCheck.run(development())).rejects.toThrow(
      'CDKToolkit in aws://111122223333/us-east-1 is bootstrap version 5, but this app needs 6 or later: run `npx cdk bootstrap aws://111122223333/us-east-1` to upgrade it',
    );
    toolkit('30');
    await expect(bootstrapCheck.run(development())).resolves.toBe('CDKToolkit in aws://111122223333/us-east-1: version 30 (the app needs 6 or later), UPDATE_COMPLETE');
  });

  it('fails for a bootstrap stack that never completed, or has another qualifier', async () => {
    toolkit(undefined, 'ROLLBACK_COMPLETE');
    await expect(bootstrapCheck.run(development())).rejects.toThrow(/CDKToolkit in aws:\/\/111122223333\/us-east-1 is ROLLBACK_COMPLETE: look at its events/);
    toolkit('30', 'UPDATE_COMPLETE', 'phenom1');
    await expect(bootstrapCheck.run(development())).rejects.toThrow(/was bootstrapped with qualifier phenom1, but the app's synthesizer uses hnb659fds/);
  });
});

describe('certificate (import)', () => {
  it('passes for an ISSUED certificate whose wildcard covers the domain', async () => {
    await expect(certificateCheck.run(imported())).resolves.toBe(`${IMPORTED.certificateArn}: ISSUED for thephenom.app, *.thephenom.app`);
    expect([coversDomain('*.thephenom.app', 'chat.thephenom.app'), coversDomain('*.thephenom.app', 'a.chat.thephenom.app'), coversDomain('thephenom.app', 'chat.thephenom.app')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('fails for a missing, pending, foreign-region or non-covering certificate', async () => {
    aws.certificates.delete(IMPORTED.certificateArn);
    await expect(certificateCheck.run(imported())).rejects.toThrow(`ACM has no certificate ${IMPORTED.certificateArn} in account 111122223333 us-east-1: check certificate.arn`);
    populateImported(aws, cognito, secrets);
    aws.certificates.get(IMPORTED.certificateArn)!.Status = 'PENDING_VALIDATION';
    await expect(certificateCheck.run(imported())).rejects.toThrow('is PENDING_VALIDATION, not ISSUED: add its validation record (`npm run dns-records` prints it)');
    const elsewhere = IMPORTED.certificateArn.replace('us-east-1', 'eu-west-1');
    await expect(certificateCheck.run(imported((e) => (e.certificate = { mode: 'import', arn: elsewhere })))).rejects.toThrow(
      'certificate.arn is in eu-west-1, but the stack deploys to us-east-1: an ALB takes only certificates of its region',
    );
    aws.certificates.get(IMPORTED.certificateArn)!.Status = 'ISSUED';
    aws.certificates.get(IMPORTED.certificateArn)!.SubjectAlternativeNames = ['thephenom.app', 'www.thephenom.app'];
    await expect(certificateCheck.run(imported())).rejects.toThrow(/covers thephenom\.app, www\.thephenom\.app, not chat\.thephenom\.app/);
  });
});

describe('network (import)', () => {
  it('passes when the VPC and every subnet exist in the configured order of zones', async () => {
    await expect(networkCheck.run(imported())).resolves.toBe(`${IMPORTED.vpcId} with 6 subnets across us-east-1a, us-east-1b`);
    expect(aws.calls).toEqual(['ec2:DescribeVpcs', 'ec2:DescribeSubnets']);
  });

  it("passes EC2's not-found message through, naming the id", async () => {
    aws.vpcs.clear();
    await expect(networkCheck.run(imported())).rejects.toThrow(`network.vpcId: The vpc ID '${IMPORTED.vpcId}' does not exist in account 111122223333 us-east-1`);
    populateImported(aws, cognito, secrets);
    aws.subnets.delete(IMPORTED.subnets.isolated[1]);
    await expect(networkCheck.run(imported())).rejects.toThrow(`The subnet ID '${IMPORTED.subnets.isolated[1]}' does not exist`);
  });

  it('fails for a subnet of another VPC or listed out of zone order', async () => {
    aws.subnets.get(IMPORTED.subnets.public[0])!.vpcId = 'vpc-0ffffffffffffffff';
    const privateIds = [...IMPORTED.subnets.private].reverse();
    await expect(networkCheck.run(imported((e) => ((e.network as Record<string, unknown>).privateSubnetIds = privateIds)))).rejects.toThrow(
      `network: publicSubnetIds[0] ${IMPORTED.subnets.public[0]} is in vpc-0ffffffffffffffff, not ${IMPORTED.vpcId}; ` +
        `privateSubnetIds[0] ${privateIds[0]} is in us-east-1b, but availabilityZones[0] is us-east-1a (list the subnets in the order of availabilityZones)`,
    );
  });
});

describe('load balancer (import)', () => {
  it('passes for the HTTPS listener of the configured ALB', async () => {
    await expect(loadBalancerCheck.run(imported())).resolves.toBe(`HTTPS listener on ${IMPORTED.dnsName}`);
  });

  it('fails for a missing listener, and lists every mismatch of an existing one', async () => {
    aws.listeners.clear();
    await expect(loadBalancerCheck.run(imported())).rejects.toThrow(`no listener ${IMPORTED.listenerArn} in account 111122223333 us-east-1: check loadBalancer.listenerArn`);
    populateImported(aws, cognito, secrets);
    aws.listeners.get(IMPORTED.listenerArn)!.Protocol = 'HTTP';
    aws.loadBalancers.get(IMPORTED.loadBalancerArn)!.DNSName = 'other-1.us-east-1.elb.amazonaws.com';
    await expect(loadBalancerCheck.run(imported())).rejects.toThrow(
      `loadBalancer: the listener is HTTP on port 443; the chat rules need the HTTPS listener; its DNS name is other-1.us-east-1.elb.amazonaws.com, not dnsName ${IMPORTED.dnsName}`,
    );
  });
});

describe('cluster (import)', () => {
  it('passes for an ACTIVE cluster and fails for a missing or INACTIVE one', async () => {
    await expect(clusterCheck.run(imported())).resolves.toBe('arn:aws:ecs:us-east-1:111122223333:cluster/shared-cluster ACTIVE');
    aws.clusters.get('shared-cluster')!.status = 'INACTIVE';
    await expect(clusterCheck.run(imported())).rejects.toThrow('ECS cluster shared-cluster is INACTIVE, not ACTIVE');
    aws.clusters.clear();
    await expect(clusterCheck.run(imported())).rejects.toThrow('no ECS cluster shared-cluster in account 111122223333 us-east-1 (MISSING): check cluster.clusterName');
  });
});

describe('database (import)', () => {
  it('passes for the running instance at the configured endpoint with an existing secret', async () => {
    await expect(databaseCheck.run(imported())).resolves.toBe(`shared-postgres (PostgreSQL 17.9, available) at ${IMPORTED.dbEndpoint}:5432; its secret exists`);
    // Metadata only: the preflight never reads a secret's value.
    expect(secrets.requests).toEqual([]);
  });

  it('fails for a missing instance, a stopped one at another endpoint, or a missing secret', async () => {
    aws.dbInstances.clear();
    await expect(databaseCheck.run(imported())).rejects.toThrow('no RDS instance shared-postgres in account 111122223333 us-east-1: check database.instanceIdentifier');
    populateImported(aws, cognito, secrets);
    Object.assign(aws.dbInstances.get('shared-postgres')!, { Address: 'other.cxyz.us-east-1.rds.amazonaws.com', DBInstanceStatus: 'stopped', EngineVersion: '17.6' });
    await expect(databaseCheck.run(imported())).rejects.toThrow(
      `database shared-postgres: its endpoint is other.cxyz.us-east-1.rds.amazonaws.com, not database.endpoint ${IMPORTED.dbEndpoint}; ` +
        'it runs PostgreSQL 17.6; set database.engineVersion to "17.6" (now 17.9); ' +
        'it is stopped, so the deploy-time migrations cannot connect (`aws rds start-db-instance --db-instance-identifier shared-postgres`)',
    );
    populateImported(aws, cognito, secrets);
    await expect(databaseCheck.run(imported((e) => ((e.database as Record<string, unknown>).secretArn = `${IMPORTED.dbSecretArn}x`)))).rejects.toThrow(
      `database.secretArn: Secrets Manager has no secret ${IMPORTED.dbSecretArn}x: create it or correct the ARN`,
    );
  });
});

describe('rds-engine (create)', () => {
  const option = (EngineVersion: string, DBInstanceClass = 'db.m5.large', StorageType = 'gp3', MultiAZCapable = true) => ({
    Engine: 'postgres',
    EngineVersion,
    DBInstanceClass,
    StorageType,
    MultiAZCapable,
    AvailabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
  });

  it('passes when RDS offers the version on the class with gp3 (Multi-AZ in production)', async () => {
    aws.orderable.push(option('17.9', 'db.m5.large', 'gp2'), option('17.9'));
    await expect(rdsEngineCheck.run(development())).resolves.toBe('PostgreSQL 17.9 on db.m5.large (gp3) in us-east-1');
    await expect(rdsEngineCheck.run(production())).resolves.toBe('PostgreSQL 17.9 on db.m5.large (gp3, Multi-AZ) in us-east-1');
  });

  it('names the versions the class offers when the configured one is gone, reading every page', async () => {
    aws.pageSize = 2;
    aws.orderable.push(...['16.9', '17.5', '17.6', '17.10', '17.7'].flatMap((v) => [option(v, 'db.m5.large', 'gp2'), option(v)]), option('17.9', 'db.r6g.large'));
    await expect(rdsEngineCheck.run(development())).rejects.toThrow(
      'RDS does not create PostgreSQL 17.9 on db.m5.large in us-east-1; it offers 17.5, 17.6, 17.7, 17.10: set database.engineVersion to one of them (the newest: "17.10")',
    );
    expect(aws.calls.filter((c) => c === 'rds:DescribeOrderableDBInstanceOptions').length).toBeGreaterThan(5);
  });

  it('fails for a class RDS does not offer, or one without Multi-AZ when production asks for it', async () => {
    await expect(rdsEngineCheck.run(development((e) => (e.database = { mode: 'create', instanceClass: 'db.x9.huge' })))).rejects.toThrow(
      /^RDS offers no PostgreSQL 17 on db\.x9\.huge in us-east-1: set database\.instanceClass/,
    );
    aws.orderable.push(option('17.9', 'db.m5.large', 'gp3', false));
    await expect(rdsEngineCheck.run(production())).rejects.toThrow('without Multi-AZ: pick another database.instanceClass or set database.multiAz to false');
  });
});

describe('secrets', () => {
  it('checks every secret the config names, and applies only when it names one', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-synapse-signing-key-AbCdEf';
    const ctx = development((e) => (e.synapse = { signingKeySecretArn: arn }));
    expect(secretsCheck.applies?.(development().config)).toBe(false);
    await expect(secretsCheck.run(ctx)).rejects.toThrow(`synapse.signingKeySecretArn: Secrets Manager has no secret ${arn}: create it or correct the ARN`);
    secrets.put(arn, 'ed25519 a_key c2VlZA');
    await expect(secretsCheck.run(ctx)).resolves.toBe('synapse.signingKeySecretArn');
  });
});

describe('user pool (import)', () => {
  it('passes for the pool with the configured hosted-UI domain', async () => {
    await expect(userPoolCheck.run(imported())).resolves.toBe(`${IMPORTED.userPoolId} (shared-users) with hosted UI phenom-shared.auth.us-east-1.amazoncognito.com`);
  });

  it('fails for a missing pool or another domain, naming the one to set', async () => {
    await expect(userPoolCheck.run(imported((e) => ((e.userPool as Record<string, unknown>).userPoolId = 'us-east-1_Missing01')))).rejects.toThrow(
      'no Cognito user pool us-east-1_Missing01 in account 111122223333: check userPool.userPoolId',
    );
    cognito.userPool.Domain = 'phenom-other';
    await expect(userPoolCheck.run(imported())).rejects.toThrow(
      `user pool ${IMPORTED.userPoolId} has the hosted-UI domain phenom-other.auth.us-east-1.amazoncognito.com, not userPool.domain phenom-shared.auth.us-east-1.amazoncognito.com`,
    );
  });
});

describe('ses (production)', () => {
  it('passes when the from address’s domain is verified in the stack region', async () => {
    aws.emailIdentities.set('us-east-1/thephenom.app', { IdentityType: 'DOMAIN', VerifiedForSendingStatus: true, VerificationStatus: 'SUCCESS' });
    await expect(sesCheck.run(production())).resolves.toBe('thephenom.app in us-east-1 verified for sending (Cognito sends as no-reply@thephenom.app)');
    expect(sesCheck.applies?.(development().config)).toBe(false);
  });

  it('fails for an identity that is missing, or pending verification', async () => {
    await expect(sesCheck.run(production())).rejects.toThrow(
      'SES in us-east-1 has no identity thephenom.app or no-reply@thephenom.app: create it (`aws sesv2 create-email-identity --region us-east-1 --email-identity thephenom.app`)',
    );
    // An identity in another region does not count.
    aws.emailIdentities.set('eu-west-1/thephenom.app', { IdentityType: 'DOMAIN', VerifiedForSendingStatus: true, VerificationStatus: 'SUCCESS' });
    await expect(sesCheck.run(production())).rejects.toThrow('SES in us-east-1 has no identity');
    aws.emailIdentities.set('us-east-1/thephenom.app', { IdentityType: 'DOMAIN', VerifiedForSendingStatus: false, VerificationStatus: 'PENDING' });
    await expect(sesCheck.run(production())).rejects.toThrow(
      'the SES identity thephenom.app in us-east-1 is not verified for sending (VerifiedForSendingStatus false, VerificationStatus PENDING): publish its DKIM records',
    );
  });
});

describe('runChecks', () => {
  it('runs what applies, in order, and skips a check whose prerequisite failed', async () => {
    aws.rejectCredentials = true;
    const checks: Check[] = [credentialsCheck, certificateCheck, networkCheck, rdsEngineCheck];
    const results = await runChecks(checks, imported());
    // rds-engine is for created databases: the imported environment leaves it out.
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['credentials', 'fail'],
      ['certificate', 'skip'],
      ['network', 'skip'],
    ]);
    expect(results[1]).toEqual({ name: 'certificate', status: 'skip', reason: 'needs credentials, which did not pass' });
    expect(aws.calls).toEqual([]);
  });

  it('passes every import-mode check against a complete account', async () => {
    const results = await runChecks([credentialsCheck, certificateCheck, networkCheck, loadBalancerCheck, clusterCheck, databaseCheck, secretsCheck, userPoolCheck], imported());
    expect(results.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(results).toHaveLength(8);
  });
});
