import { AccountStandIn } from '../../support/aws/account-stand-in';
import { CognitoStandIn } from '../../support/aws/cognito-stand-in';
import { SecretsManagerStandIn } from '../../support/aws/secrets-manager-stand-in';

/** The existing resources an import-mode environment names, as in one shared account. */
export const IMPORTED = {
  certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  subnets: {
    public: ['subnet-0a0000000000000a1', 'subnet-0a0000000000000b1'],
    private: ['subnet-0b0000000000000a2', 'subnet-0b0000000000000b2'],
    isolated: ['subnet-0c0000000000000a3', 'subnet-0c0000000000000b3'],
  },
  loadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/shared-alb/50dc6c495c0c9188',
  listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/shared-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
  dnsName: 'shared-alb-1234567890.us-east-1.elb.amazonaws.com',
  dbEndpoint: 'shared-postgres.cxyz0example.us-east-1.rds.amazonaws.com',
  dbSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:shared-postgres-master-Ab12Cd',
  hasuraSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:shared-hasura-admin-Ef34Gh',
  userPoolId: 'us-east-1_SharedP01',
};

/** A development-like environment that imports every platform part. */
export function importedEnvironment(): Record<string, unknown> {
  return {
    domainName: 'chat.thephenom.app',
    matrixServerName: 'thephenom.app',
    certificate: { mode: 'import', arn: IMPORTED.certificateArn },
    network: {
      mode: 'import',
      vpcId: IMPORTED.vpcId,
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      publicSubnetIds: IMPORTED.subnets.public,
      privateSubnetIds: IMPORTED.subnets.private,
      isolatedSubnetIds: IMPORTED.subnets.isolated,
    },
    loadBalancer: {
      mode: 'import',
      listenerArn: IMPORTED.listenerArn,
      securityGroupId: 'sg-0123456789abcdef0',
      loadBalancerArn: IMPORTED.loadBalancerArn,
      dnsName: IMPORTED.dnsName,
      canonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
    },
    cluster: { mode: 'import', clusterName: 'shared-cluster' },
    database: {
      mode: 'import',
      endpoint: IMPORTED.dbEndpoint,
      secretArn: IMPORTED.dbSecretArn,
      securityGroupId: 'sg-0fedcba9876543210',
      instanceIdentifier: 'shared-postgres',
    },
    userPool: { mode: 'import', userPoolId: IMPORTED.userPoolId, domain: 'phenom-shared.auth.us-east-1.amazoncognito.com' },
    hasura: { mode: 'import', endpoint: 'https://hasura.thephenom.app/v1/graphql', adminSecretArn: IMPORTED.hasuraSecretArn },
    linkPreview: { phenomGraphqlUrl: 'https://api-testing.thephenom.app/v1/graphql' },
  };
}

/** Puts (back) every resource importedEnvironment() names into the stand-ins, as they exist in AWS. */
export function populateImported(aws: AccountStandIn, cognito: CognitoStandIn, secrets: SecretsManagerStandIn): void {
  aws.certificates.set(IMPORTED.certificateArn, {
    DomainName: 'thephenom.app',
    SubjectAlternativeNames: ['thephenom.app', '*.thephenom.app'],
    Status: 'ISSUED',
    DomainValidationOptions: ['thephenom.app', '*.thephenom.app'].map((DomainName) => ({
      DomainName,
      ValidationStatus: 'SUCCESS' as const,
      ValidationMethod: 'DNS' as const,
      ResourceRecord: { Name: '_1a2b3c4d5e6f.thephenom.app.', Type: 'CNAME' as const, Value: '_6f5e4d3c2b1a.xlfgrmvvlj.acm-validations.aws.' },
    })),
  });
  aws.vpcs.set(IMPORTED.vpcId, { cidrBlock: '10.20.0.0/16', state: 'available' });
  const zones = ['us-east-1a', 'us-east-1b'];
  Object.values(IMPORTED.subnets).forEach((ids, group) =>
    ids.forEach((id, i) => aws.subnets.set(id, { vpcId: IMPORTED.vpcId, availabilityZone: zones[i], cidrBlock: `10.20.${group * 16 + i}.0/24`, state: 'available' })),
  );
  aws.loadBalancers.set(IMPORTED.loadBalancerArn, { DNSName: IMPORTED.dnsName, CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K', VpcId: IMPORTED.vpcId, Type: 'application', State: 'active' });
  aws.listeners.set(IMPORTED.listenerArn, { LoadBalancerArn: IMPORTED.loadBalancerArn, Port: 443, Protocol: 'HTTPS' });
  aws.clusters.set('shared-cluster', { status: 'ACTIVE' });
  aws.dbInstances.set('shared-postgres', { Address: IMPORTED.dbEndpoint, Port: 5432, Engine: 'postgres', EngineVersion: '17.9', DBInstanceStatus: 'available' });
  cognito.userPool = { Id: IMPORTED.userPoolId, Name: 'shared-users', Domain: 'phenom-shared', LambdaConfig: {} };
  secrets.put(IMPORTED.dbSecretArn, JSON.stringify({ username: 'postgres', password: 'stand-in-only' }));
  secrets.put(IMPORTED.hasuraSecretArn, 'stand-in-only');
}
