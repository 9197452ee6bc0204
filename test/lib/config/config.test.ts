import { CDK_POSTGRES_17_VERSIONS, configFromContextValues, DEFAULT_POSTGRES_ENGINE_VERSION, loadAllConfigs, loadConfig, RDS_NO_LONGER_CREATES } from '../../../lib/config';
import { MAX_ADMIN_API_CIDRS, MAX_EDGE_CIDRS } from '../../../lib/config/schema';
import { CLOUDFLARE_IPV4_RANGES } from '../../../chat-domain/client-ip';
import { ALLOWED_CIDRS_PER_RULE, SYNAPSE_RULE_PRIORITIES } from '../../../lib/chat-synapse/alb-rules';
import { configErrorOf } from '../../support/config-error';
import { cdkJsonEnvironments } from '../../support/synth';

function envsWith(patch: (envs: Record<string, Record<string, unknown>>) => void): Record<string, Record<string, unknown>> {
  const envs = cdkJsonEnvironments();
  patch(envs);
  return envs;
}

describe('config from cdk.json', () => {
  it('defines development and production with the seeds domains', () => {
    const [dev, prod] = ['development', 'production'].map((e) => loadConfig(cdkJsonEnvironments(), e));
    expect(dev.domainName).toBe('chat-testing.thephenom.app');
    expect(prod.domainName).toBe('chat.thephenom.app');
    expect(dev.prefix).toBe('phenom-development');
  });

  it('defaults to development when no env is given', () => {
    expect(loadConfig(cdkJsonEnvironments()).envName).toBe('development');
  });

  it('applies production defaults: Multi-AZ, deletion protection, 30-day backups, a NAT per AZ, WAF', () => {
    const prod = loadConfig(cdkJsonEnvironments(), 'production');
    expect(prod.database).toMatchObject({ mode: 'create', instanceClass: 'db.m5.large', multiAz: true, deletionProtection: true, backupRetentionDays: 30 });
    expect(prod.network).toMatchObject({ mode: 'create', natGateways: 2 });
    expect(prod.waf.enabled).toBe(true);
    const dev = loadConfig(cdkJsonEnvironments(), 'development');
    expect(dev.database).toMatchObject({ multiAz: false, deletionProtection: false, backupRetentionDays: 7 });
    expect(dev.network).toMatchObject({ natGateways: 1 });
    expect(dev.waf.enabled).toBe(false);
  });

  it('keeps the seeds task sizes unless overridden', () => {
    const dev = loadConfig(cdkJsonEnvironments(), 'development');
    expect(dev.services.synapse).toEqual({ cpu: 512, memoryMiB: 1024 });
    expect(dev.services.synapseAdmin).toEqual({ cpu: 256, memoryMiB: 512 });
    expect(dev.services.mcpServer).toEqual({ cpu: 256, memoryMiB: 512 });
    const bigger = loadConfig(
      envsWith((e) => (e.development.services = { mcpServer: { cpu: 512, memoryMiB: 2048 } })),
      'development',
    );
    expect(bigger.services.mcpServer).toEqual({ cpu: 512, memoryMiB: 2048 });
  });
});

