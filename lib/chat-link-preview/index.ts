import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { LinkPreviewEnvironment } from '../../chat-domain/link-preview-environment';
import { WEBHOOK_SECRET_HEADER } from '../../chat-domain/headers';
import { ChatFunction, ChatFunctionCommonProps, ChatFunctionDatabase, ChatFunctionVpcProps, functionCommonProps, functionVpcProps } from '../constructs/chat-function';
import { acknowledgeNag } from '../nag';
import { LAMBDA_DATABASE_LIMITS } from '../operations/thresholds';

/**
 * How long the Lambda waits for the Phenom API. A by-primary-key lookup on Hasura
 * answers in well under a second; 5 s rides out a slow moment while leaving the
 * whole invocation (secret reads, two queries, the call) far inside FUNCTION_TIMEOUT.
 */
const PHENOM_TIMEOUT_MS = 5_000;
/** Below the event trigger's retry_conf.timeout_sec (30 s), so Hasura sees our answer, not its own timeout. */
const FUNCTION_TIMEOUT = Duration.seconds(15);

export interface ChatLinkPreviewProps extends ChatFunctionCommonProps, ChatFunctionVpcProps {
  /** The chat database: the function reads chat_messages and upserts link_previews there. */
  readonly database: ChatFunctionDatabase;
  /** The Phenom backend's GraphQL endpoint the function asks for content metadata (https). */
  readonly phenomGraphqlUrl: string;
  /** The URL stored in `link_previews.url`: https, with `{phenomId}` once. */
  readonly previewUrlTemplate: string;
  /** How long a resolved preview is served without asking the Phenom API again. */
  readonly cacheTtlHours: number;
  /**
   * The Phenom API credentials (JSON: `adminSecret` [+ `role`] or `bearerToken`, see
   * lambda/link-preview/phenom-credentials.ts); the function may read it.
   * @default - the Phenom API is called without credentials
   */
  readonly phenomCredentialsSecret?: secretsmanager.ISecret;
}

/**
 * The link-preview webhook (seed 000, "Send Message Flow"): Hasura's chat_messages
 * INSERT trigger POSTs each event to a Lambda function URL; the function looks the
 * Phenom content up over GraphQL and upserts link_previews.
 *
 * Why a function URL with AuthType NONE plus a shared-secret header:
 * - Hasura event triggers send static headers only; they cannot SigV4-sign, so
 *   AWS_IAM auth would need a signing proxy in front of every call.
 * - An ALB route would put the webhook on the public chat listener next to the
 *   user-facing paths (no isolation gained), and an internal ALB costs a load
 *   balancer, a certificate and a DNS name for one low-volume webhook.
 * - The price: the URL is reachable from the internet, so anyone can make the
 *   function run (not do anything). Every call without the secret is answered
 *   401 after one constant-time comparison, before the body is read or any
 *   query runs; the secret is 48 random characters from Secrets Manager.
 */
export class ChatLinkPreview extends Construct {
  /** The header the webhook secret travels in (Hasura: `headers[].value_from_env`). */
  public static readonly WEBHOOK_SECRET_HEADER = WEBHOOK_SECRET_HEADER;

  public readonly function: ChatFunction;
  public readonly functionUrl: lambda.FunctionUrl;
  /** The URL Hasura's event trigger POSTs to (`webhook_from_env`). */
  public readonly webhookUrl: string;
  /** The shared secret (a plain string) Hasura must send in WEBHOOK_SECRET_HEADER. */
  public readonly webhookSecret: secretsmanager.ISecret;
  /** The Phenom API credentials the function reads, if any. */
  public readonly phenomCredentialsSecret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: ChatLinkPreviewProps) {
    super(scope, id);
    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      secretName: `${props.prefix}-link-preview-webhook`,
      description: `Shared secret Hasura sends to the link-preview webhook in the ${WEBHOOK_SECRET_HEADER} header`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNag(this.webhookSecret, {
      id: 'AwsSolutions-SMG4',
      reason:
        'Hasura receives the webhook secret as an ECS secret at task start, so an automatic rotation would make every event fail with 401 until the Hasura tasks restart. Rotate by putting a new value and forcing a new Hasura deployment (the Lambda re-reads the secret every 5 minutes).',
    });

    this.phenomCredentialsSecret = props.phenomCredentialsSecret;

    const environment: Record<string, string> = {
      WEBHOOK_SECRET_ARN: this.webhookSecret.secretArn,
      PHENOM_GRAPHQL_URL: props.phenomGraphqlUrl,
      ...(this.phenomCredentialsSecret ? { PHENOM_CREDENTIALS_SECRET_ARN: this.phenomCredentialsSecret.secretArn } : {}),
      PHENOM_TIMEOUT_MS: String(PHENOM_TIMEOUT_MS),
      PREVIEW_URL_TEMPLATE: props.previewUrlTemplate,
      CACHE_TTL_HOURS: String(props.cacheTtlHours),
    } satisfies LinkPreviewEnvironment;

    this.function = new ChatFunction(this, 'Function', {
      ...functionCommonProps(props),
      entry: 'link-preview/index.ts',
      databaseConnections: LAMBDA_DATABASE_LIMITS.linkPreview,
      description: 'Resolves phenom_link chat messages into link_previews (Hasura event-trigger webhook)',
      memorySizeMiB: 256,
      timeout: FUNCTION_TIMEOUT,
      environment,
      ...functionVpcProps(props),
      database: props.database,
      // Every Hasura event waits for this function's cold start; the extension keeps the SDK out of it.
      secretsFromExtension: true,
    });

    this.webhookSecret.grantRead(this.function.function);
    this.phenomCredentialsSecret?.grantRead(this.function.function);

    this.functionUrl = this.function.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    this.webhookUrl = this.functionUrl.url;

    // At stack scope, so the output keys stay readable (no construct-path hash).
    new CfnOutput(Stack.of(this), 'LinkPreviewWebhookUrl', { value: this.webhookUrl, description: 'Link-preview webhook (Hasura event trigger target)' });
    new CfnOutput(Stack.of(this), 'LinkPreviewWebhookSecretArn', { value: this.webhookSecret.secretArn, description: `Secret Hasura sends in ${WEBHOOK_SECRET_HEADER}` });
  }
}
