import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { acknowledgeNag } from '../nag';
import { Construct } from 'constructs';
import { rotateMasterSecret } from './secret-rotation';

/** What a created and an imported chat database both take. */
interface DatabaseCommonProps {
  /** The PostgreSQL version: of the instance created, or as RDS reports it for the existing one. */
  readonly engineVersion: rds.PostgresEngineVersion;
}

/** An RDS PostgreSQL instance created by the Database construct, in the VPC's isolated subnets. */
export interface CreatedDatabaseProps extends DatabaseCommonProps {
  /** The VPC whose isolated subnets hold the instance. */
  readonly vpc: ec2.IVpc;
  /** Names of the security group (`<prefix>-rds`) and the credentials secret (`<prefix>-rds-credentials`) start with it. */
  readonly prefix: string;
  /** The instance type, e.g. `m5.large` (rendered as `db.m5.large`). */
  readonly instanceType: ec2.InstanceType;
  /** A standby in a second AZ. */
  readonly multiAz: boolean;
  /** Storage allocated at creation. */
  readonly allocatedStorageGiB: number;
  /** The ceiling storage auto scaling may grow to. */
  readonly maxAllocatedStorageGiB: number;
  /** How long automated backups are kept. */
  readonly backupRetention: Duration;
  /**
   * Whether the instance is to be protected from deletion. The template leaves the flag out and the
   * DeletionProtection construct turns it on once the instance exists (protection-plan.ts says why);
   * when false, the template turns it off.
   */
  readonly deletionProtection: boolean;
  /** On deletion, take a final snapshot and keep the automated backups (else both go with the instance). */
  readonly snapshotOnDelete: boolean;
  /** How long the exported `postgresql` log group keeps events. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Where the master secret's rotation function runs: it needs egress to Secrets Manager.
   * @default - the VPC's PRIVATE_WITH_EGRESS subnets
   */
  readonly rotationSubnets?: ec2.SubnetSelection;
}

/** An existing instance, imported by endpoint, secret and security group. */
export interface ImportedDatabaseProps extends DatabaseCommonProps {
  /** The instance's attributes. */
  readonly existing: {
    /** The instance endpoint address. */
    readonly endpoint: string;
    /** The port it listens on. */
    readonly port: number;
    /** Its RDS instance identifier (DBInstanceIdentifier). */
    readonly instanceIdentifier: string;
    /** The security group the instance is in: rules letting clients in are added to it. */
    readonly securityGroupId: string;
    /** A secret with its `username` and `password` (JSON). */
    readonly secretArn: string;
    /** The database holding the chat tables. */
    readonly databaseName: string;
  };
}

export type DatabaseProps = CreatedDatabaseProps | ImportedDatabaseProps;

/** The database name the chat tables live in (the seeds share one RDS database). */
export const CHAT_DATABASE_NAME = 'phenom';

/**
 * RDS PostgreSQL 17 (`engineVersion`; the config's default is the newest minor aws-cdk-lib offers),
 * shared by Synapse (its own `synapse` database) and the Hasura Lite chat tables. Created, or
 * imported by endpoint + secret + SG.
 */
export class Database extends Construct implements ec2.IConnectable {
  public readonly instance: rds.IDatabaseInstance;
  /** The master credentials: JSON with username, password, host, port, dbname. */
  public readonly secret: secretsmanager.ISecret;
  public readonly securityGroup: ec2.ISecurityGroup;
  public readonly databaseName: string;
  /** The master secret's rotation schedule (created instances only). */
  public readonly masterRotation?: secretsmanager.RotationSchedule;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const engine = rds.DatabaseInstanceEngine.postgres({ version: props.engineVersion });