describe('config errors name the key and the fix', () => {
  it('rejects an unknown key', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.domainNmae = 'x.example.com')),
        'development',
      ),
    );
    expect(msg).toContain('phenom-chat:environments.development.domainNmae: unknown key');
  });

  it('rejects an unknown nested key', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.database = { mode: 'create', multiAZ: true })),
        'development',
      ),
    );
    expect(msg).toContain('phenom-chat:environments.development.database.multiAZ: unknown key');
  });

  it('rejects a malformed domain name', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.domainName = 'Chat Testing')),
        'development',
      ),
    );
    expect(msg).toMatch(/development\.domainName: expected a lower-case DNS name/);
  });

  it('rejects a missing required key', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => delete e.development.domainName),
        'development',
      ),
    );
    expect(msg).toContain('phenom-chat:environments.development.domainName');
  });

  it('rejects a memory size Fargate does not allow for the CPU', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.services = { synapse: { cpu: 256, memoryMiB: 4096 } })),
        'development',
      ),
    );
    expect(msg).toContain('development.services.synapse.memoryMiB: expected a memory size Fargate allows with 256 CPU units: 512, 1024, 2048');
  });

  it('rejects an unknown create/import mode', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.network = { mode: 'reuse' })),
        'development',
      ),
    );
    expect(msg).toContain('development.network.mode: expected "create" or "import"');
  });

  it('rejects an import with a malformed id', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith(
          (e) =>
            (e.development.network = {
              mode: 'import',
              vpcId: 'vpc-123',
              availabilityZones: ['us-east-1a', 'us-east-1b'],
              publicSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
              privateSubnetIds: ['subnet-0123456789abcdef2', 'subnet-0123456789abcdef3'],
              isolatedSubnetIds: ['subnet-0123456789abcdef4', 'subnet-0123456789abcdef5'],
            }),
        ),
        'development',
      ),
    );
    expect(msg).toContain('development.network.vpcId: expected a VPC id');
  });

  it('refuses a production environment with no way to get a certificate', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => delete e.production.certificate),
        'production',
      ),
    );
    expect(msg).toMatch(/production\.certificate: a production environment needs a way to get its TLS certificate/);
    expect(msg).toContain('"mode":"import"');
  });

  it('refuses route53 validation without the hosted zone', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.certificate = { mode: 'create', validation: 'route53' })),
        'development',
      ),
    );
    expect(msg).toContain('development.certificate.hostedZoneId: validation "route53" needs both hostedZoneId and hostedZoneName');
  });

  it('names the environments when -c env is unknown', () => {
    const msg = configErrorOf(() => loadConfig(cdkJsonEnvironments(), 'staging'));
    expect(msg).toContain('unknown environment "staging"; expected one of development, production');
  });

  it('validates every environment, so a broken production fails a development synth', () => {
    const envs = envsWith((e) => (e.production.waf = { enabled: 'yes' }));
    expect(() => loadAllConfigs(envs)).toThrow(/production\.waf\.enabled/);
  });

  it('rejects a log retention CloudWatch does not offer', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.monitoring = { logRetentionDays: 45 })),
        'development',
      ),
    );
    expect(msg).toContain('development.monitoring.logRetentionDays: expected one of the CloudWatch Logs retention periods');
  });

  it('refuses a production user pool with no SES sender, and says what to set', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => delete e.production.userPool),
        'production',
      ),
    );
    expect(msg).toContain('production.userPool.email: a production user pool must send e-mail through SES');
    expect(msg).toContain('"fromAddress"');
  });

  it('refuses an SES identity that cannot send as the from address', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => {
          e.production.userPool = {
            mode: 'create',
            email: { fromAddress: 'no-reply@thephenom.app', sesIdentityArn: 'arn:aws:ses:us-east-1:111122223333:identity/example.com' },
          };
        }),
        'production',
      ),
    );
    expect(msg).toContain('production.userPool.email.sesIdentityArn: expected the SES identity of no-reply@thephenom.app or of its domain');
  });

  it('accepts an SES identity for the from address itself', () => {
    const arn = 'arn:aws:ses:us-east-1:111122223333:identity/no-reply@thephenom.app';
    const config = loadConfig(
      envsWith((e) => (e.production.userPool = { mode: 'create', email: { fromAddress: 'no-reply@thephenom.app', sesIdentityArn: arn } })),
      'production',
    );
    expect(config.userPool.mode === 'create' && config.userPool.email?.sesIdentityArn).toBe(arn);
  });

  it("lets development keep Cognito's built-in sender", () => {
    const config = loadConfig(cdkJsonEnvironments(), 'development');
    expect(config.userPool.mode === 'create' && config.userPool.email).toBeUndefined();
  });

  it('rejects an engine version outside PostgreSQL 17', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.database = { mode: 'create', engineVersion: '16.4' })),
        'development',
      ),
    );
    expect(msg).toContain('development.database.engineVersion: expected a PostgreSQL 17 minor version');
  });

  it('rejects a PostgreSQL 17 minor aws-cdk-lib does not offer, listing the ones it does', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.database = { mode: 'create', engineVersion: '17.99' })),
        'development',
      ),
    );
    expect(msg).toContain('phenom-chat:environments.development.database.engineVersion: PostgreSQL 17.99 is not a version aws-cdk-lib offers');
    expect(msg).toContain('17.9');
  });

  it('refuses to create an instance on a minor RDS no longer creates, and names the ones it does', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.production.database = { mode: 'create', engineVersion: '17.4' })),
        'production',
      ),
    );
    expect(msg).toContain('production.database.engineVersion: RDS no longer creates PostgreSQL 17.1–17.4 instances');
    expect(msg).toMatch(/pick one of 17\.5, .*17\.9/);
  });

  it('lets an imported instance stay on a minor RDS no longer creates', () => {
    const config = loadConfig(
      envsWith(
        (e) =>
          (e.development.database = {
            mode: 'import',
            endpoint: 'db.example.internal',
            secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rds-AbCdEf',
            securityGroupId: 'sg-0b1b2c3d4e5f60718',
            instanceIdentifier: 'phenom-dev-postgres',
            engineVersion: '17.4',
          }),
      ),
      'development',
    );
    expect(config.database.engineVersion).toBe('17.4');
  });

  it('rejects an image architecture Fargate does not run', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.images = { architecture: 'riscv64' })),
        'development',
      ),
    );
    expect(msg).toMatch(/development\.images\.architecture: /);
  });

  it('names the misspelt context key instead of reporting a missing record', () => {
    const msg = configErrorOf(() => configFromContextValues({ 'phenom-chat:enviroments': cdkJsonEnvironments() }));
    expect(msg).toBe('phenom-chat:enviroments: unknown context key; the environments live under "phenom-chat:environments" in cdk.json (check its spelling)');
  });

  it('refuses -c environment=production instead of silently synthesizing development', () => {
    const msg = configErrorOf(() => configFromContextValues({ 'phenom-chat:environments': cdkJsonEnvironments(), environment: 'production' }));
    expect(msg).toContain('environment: unknown context key; the environment is picked with -c env=NAME (did you mean -c env=production?)');
  });

  it('picks the environment -c env names from the whole context', () => {
    expect(configFromContextValues({ 'phenom-chat:environments': cdkJsonEnvironments(), env: 'production', '@aws-cdk/core:newStyleStackSynthesis': true }).envName).toBe('production');
  });

  it('says a create-only key does not apply to an imported part, instead of calling it a typo', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith(
          (e) =>
            (e.development.database = {
              mode: 'import',
              endpoint: 'db.example.internal',
              secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:x',
              securityGroupId: 'sg-0123456789abcdef0',
              instanceIdentifier: 'db',
              instanceClass: 'db.m5.large',
            }),
        ),
        'development',
      ),
    );
    expect(msg).toBe('phenom-chat:environments.development.database.instanceClass: applies only when database.mode is "create"; this environment uses "import", so remove it');
  });

  it('still calls a key no mode knows a typo', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.database = { mode: 'create', instanceClas: 'db.m5.large' })),
        'development',
      ),
    );
    expect(msg).toContain('development.database.instanceClas: unknown key; check its spelling');
  });

  it('bounds the admin-API allow-list in the schema, to exactly what the reserved ALB rules hold', () => {
    const capacity = (SYNAPSE_RULE_PRIORITIES.adminApiDeny - SYNAPSE_RULE_PRIORITIES.adminApiAllowFirst) * ALLOWED_CIDRS_PER_RULE;
    expect(MAX_ADMIN_API_CIDRS).toBe(capacity);
    const cidrs = (n: number) => Array.from({ length: n }, (_, i) => `203.0.${i}.0/24`);
    expect(() =>
      loadConfig(
        envsWith((e) => ((e.development.edge = { provider: 'none' }), (e.development.synapse = { adminApiAllowedCidrs: cidrs(capacity) }))),
        'development',
      ),
    ).not.toThrow();
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => ((e.development.edge = { provider: 'none' }), (e.development.synapse = { adminApiAllowedCidrs: cidrs(capacity + 1) }))),
        'development',
      ),
    );
    expect(msg).toContain(`development.synapse.adminApiAllowedCidrs: expected at most ${capacity} CIDRs`);
  });
  describe('synapse.database (adopting an existing homeserver)', () => {
    const importedRds = {
      mode: 'import',
      endpoint: 'phenom-prod-postgres.abcdefghijkl.us-east-1.rds.amazonaws.com',
      secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-prod-rds-AbCdEf',
      securityGroupId: 'sg-0b1b2c3d4e5f60718',
      instanceIdentifier: 'phenom-prod-postgres',
    };
    const roleSecret = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:phenom-prod-synapse-role-AbCdEf';

    it('defaults to a database this stack creates', () => {
      expect(loadConfig(cdkJsonEnvironments(), 'production').synapse.database).toEqual({ mode: 'create' });
    });

    it('adopts the "synapse" database by default, with the old role\'s credentials', () => {
      const config = loadConfig(
        envsWith((e) => Object.assign(e.production, { database: importedRds, synapse: { database: { mode: 'import', secretArn: roleSecret } } })),
        'production',
      );
      expect(config.synapse.database).toEqual({ mode: 'import', name: 'synapse', secretArn: roleSecret });
      expect(config.synapse.historyRetentionDays).toBe(90);
    });

    it('refuses adoption on an instance this stack would create, saying what to set', () => {
      const msg = configErrorOf(() =>
        loadConfig(
          envsWith((e) => (e.production.synapse = { database: { mode: 'import', secretArn: roleSecret } })),
          'production',
        ),
      );
      expect(msg).toContain('production.synapse.database: "import" adopts an existing Synapse database, so it needs the instance that holds it');
    });

    it('needs the credentials secret and a plain database name', () => {
      const withSynapse = (database: unknown) => () =>
        loadConfig(
          envsWith((e) => Object.assign(e.production, { database: importedRds, synapse: { database } })),
          'production',
        );
      expect(configErrorOf(withSynapse({ mode: 'import' }))).toMatch(/production\.synapse\.database\.secretArn: /);
      expect(configErrorOf(withSynapse({ mode: 'import', secretArn: roleSecret, name: 'Synapse-DB' }))).toContain('production.synapse.database.name: expected a lower-case SQL identifier');
      expect(configErrorOf(withSynapse({ mode: 'adopt' }))).toContain('production.synapse.database.mode: expected "create" or "import"');
    });

    it('rejects a signing key secret that is not a Secrets Manager ARN', () => {
      const msg = configErrorOf(() =>
        loadConfig(
          envsWith((e) => (e.production.synapse = { signingKeySecretArn: 'ed25519 a_abcd xyz' })),
          'production',
        ),
      );
      expect(msg).toContain('production.synapse.signingKeySecretArn: expected an ARN of the form arn:aws:secretsmanager');
    });
  });
});

