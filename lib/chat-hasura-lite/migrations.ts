import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Construct, IDependable } from 'constructs';
import { readMigrations } from '../../chat-domain/migration-files';
import { DEPLOY_STEPS } from '../../chat-domain/deploy-step-limits';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunction, ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionVpcProps, functionCommonProps, functionVpcProps, REPO_ROOT } from '../constructs/chat-function';
import { LAMBDA_DATABASE_LIMITS } from '../operations/thresholds';

/** The migrations directory the Lambda bundle ships and the hash covers. */
export const SQL_DIR = path.join(REPO_ROOT, 'sql');

/**
 * One hash over every migration's name and checksum, exactly the set the runner will
 * apply (a malformed sql/ therefore fails synth, not the deploy).
 */
export function sqlContentHash(sqlDir: string = SQL_DIR): string {
  const hash = createHash('sha256');
  for (const file of readMigrations(sqlDir)) hash.update(`${file.name}\0${file.checksum}\n`);
  return hash.digest('hex');
}

export interface ChatMigrationsProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** The chat database the migrations apply to; the function connects over TLS with its (master) secret. */
  readonly database: ChatFunctionDatabase;
  /**
   * What must exist before the migrations run: the database and every security group rule into it
   * (the function's own ingress rule is created in the database security group's scope).
   * @default - the database instance alone, so the function's ingress rule may still be in flight on the first run
   */
  readonly databaseReady?: IDependable;
}

/**
 * Applies `sql/NNN-*.sql` to the chat database during every deploy in which sql/
 * changed (issue #3): a Lambda (Node 22, arm64, private subnets, own SG let into
 * RDS on 5432) behind a `Custom::ChatMigrations` resource whose properties carry
 * the content hash of sql/.
 */
export class ChatMigrations extends Construct {
  public readonly function: ChatFunction;
  /** The custom resource; `node.addDependency` on it to run after the schema exists. */
  public readonly resource: ChatCustomResource;
  /** sha256 over the migrations (name + checksum), as put in the resource properties. */
  public readonly sqlHash: string;

  constructor(scope: Construct, id: string, props: ChatMigrationsProps) {
    super(scope, id);
    this.sqlHash = sqlContentHash();

    this.function = new ChatFunction(this, 'MigrationsRunner', {
      ...functionCommonProps(props),
      entry: 'migrations/index.ts',
      databaseConnections: LAMBDA_DATABASE_LIMITS.migrations,
      description: 'Applies the chat schema migrations (sql/) during deploy',
      ...functionVpcProps(props),
      database: props.database,
      timeout: Duration.seconds(DEPLOY_STEPS.migrations.timeoutSeconds),
      bundleDirectories: ['sql'],
    });

    this.resource = new ChatCustomResource(this, 'CustomResource', {
      onEvent: this.function,
      resourceType: 'Custom::ChatMigrations',
      properties: { SqlHash: this.sqlHash },
    });
    // The function can only reach RDS once the ingress rule on the RDS SG and the instance exist.
    this.resource.node.addDependency(props.databaseReady ?? props.database.instance);
  }
}
