import { ConfigError, loadAllConfigs, loadConfig } from '../../../lib/config';
import { cdkJsonEnvironments } from '../../support/synth';

function envsWith(patch: (envs: Record<string, Record<string, unknown>>) => void): Record<string, Record<string, unknown>> {
  const envs = cdkJsonEnvironments();
  patch(envs);
  return envs;
}

function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
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
    const msg = configErrorOf(() => loadConfig(envsWith((e) => (e.development.domainNmae = 'x.example.com')), 'development'));
    expect(msg).toContain('phenom-chat:environments.development.domainNmae: unknown key');
  });

  it('rejects an unknown nested key', () => {
    const msg = configErrorOf(() =>
      loadConfig(envsWith((e) => (e.development.database = { mode: 'create', multiAZ: true })), 'development'),
    );
    expect(msg).toContain('phenom-chat:environments.development.database.multiAZ: unknown key');
  });

  it('rejects a malformed domain name', () => {
    const msg = configErrorOf(() => loadConfig(envsWith((e) => (e.development.domainName = 'Chat Testing')), 'development'));
    expect(msg).toMatch(/development\.domainName: expected a lower-case DNS name/);
  });

  it('rejects a missing required key', () => {
    const msg = configErrorOf(() => loadConfig(envsWith((e) => delete e.development.domainName), 'development'));
    expect(msg).toContain('phenom-chat:environments.development.domainName');
  });

  it('rejects a memory size Fargate does not allow for the CPU', () => {
    const msg = configErrorOf(() =>
      loadConfig(envsWith((e) => (e.development.services = { synapse: { cpu: 256, memoryMiB: 4096 } })), 'development'),
    );
    expect(msg).toContain('development.services.synapse.memoryMiB: expected a memory size Fargate allows with 256 CPU units: 512, 1024, 2048');
  });

  it('rejects an unknown create/import mode', () => {
    const msg = configErrorOf(() => loadConfig(envsWith((e) => (e.development.network = { mode: 'reuse' })), 'development'));
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
    const msg = configErrorOf(() => loadConfig(envsWith((e) => delete e.production.certificate), 'production'));
    expect(msg).toMatch(/production\.certificate: a production environment needs a way to get its TLS certificate/);
    expect(msg).toContain('"mode":"import"');
  });

  it('refuses route53 validation without the hosted zone', () => {
    const msg = configErrorOf(() =>
      loadConfig(envsWith((e) => (e.development.certificate = { mode: 'create', validation: 'route53' })), 'development'),
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
    const msg = configErrorOf(() => loadConfig(envsWith((e) => (e.development.monitoring = { logRetentionDays: 45 })), 'development'));
    expect(msg).toContain('development.monitoring.logRetentionDays: expected one of the CloudWatch Logs retention periods');
  });

  it('refuses a production user pool with no SES sender, and says what to set', () => {
    const msg = configErrorOf(() => loadConfig(envsWith((e) => delete e.production.userPool), 'production'));
    expect(msg).toContain('production.userPool.email: a production user pool must send e-mail through SES');
    expect(msg).toContain('"fromAddress"');
  });

  it('lets development keep Cognito\'s built-in sender', () => {
    const config = loadConfig(cdkJsonEnvironments(), 'development');
    expect(config.userPool.mode === 'create' && config.userPool.email).toBeUndefined();
  });

  it('rejects an engine version outside PostgreSQL 17', () => {
    const msg = configErrorOf(() =>
      loadConfig(envsWith((e) => (e.development.database = { mode: 'create', engineVersion: '16.4' })), 'development'),
    );
    expect(msg).toContain('development.database.engineVersion: expected a PostgreSQL 17 minor version');
  });

  it('rejects an image architecture Fargate does not run', () => {
    const msg = configErrorOf(() => loadConfig(envsWith((e) => (e.development.images = { architecture: 'riscv64' })), 'development'));
    expect(msg).toMatch(/development\.images\.architecture: /);
  });

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
    const msg = configErrorOf(() => loadConfig(envsWith((e) => (e.development.edge = { provider: 'akamai' })), 'development'));
    expect(msg).toMatch(/development\.edge\.provider: /);
  });
});

describe('network.cidr for a created VPC', () => {
  it("must be private, since Synapse's edge proxy believes X-Forwarded-For only from private peers", () => {
    const msg = configErrorOf(() => loadConfig(envsWith((e) => (e.development.network = { mode: 'create', cidr: '100.64.0.0/16' })), 'development'));
    expect(msg).toMatch(/^phenom-chat:environments\.development\.network\.cidr: expected a private range inside 10\.0\.0\.0\/8, 172\.16\.0\.0\/12 or 192\.168\.0\.0\/16, got 100\.64\.0\.0\/16/);
    for (const cidr of ['10.40.0.0/16', '172.31.0.0/16', '192.168.0.0/20']) {
      expect(loadConfig(envsWith((e) => (e.development.network = { mode: 'create', cidr })), 'development').network).toMatchObject({ cidr });
    }
    expect(() => loadConfig(envsWith((e) => (e.development.network = { mode: 'create', cidr: '172.32.0.0/16' })), 'development')).toThrow(/network\.cidr/);
  });
});

describe('edge.provider defaults', () => {
  it('is cloudflare in production and none elsewhere unless set', () => {
    const bare = envsWith((e) => {
      delete e.development.edge;
      delete e.production.edge;
    });
    expect(loadConfig(bare, 'production').edge).toEqual({ provider: 'cloudflare' });
    expect(loadConfig(bare, 'development').edge).toEqual({ provider: 'none' });
  });
});