describe('database.engineVersion default', () => {
  it('is the newest PostgreSQL 17 minor aws-cdk-lib offers, and one RDS still creates', () => {
    // Fails when an aws-cdk-lib upgrade adds a newer VER_17_<n>: move the default (and README) to it.
    expect(DEFAULT_POSTGRES_ENGINE_VERSION).toBe(CDK_POSTGRES_17_VERSIONS.at(-1));
    expect(RDS_NO_LONGER_CREATES).not.toContain(DEFAULT_POSTGRES_ENGINE_VERSION);
    expect(loadConfig(cdkJsonEnvironments(), 'production').database.engineVersion).toBe(DEFAULT_POSTGRES_ENGINE_VERSION);
  });
});

describe('edge.provider and the admin-API allow-list', () => {
  it('refuses an admin-API CIDR allow-list behind Cloudflare, where the ALB sees only Cloudflare', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => {
          e.development.edge = { provider: 'cloudflare' };
          e.development.synapse = { adminApiAllowedCidrs: ['203.0.113.0/24'] };
        }),
        'development',
      ),
    );
    expect(msg).toMatch(/^phenom-chat:environments\.development\.synapse\.adminApiAllowedCidrs: behind Cloudflare .*Leave it empty .*edge\.provider to "none"/);
  });

  it('keeps an admin-API CIDR allow-list when clients reach the ALB directly (edge.provider none)', () => {
    const config = loadConfig(
      envsWith((e) => {
        e.development.edge = { provider: 'none' };
        e.development.synapse = { adminApiAllowedCidrs: ['203.0.113.0/24'] };
      }),
      'development',
    );
    expect(config.synapse.adminApiAllowedCidrs).toEqual(['203.0.113.0/24']);
  });

  it('rejects an edge provider it does not know', () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.edge = { provider: 'akamai' })),
        'development',
      ),
    );
    expect(msg).toMatch(/development\.edge\.provider: /);
  });
});

