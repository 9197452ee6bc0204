import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { readMigrations } from '../../chat-domain/migration-files';
import { DEPLOY_STEPS } from '../../chat-domain/deploy-step-limits';
import { ChatConfig } from '../config';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { ChatFunction, REPO_ROOT } from '../constructs/chat-function';
import { Platform } from '../platform';
import { chatDatabase, chatFunctionCommonProps, chatFunctionVpcProps } from '../construct-props';

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

export interface ChatMigrationsProps {
  readonly config: ChatConfig;
  /** Its VPC (private subnets) and RDS instance + secret: the function connects over TLS with the master secret. */
  readonly platform: Platform;
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
    const { config, platform } = props;
    this.sqlHash = sqlContentHash();

    this.function = new ChatFunction(this, 'MigrationsRunner', {
      ...chatFunctionCommonProps(config),
      entry: 'migrations/index.ts',
      description: 'Applies the chat schema migrations (sql/) during deploy',
      ...chatFunctionVpcProps(platform),
      database: chatDatabase(platform),
      timeout: Duration.seconds(DEPLOY_STEPS.migrations.timeoutSeconds),
      bundleDirectories: ['sql'],
    });

    this.resource = new ChatCustomResource(this, 'CustomResource', {
      onEvent: this.function,
      resourceType: 'Custom::ChatMigrations',
      properties: { SqlHash: this.sqlHash },
    });
    // The function can only reach RDS once the ingress rule on the RDS SG (created in the
    // database construct's scope) and the instance exist; depend on all of it explicitly.
    this.resource.node.addDependency(platform.database);
  }
}
