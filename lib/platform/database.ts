import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { acknowledgeNag } from '../nag';
import { Construct } from 'constructs';
import { ChatConfig, postgresEngineVersion } from '../config';
import { protectionPlan } from './protection-plan';

export interface DatabaseProps {
  readonly config: ChatConfig;
  readonly vpc: ec2.IVpc;
}

/** The database name the chat tables live in (the seeds share one RDS database). */
export const CHAT_DATABASE_NAME = 'phenom';

/**
 * RDS PostgreSQL 17 (`database.engineVersion`, by default the newest minor aws-cdk-lib offers),
 * shared by Synapse (its own `synapse` database) and the Hasura Lite chat tables. Created, or
 * imported by endpoint + secret + SG.
 */
export class Database extends Construct {
  public readonly instance: rds.IDatabaseInstance;
  /** The master credentials: JSON with username, password, host, port, dbname. */
  public readonly secret: secretsmanager.ISecret;
  public readonly securityGroup: ec2.ISecurityGroup;
  public readonly databaseName: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { config } = props;
    const db = config.database;

    if (db.mode === 'import') {
      this.securityGroup = ec2.SecurityGroup.fromSecurityGroupId(this, 'SecurityGroup', db.securityGroupId);
      this.secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Secret', db.secretArn);
      this.instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(this, 'Instance', {
        instanceEndpointAddress: db.endpoint,
        port: db.port,
        instanceIdentifier: db.instanceIdentifier,
        securityGroups: [this.securityGroup],
        engine: rds.DatabaseInstanceEngine.postgres({ version: postgresEngineVersion(db.engineVersion) }),
      });
      this.databaseName = db.databaseName;
      return;
    }

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${config.prefix}-rds`,
      description: 'Chat RDS PostgreSQL: inbound only from the chat tasks and Lambdas',
      // The seed's RDS SG has no outbound rule; CDK renders that as a deny-all placeholder.
      allowAllOutbound: false,
    });
    this.securityGroup = securityGroup;

    const engine = rds.DatabaseInstanceEngine.postgres({ version: postgresEngineVersion(db.engineVersion) });
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'Phenom chat: TLS required',
      parameters: { 'rds.force_ssl': '1' },
    });

    const [instanceFamily, instanceSize] = db.instanceClass.replace(/^db\./, '').split('.');
    const instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: ec2.InstanceType.of(instanceFamily as ec2.InstanceClass, instanceSize as ec2.InstanceSize),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      credentials: rds.Credentials.fromGeneratedSecret('chat_admin', { secretName: `${config.prefix}-rds-credentials` }),
      databaseName: CHAT_DATABASE_NAME,
      parameterGroup,
      multiAz: db.multiAz,
      allocatedStorage: db.allocatedStorageGiB,
      maxAllocatedStorage: db.maxAllocatedStorageGiB,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      publiclyAccessible: false,
      backupRetention: Duration.days(db.backupRetentionDays),
      // When database.deletionProtection is on, the deletion-protection step turns it on once the instance
      // exists (protection-plan.ts): set here, it would make a failed first deploy's rollback fail. Left out of
      // the template, CloudFormation never resets it, because its DBInstance handler sends DeletionProtection to
      // ModifyDBInstance only when the template's value changes (`deletionProtection(diff(previous, desired))`).
      deletionProtection: protectionPlan(config).database ? undefined : db.deletionProtection,
      removalPolicy: config.production ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      deleteAutomatedBackups: !config.production,
      enablePerformanceInsights: true,
      cloudwatchLogsExports: ['postgresql'],
      // RDS creates /aws/rds/instance/<id>/postgresql itself, with no expiry; this sets the configured retention on it.
      cloudwatchLogsRetention: config.monitoring.logRetentionDays as logs.RetentionDays,
      // RDS applies new PostgreSQL 17 minors in the maintenance window (AutoMinorVersionUpgrade, AWS::RDS::DBInstance
      // docs), so the instance keeps getting fixes and never sits on a minor RDS later stops supporting. The template
      // then still names the minor it was created with; that is harmless, because CloudFormation's DBInstance handler
      // sends EngineVersion to ModifyDBInstance only when the template's value changes (Translator.modifyDbInstanceRequest
      // in aws-cloudformation-resource-providers-rds: `engineVersion(diff(previous, desired))`). What does fail is
      // changing database.engineVersion to a minor below the one running: RDS cannot downgrade ("Cannot upgrade postgres
      // from 17.10 to 17.9") and the update rolls back. So raise it only to what describe-db-instances reports, or newer.
      autoMinorVersionUpgrade: true,
      // A major upgrade (17 -> 18) needs a new parameter-group family and a tested plan for Synapse and Hasura; with this
      // off, RDS refuses a major EngineVersion change made through the stack instead of starting one.
      allowMajorVersionUpgrade: false,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    });
    this.instance = instance;
    this.secret = instance.secret!;
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
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'The master password is read by Synapse and Hasura only at task start; rotating it under them would break their connections until restart. docs/operations.md gives the rotate-then-restart procedure.',
      },
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
}