describe('network.cidr for a created VPC', () => {
  it("must be private, since Synapse's edge proxy believes X-Forwarded-For only from private peers", () => {
    const msg = configErrorOf(() =>
      loadConfig(
        envsWith((e) => (e.development.network = { mode: 'create', cidr: '100.64.0.0/16' })),
        'development',
      ),
    );
    expect(msg).toMatch(/^phenom-chat:environments\.development\.network\.cidr: expected a private range inside 10\.0\.0\.0\/8, 172\.16\.0\.0\/12 or 192\.168\.0\.0\/16, got 100\.64\.0\.0\/16/);
    for (const cidr of ['10.40.0.0/16', '172.31.0.0/16', '192.168.0.0/20']) {
      expect(
        loadConfig(
          envsWith((e) => (e.development.network = { mode: 'create', cidr })),
          'development',
        ).network,
      ).toMatchObject({ cidr });
    }
    expect(() =>
      loadConfig(
        envsWith((e) => (e.development.network = { mode: 'create', cidr: '172.32.0.0/16' })),
        'development',
      ),
    ).toThrow(/network\.cidr/);
  });
});

describe('edge.provider defaults', () => {
  it('is cloudflare in production and none elsewhere unless set', () => {
    const bare = envsWith((e) => {
      delete e.development.edge;
      delete e.production.edge;
    });
    expect(loadConfig(bare, 'production').edge).toEqual({ provider: 'cloudflare', allowedCidrs: [...CLOUDFLARE_IPV4_RANGES] });
    expect(loadConfig(bare, 'development').edge).toEqual({ provider: 'none', allowedCidrs: ['0.0.0.0/0'] });
  });
});