    if ('existing' in props) {
      const db = props.existing;
      this.securityGroup = ec2.SecurityGroup.fromSecurityGroupId(this, 'SecurityGroup', db.securityGroupId);
      this.secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', db.secretArn);
      this.instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Instance', {
        instanceEndpointAddress: db.endpoint,
        port: db.port,
        instanceIdentifier: db.instanceIdentifier,
        securityGroups: [this.securityGroup],
        engine,
      });
      this.databaseName = db.databaseName;
      return;
    }
    const db = props;

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${db.prefix}-rds`,
      description: 'Chat RDS PostgreSQL: inbound only from the chat tasks and Lambdas',
      // The seed's RDS SG has no outbound rule; CDK renders that as a deny-all placeholder.
      allowAllOutbound: false,
    });
    this.securityGroup = securityGroup;

    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'Phenom chat: TLS required',
      parameters: { 'rds.force_ssl': '1' },
    });

    const instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: db.instanceType,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      credentials: rds.Credentials.fromGeneratedSecret('chat_admin', { secretName: `${db.prefix}-rds-credentials` }),
      databaseName: CHAT_DATABASE_NAME,
      parameterGroup,
      multiAz: db.multiAz,
      allocatedStorage: db.allocatedStorageGiB,
      maxAllocatedStorage: db.maxAllocatedStorageGiB,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      publiclyAccessible: false,
      backupRetention: db.backupRetention,
      // When database.deletionProtection is on, the deletion-protection step turns it on once the instance
      // exists (protection-plan.ts): set here, it would make a failed first deploy's rollback fail. Left out of
      // the template, CloudFormation never resets it, because its DBInstance handler sends DeletionProtection to
      // ModifyDBInstance only when the template's value changes (`deletionProtection(diff(previous, desired))`).
      deletionProtection: db.deletionProtection ? undefined : false,
      removalPolicy: db.snapshotOnDelete ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      deleteAutomatedBackups: !db.snapshotOnDelete,
      enablePerformanceInsights: true,
      cloudwatchLogsExports: ['postgresql'],
      // RDS creates /aws/rds/instance/<id>/postgresql itself, with no expiry; this sets the configured retention on it.
      cloudwatchLogsRetention: db.logRetention,
      // RDS applies new PostgreSQL 17 minors in the maintenance window (AutoMinorVersionUpgrade, AWS::RDS::DBInstance
      // docs), so the instance keeps getting fixes and never sits on a minor RDS later stops supporting. The template
      // then still names the minor it was created with; that is harmless, because CloudFormation's DBInstance handler
      // sends EngineVersion to ModifyDBInstance only when the template's value changes (Translator.modifyDbInstanceRequest
      // in aws-cloudformation-resource-providers-rds: `engineVersion(diff(previous, desired))`). What does fail is
      // changing engineVersion to a minor below the one running: RDS cannot downgrade ("Cannot upgrade postgres
      // from 17.10 to 17.9") and the update rolls back. So raise it only to what describe-db-instances reports, or newer.
      autoMinorVersionUpgrade: true,
      // A major upgrade (17 -> 18) needs a new parameter-group family and a tested plan for Synapse and Hasura; with this
      // off, RDS refuses a major EngineVersion change made through the stack instead of starting one.
      allowMajorVersionUpgrade: false,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
    this.instance = instance;
    this.secret = instance.secret!;
    // Only a created instance's master rotates here: an imported database's secret is its owner's to rotate.
    this.masterRotation = rotateMasterSecret(this, 'MasterRotation', this.secret, {
      vpc: props.vpc,
      vpcSubnets: db.rotationSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      database: instance,
    });
    // cloudwatchLogsRetention adds aws-cdk-lib's log-retention singleton to the stack.
    const logRetention = Stack.of(this).node.tryFindChild('LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a');
    if (logRetention) {
      acknowledgeNag(
        logRetention,
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: "aws-cdk-lib's log-retention function needs only log delivery for itself, which this AWS-managed policy grants.",
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'The log-retention function sets retention on the RDS log group, whose name exists only once RDS creates it; aws-cdk-lib grants logs:PutRetentionPolicy/DeleteRetentionPolicy on * for that.',
        },
      );
    }
    this.databaseName = CHAT_DATABASE_NAME;

    acknowledgeNag(
      instance,
      { id: 'AwsSolutions-RDS11', reason: 'Port 5432 is the port the seeds and every client (Synapse, Hasura, Lambdas) use; the SG, not the port, keeps the database private.' },
      ...(db.multiAz ? [] : [{ id: 'AwsSolutions-RDS3', reason: 'Multi-AZ is off by config for this non-production environment to halve its cost; production turns it on.' }]),
      db.deletionProtection
        ? {
            id: 'AwsSolutions-RDS10',
            reason:
              'Deletion protection is on, set by the deletion-protection step right after the instance is created (lib/platform/protection-plan.ts), not in the template, so a failed first deploy can still roll back.',
          }
        : { id: 'AwsSolutions-RDS10', reason: 'Deletion protection is off by config for this non-production environment so it can be torn down; production turns it on.' },
    );
  }

  /** The instance's security group: `connections.allowFrom(peer, ec2.Port.tcp(5432), why)` lets a client in. */
  public get connections(): ec2.Connections {
    return this.instance.connections;
  }

  /** Lets the grantee read the master credentials (and decrypt them). */
  public grantReadCredentials(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }
}
