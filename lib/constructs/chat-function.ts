import * as path from 'node:path';
import { AssetHashType, DockerImage, Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { acknowledgeNag } from '../nag';
import { POSTGRES_PORT } from '../platform/security-groups';
import { CONNECTIONS_PER_INVOCATION_METADATA } from '../operations/connection-budget';
import { bundleLambda, REPO_ROOT } from './lambda-bundle';
import { keepOnceCreated } from '../removal-policy';

export { REPO_ROOT } from './lambda-bundle';

/** The chat database a function connects to (the platform's `Database` is one). */
export interface ChatFunctionDatabase extends ec2.IConnectable {
  /** Its endpoint address and port become DB_HOST and DB_PORT. */
  readonly instance: rds.IDatabaseInstance;
  /** The credentials (JSON with username and password): its ARN becomes DB_SECRET_ARN. */
  readonly secret: secretsmanager.ISecret;
  /** The database holding the chat tables. */
  readonly databaseName: string;
  /** Lets the function read the credentials. */
  grantReadCredentials(grantee: iam.IGrantable): iam.Grant;
}

/** What every function of the app takes from the stack: its name prefix and how long its logs stay. */
export interface ChatFunctionCommonProps {
  /** The Powertools service name is `<prefix>-<id in kebab case>`. */
  readonly prefix: string;
  /** How long the function's log group keeps events. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Whether the log group outlives the stack (RetainExceptOnCreate, see removal-policy.ts).
   * @default false - the log group is deleted with the stack
   */
  readonly retainLogs?: boolean;
}

/** Where a function runs in the VPC (with its own security group). */
export interface ChatFunctionVpcProps {
  /** The VPC the function runs in; it gets a security group of its own there. */
  readonly vpc: ec2.IVpc;
  /**
   * The function's subnets in `vpc`.
   * @default - the private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/** Where a function that works on the chat database runs, and the database it connects to. */
export interface ChatDatabaseClientProps extends ChatFunctionVpcProps {
  /** The chat database: the function may connect to it and read its credentials. */
  readonly database: ChatFunctionDatabase;
}

/** Just the common props, out of the props of a construct that extends them (so none of its other props reach a function). */
export function functionCommonProps(props: ChatFunctionCommonProps): ChatFunctionCommonProps {
  return { prefix: props.prefix, logRetention: props.logRetention, retainLogs: props.retainLogs };
}

/** The VPC placement a construct took, as ChatFunction takes it. */
export function functionVpcProps(props: ChatFunctionVpcProps): ChatFunctionVpcProps {
  return { vpc: props.vpc, vpcSubnets: props.vpcSubnets };
}

export interface ChatFunctionProps extends ChatFunctionCommonProps {
  /** Entry file relative to `lambda/`, e.g. `link-preview/index.ts`. */
  readonly entry: string;
  readonly description: string;
  /** @default 256 */
  readonly memorySizeMiB?: number;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  readonly environment?: Record<string, string>;
  /**
   * Place the function in this VPC, with its own SG.
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The function's subnets in `vpc`.
   * @default - the private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Let the function connect to the chat database: opens 5432 on the RDS SG to the
   * function's SG, grants read of the DB secret and sets DB_SECRET_ARN / DB_HOST /
   * DB_PORT / DB_NAME. Needs `vpc`.
   * @default - no database access
   */
  readonly database?: ChatFunctionDatabase;
  /**
   * What the function may hold open against the database (LAMBDA_DATABASE_LIMITS in
   * lib/operations/thresholds.ts): sets reserved concurrency to the cap and records the
   * connections per invocation in the template, where the connection budget reads both.
   * A function let into the database without it fails the budget.
   * @default - no cap and nothing declared
   */
  readonly databaseConnections?: DatabaseConnections;
  /**
   * Repository-relative directories copied into the bundle next to the handler
   * (e.g. `['sql']` ships `sql/*.sql` as `/var/task/sql`), for files read at run time.
   * The bundle's asset hash covers them, so the code updates when they change.
   * @default - only the esbuild output is shipped
   */
  readonly bundleDirectories?: string[];
  /**
   * A fixed function name, for a function others invoke by name where a reference would make a
   * dependency cycle (the post-authentication trigger invokes the membership reconciler, which
   * reads the user pool that triggers it).
   * @default - a name CloudFormation generates
   */
  readonly functionName?: string;
  /**
   * Attach the AWS Parameters and Secrets Lambda Extension, so the function reads its secrets
   * over loopback (lambda/shared/secret-string.ts) instead of loading the AWS SDK: for functions
   * on a user's path, whose cold start the user waits for. The extension caches a secret for
   * 5 minutes, so a rotated value reaches the function within that time.
   * @default false - secrets are read with Powertools and the AWS SDK
   */
  readonly secretsFromExtension?: boolean;
}

/** A connecting function's share of the connection budget. */
export interface DatabaseConnections {
  /** Connections one invocation holds at once (lazyPool: 1 per pool). */
  readonly perInvocation: number;
  /** The most invocations that may run at once (the function's reserved concurrency). */
  readonly reservedConcurrency: number;
}

/** How long the extension serves a cached secret: the same 5 minutes the Powertools path allows. */
const EXTENSION_SECRET_TTL = Duration.minutes(5);

/**
 * A Lambda the way every function of this app is built: Node.js 22 on arm64,
 * bundled by the local esbuild (synth never needs Docker), minified with source
 * maps, and a log group with the configured retention.
 */
export class ChatFunction extends Construct implements ec2.IConnectable {
  public readonly function: lambda.Function;
  public readonly logGroup: logs.LogGroup;
  /** The function's own SG when it runs in the VPC. */
  public readonly securityGroup?: ec2.SecurityGroup;
  /** How long its logs stay (the custom resource provider's logs keep the same). */
  public readonly logRetention: logs.RetentionDays;

  constructor(scope: Construct, id: string, props: ChatFunctionProps) {
    const { vpc, database } = props;
    // Checked before super(): a refused function leaves no empty construct behind in the tree.
    for (const dir of props.bundleDirectories ?? []) {
      if (path.isAbsolute(dir) || dir.split(/[\\/]/).includes('..') || /["$`\\]/.test(dir)) throw new Error(`${id}: bundleDirectories must be plain paths inside the repository, got ${dir}`);
    }
    if (database && !vpc) throw new Error(`${id}: database needs vpc (the database is only reachable from the VPC)`);
    super(scope, id);

    this.logRetention = props.logRetention;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: keepOnceCreated({ production: props.retainLogs ?? false }),
    });

    if (vpc) {
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc,
        description: `${props.description} (Lambda)`,
        allowAllOutbound: true,
      });
    }

    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: `${props.prefix}-${id.replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase())}`,
      POWERTOOLS_METRICS_NAMESPACE: 'PhenomChat',
      ...props.environment,
    };
    if (database) {
      Object.assign(environment, {
        DB_SECRET_ARN: database.secret.secretArn,
        DB_HOST: database.instance.dbInstanceEndpointAddress,
        DB_PORT: database.instance.dbInstanceEndpointPort,
        DB_NAME: database.databaseName,
        // The Lambda Node.js 20+ runtimes ship Amazon's CA bundle (RDS included) but no longer
        // load it by default; this makes `ssl: { rejectUnauthorized: true }` verify RDS.
        NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      });
    }

    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(path.join(REPO_ROOT, 'lambda'), {
        // Hash the bundle, not the source tree: the code changes exactly when its output does.
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never used: local bundling always succeeds, so synth needs no Docker.
          image: DockerImage.fromRegistry('scratch'),
          // CDK caches bundles by their serialized options, and the tryBundle closure does not
          // serialize: naming the entry here keeps each ChatFunction from getting another's bundle.
          environment: { PHENOM_LAMBDA_ENTRY: props.entry, PHENOM_LAMBDA_COPY: (props.bundleDirectories ?? []).join(',') },
          local: {
            tryBundle: (outputDir) => {
              bundleLambda(props.entry, outputDir, props.bundleDirectories);
              return true;
            },
          },
        },
      }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMiB ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      description: props.description,
      ...(props.functionName ? { functionName: props.functionName } : {}),
      environment,
      ...(props.secretsFromExtension
        ? {
            paramsAndSecrets: lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103, {
              secretsManagerTtl: EXTENSION_SECRET_TTL,
              // A function here reads at most three secrets; the default cache holds 1000.
              cacheSize: 10,
              logLevel: lambda.ParamsAndSecretsLogLevel.WARN,
            }),
          }
        : {}),
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...(props.databaseConnections ? { reservedConcurrentExecutions: props.databaseConnections.reservedConcurrency } : {}),
      ...(vpc ? { vpc, vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [this.securityGroup!] } : {}),
    });

    if (props.databaseConnections) (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(CONNECTIONS_PER_INVOCATION_METADATA, props.databaseConnections.perInvocation);

    if (database) {
      database.grantReadCredentials(this.function);
      // The function's SG allows all outbound, so only the RDS SG gets a rule.
      database.connections.allowFrom(this.securityGroup!, ec2.Port.tcp(POSTGRES_PORT), `PostgreSQL from ${id}`);
    }

    acknowledgeNag(
      this.function,
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS-managed Lambda execution policy grants only log delivery, which every function needs.',
      },
      ...(vpc
        ? [
            {
              id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
              reason: 'The AWS-managed VPC execution policy grants only the ENI management a function in a VPC needs.',
            },
          ]
        : []),
      {
        id: 'AwsSolutions-L1',
        reason: 'Node.js 22 is the runtime the design fixes for every function (LTS, supported by Lambda until 2027-04-30); a test asserts it. Moving to 24 is a deliberate, tested change.',
      },
    );
  }

  public get connections(): ec2.Connections {
    if (!this.securityGroup) throw new Error('This ChatFunction is not in the VPC, so it has no security group');
    return this.function.connections;
  }
}