describe('edge.allowedCidrs', () => {
  const withCidrs = (allowedCidrs: unknown, patch: (e: Record<string, Record<string, unknown>>) => void = () => undefined) =>
    envsWith((e) => {
      e.development.edge = { provider: 'cloudflare', allowedCidrs };
      patch(e);
    });
  const cidrs = (n: number) => Array.from({ length: n }, (_, i) => `198.51.${i}.0/24`);

  it('takes a configured list as given', () => {
    expect(loadConfig(withCidrs(['198.51.100.0/24']), 'development').edge.allowedCidrs).toEqual(['198.51.100.0/24']);
  });

  it('holds at most 30, the ALB SG rule quota (60) over its two ports', () => {
    expect(MAX_EDGE_CIDRS).toBe(30);
    expect(loadConfig(withCidrs(cidrs(30)), 'development').edge.allowedCidrs).toHaveLength(30);
    expect(configErrorOf(() => loadConfig(withCidrs(cidrs(31)), 'development'))).toContain('development.edge.allowedCidrs: expected at most 30 CIDRs');
  });

  it.each([
    [[], 'expected at least one CIDR'],
    [['2606:4700::/32'], 'expected an IPv4 CIDR block'],
    [['198.51.100.0'], 'expected an IPv4 CIDR block'],
  ])('refuses %p', (list, message) => {
    expect(configErrorOf(() => loadConfig(withCidrs(list), 'development'))).toContain(message);
  });

  it('is refused for an imported ALB, whose SG this stack does not own', () => {
    const imported = withCidrs(['198.51.100.0/24'], (e) => {
      e.development.loadBalancer = {
        mode: 'import',
        loadBalancerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/existing/0123456789abcdef',
        listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/existing/0123456789abcdef/0123456789abcdef',
        securityGroupId: 'sg-0123456789abcdef0',
        dnsName: 'existing-123.us-east-1.elb.amazonaws.com',
        canonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      };
    });
    expect(configErrorOf(() => loadConfig(imported, 'development'))).toMatch(/development\.edge\.allowedCidrs: an imported ALB keeps its own security group/);
  });
});
