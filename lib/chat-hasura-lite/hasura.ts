import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { ChatConfig } from '../config';
import { chatServiceCommonProps } from '../construct-props';
import { Platform } from '../platform';
import { HASURA_PUBLIC_PATH, HasuraEngine, LinkPreviewWebhook } from './engine';
import { HasuraMetadataApply } from './metadata';

export interface ChatHasuraProps {
  readonly config: ChatConfig;
  readonly platform: Platform;
  /** The migrations custom resource: the metadata is applied only once the tables exist. */
  readonly migrations: IDependable;
  /** The link-preview webhook the chat_messages event trigger calls (needed when the engine is created here). */
  readonly linkPreview: LinkPreviewWebhook;
  /**
   * App client ids the ID token's `aud` must name (created engine only).
   * @default - the audience is not checked
   */
  readonly jwtAudience?: readonly string[];
}

/**
 * The GraphQL side of Hasura Lite: the engine (created on Fargate, or an existing one
 * from the config) and the metadata applied to it during deploy.
 */
export class ChatHasura extends Construct {
  /** Set when config.hasura.mode is "create". */
  public readonly engine?: HasuraEngine;
  /**
   * The GraphQL endpoint for in-VPC clients (the MCP server). For a created engine it is
   * the Cloud Map address, http://engine.hasura.<prefix>.internal:8080/v1/graphql: the
   * MCP server then stays inside the VPC (no hairpin through the public ALB and its WAF
   * rate limit, no dependency on public DNS). For an imported engine it is the configured URL.
   */
  public readonly graphqlEndpoint: string;
  /** The engine's admin secret (a plain string secret). */
  public readonly adminSecret: secretsmanager.ISecret;
  public readonly metadata: HasuraMetadataApply;

  constructor(scope: Construct, id: string, props: ChatHasuraProps) {
    super(scope, id);
    const { config, platform } = props;
    const hasura = config.hasura;

    let baseUrl: string;
    if (hasura.mode === 'create') {
      this.engine = new HasuraEngine(this, 'Engine', {
        ...chatServiceCommonProps(config, platform),
        taskSize: config.services.hasura,
        // Two tasks in production so a deploy or an AZ loss never drops the GraphQL API.
        desiredCount: config.production ? 2 : 1,
        image: hasura.image,
        domainName: config.domainName,
        listener: platform.listener,
        ecsTasksSecurityGroup: platform.securityGroups.ecsTasks,
        database: platform.database.instance,
        databaseSecret: platform.database.secret,
        databaseName: platform.database.databaseName,
        userPool: platform.userPool.userPool,
        linkPreview: props.linkPreview,
        jwtAudience: props.jwtAudience,
      });
      this.adminSecret = this.engine.adminSecret;
      baseUrl = this.engine.internalUrl;
      this.graphqlEndpoint = `${baseUrl}${HASURA_PUBLIC_PATH}`;
    } else {
      // The existing engine must already have HASURA_GRAPHQL_DATABASE_URL pointing at the
      // chat database and LINK_PREVIEW_WEBHOOK_URL / LINK_PREVIEW_WEBHOOK_SECRET set
      // (docs: README "Hasura: existing engine").
      this.adminSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'AdminSecret', hasura.adminSecretArn);
      baseUrl = new URL(hasura.endpoint).origin;
      this.graphqlEndpoint = hasura.endpoint;
    }

    this.metadata = new HasuraMetadataApply(this, 'Metadata', {
      config,
      platform,
      endpoint: baseUrl,
      adminSecret: this.adminSecret,
      ownership: hasura.mode === 'create' ? 'exclusive' : 'shared',
    });
    this.metadata.resource.node.addDependency(props.migrations);
    if (this.engine) {
      this.engine.allowFrom(this.metadata.function, 'Hasura metadata applier (metadata API)');
      // CloudFormation creates the service only once it is stable, so the applier
      // starts against a running engine (and still polls /healthz to be sure).
      this.metadata.resource.node.addDependency(this.engine);
      // The engine's first start would otherwise race the migrations and build its schema cache
      // (and the event trigger's view of chat_messages) from a database without the chat tables.
      this.engine.service.node.addDependency(props.migrations);
    }
  }

  /** Lets `grantee` read the admin secret (e.g. a backend that calls Hasura as admin). */
  public grantAdminSecretRead(grantee: iam.IGrantable): iam.Grant {
    return this.adminSecret.grantRead(grantee);
  }
}
