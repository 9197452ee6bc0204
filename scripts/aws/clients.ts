import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { STSClient } from '@aws-sdk/client-sts';

/** Static credentials (tests and emulators); real runs use the SDK's credential chain. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsClientsOptions {
  /** The region every client talks to unless a call names another (`forRegion`). */
  readonly region: string;
  /**
   * One endpoint for every service (an emulator such as moto_server, or a test's stand-in). When
   * left out, the SDK's own resolution applies: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`,
   * then the service's public endpoint.
   */
  readonly endpoint?: string;
  /** @default - the SDK's default credential chain (environment, SSO/profile, container, instance). */
  readonly credentials?: StaticCredentials;
}

type Ctor<C> = new (config: Record<string, unknown>) => C;

/**
 * The AWS SDK v3 clients the operator scripts (`npm run preflight`, `dns-records`, `ab-report`) use, each
 * created on first use and then reused.
 */
export class AwsClients {
  private readonly cache = new Map<string, unknown>();
  private readonly regional = new Map<string, AwsClients>();

  constructor(private readonly options: AwsClientsOptions) {}

  get region(): string {
    return this.options.region;
  }

  /** The same clients in another region (a secret or an SES identity that lives elsewhere). */
  forRegion(region: string): AwsClients {
    if (region === this.options.region) return this;
    let clients = this.regional.get(region);
    if (!clients) this.regional.set(region, (clients = new AwsClients({ ...this.options, region })));
    return clients;
  }

  get sts(): STSClient {
    return this.client('sts', STSClient);
  }
  get cloudFormation(): CloudFormationClient {
    return this.client('cloudformation', CloudFormationClient);
  }
  get acm(): ACMClient {
    return this.client('acm', ACMClient);
  }
  get ec2(): EC2Client {
    return this.client('ec2', EC2Client);
  }
  get elbv2(): ElasticLoadBalancingV2Client {
    return this.client('elbv2', ElasticLoadBalancingV2Client);
  }
  get ecs(): ECSClient {
    return this.client('ecs', ECSClient);
  }
  get rds(): RDSClient {
    return this.client('rds', RDSClient);
  }
  get secretsManager(): SecretsManagerClient {
    return this.client('secretsmanager', SecretsManagerClient);
  }
  get cognito(): CognitoIdentityProviderClient {
    return this.client('cognito', CognitoIdentityProviderClient);
  }
  get cloudWatch(): CloudWatchClient {
    return this.client('cloudwatch', CloudWatchClient);
  }
  get sesv2(): SESv2Client {
    return this.client('sesv2', SESv2Client);
  }

  private client<C>(key: string, ctor: Ctor<C>): C {
    let client = this.cache.get(key) as C | undefined;
    if (!client) {
      client = new ctor({
        region: this.options.region,
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        // Every call is a describe that AWS answers in well under a second. A 15 s ceiling lets a
        // slow proxy through yet keeps a dead endpoint from hanging the script; one retry covers a
        // throttled or dropped request without multiplying the wait on a real outage.
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
        maxAttempts: 2,
      });
      this.cache.set(key, client);
    }
    return client;
  }
}
