import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { ChatFunctionCommonProps, ChatFunctionVpcProps, functionCommonProps, functionVpcProps } from '../constructs/chat-function';
import { HASURA_PUBLIC_PATH, HasuraEngine, HasuraEngineProps } from './engine';
import { HasuraMetadataApply } from './metadata';

/** An engine that runs elsewhere, which this construct applies the metadata to and hands out. */
export interface ExistingHasuraEngine {
  /**
   * Its GraphQL endpoint as the MCP server and the applier reach it, e.g. https://hasura.example.com/v1/graphql.
   * It must already have HASURA_GRAPHQL_DATABASE_URL pointing at the chat database and
   * LINK_PREVIEW_WEBHOOK_URL / LINK_PREVIEW_WEBHOOK_SECRET set (README "Hasura: existing engine").
   */
  readonly endpoint: string;
  /** Its admin secret (a plain string secret); the applier may read it. */
  readonly adminSecret: secretsmanager.ISecret;
}

/**
 * Exactly one of `engine` and `existingEngine`. The common function props and the VPC placement are
 * the metadata applier's.
 */
export interface ChatHasuraProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** The migrations custom resource: the metadata is applied only once the tables exist. */
  readonly migrations: IDependable;
  /**
   * Create the engine on Fargate with these props.
   * @default - no engine is created; `existingEngine` names the one to use
   */
  readonly engine?: HasuraEngineProps;
  /**
   * Use an engine that runs elsewhere; its metadata is applied in `shared` ownership (see apply.ts).
   * @default - none; `engine` creates one
   */
  readonly existingEngine?: ExistingHasuraEngine;
}

/**
 * The GraphQL side of Hasura Lite: the engine (created on Fargate, or an existing one)
 * and the metadata applied to it during deploy.
 */
export class ChatHasura extends Construct {
  /** Set when the engine is created here (`engine`). */
  public readonly engine?: HasuraEngine;
  /**
   * The GraphQL endpoint for in-VPC clients (the MCP server). For a created engine it is
   * the Cloud Map address, http://engine.hasura.<prefix>.internal:8080/v1/graphql: the
   * MCP server then stays inside the VPC (no hairpin through the public ALB and its WAF
   * rate limit, no dependency on public DNS). For an existing engine it is its endpoint.
   */
  public readonly graphqlEndpoint: string;
  /** The engine's admin secret (a plain string secret). */
  public readonly adminSecret: secretsmanager.ISecret;
  public readonly metadata: HasuraMetadataApply;

  constructor(scope: Construct, id: string, props: ChatHasuraProps) {
    // Checked before super(): refused props leave no empty construct behind in the tree.
    const existingOrigin = checkEngineChoice(id, props);
    super(scope, id);

    let baseUrl: string;
    if (props.engine) {
      this.engine = new HasuraEngine(this, 'Engine', props.engine);
      this.adminSecret = this.engine.adminSecret;
      baseUrl = this.engine.internalUrl;
      this.graphqlEndpoint = `${baseUrl}${HASURA_PUBLIC_PATH}`;
    } else {
      this.adminSecret = props.existingEngine!.adminSecret;
      baseUrl = existingOrigin!;
      this.graphqlEndpoint = props.existingEngine!.endpoint;
    }

    this.metadata = new HasuraMetadataApply(this, 'Metadata', {
      ...functionCommonProps(props),
      ...functionVpcProps(props),
      endpoint: baseUrl,
      adminSecret: this.adminSecret,
      ownership: this.engine ? 'exclusive' : 'shared',
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
}

/** Refuses anything but exactly one engine; for an existing one, returns its origin (the applier's base URL). */
export function checkEngineChoice(id: string, props: Pick<ChatHasuraProps, 'engine' | 'existingEngine'>): string | undefined {
  if (props.engine && props.existingEngine) throw new Error(`${id}: pass engine (create one) or existingEngine (use one), not both`);
  if (!props.engine && !props.existingEngine) throw new Error(`${id}: pass engine (create one) or existingEngine (use one)`);
  if (!props.existingEngine) return undefined;
  const { endpoint } = props.existingEngine;
  const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new Error(`${id}: existingEngine.endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  return url.origin;
}
