import { SecretValue, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ChatDatabaseClientProps, ChatFunctionCommonProps, functionCommonProps } from '../constructs/chat-function';
import { acknowledgeNag } from '../nag';
import { ChatAppClients, CHAT_RESOURCE_SERVER_IDENTIFIER } from './app-clients';
import { CognitoTriggers } from './cognito-triggers';
import { CHAT_GROUPS } from '../../chat-domain/groups';
import { MachineAccount } from './machine-account';
import { CHAT_CLIENT_SECRET_KEYS as KEYS } from './secret-keys';

export { CHAT_RESOURCE_SERVER_IDENTIFIER, CHAT_SCOPES, MCP_LOOPBACK_CALLBACK_URLS, synapseOidcCallbackUrl } from './app-clients';
export { CHAT_GROUPS, CHAT_ROLES, CHAT_ROOMS, entitlementsFor, HASURA_ROLE_OF } from '../../chat-domain/groups';
export { CHAT_CLIENT_SECRET_KEYS } from './secret-keys';

/**
 * `prefix` names the clients, the machine account's password and the `<prefix>-chat-clients` secret as
 * well as the functions; the VPC and database serve the user provisioner (a Cognito trigger).
 */
export interface ChatSharedProps extends ChatFunctionCommonProps, ChatDatabaseClientProps {
  /** The user pool (created or imported) that gets the clients, groups, machine account and triggers. */
  readonly userPool: cognito.IUserPool;
  /** The public domain: Synapse's OIDC callback and the machine account's e-mail are under it. */
  readonly domainName: string;
}

/**
 * What both chat backends share in Cognito (seed 002 "chat-shared"): the app
 * clients, the groups that map to Hasura roles and rooms, the MCP machine account,
 * the `chat` resource server, the two Cognito triggers, and the
 * `<prefix>-chat-clients` secret that hands the credentials to Synapse and the MCP server (contract C4).
 */
export class ChatShared extends Construct {
  public readonly userPool: cognito.IUserPool;
  /** The JSON secret `<prefix>-chat-clients`; read one key with `ecs.Secret.fromSecretsManager(clientsSecret, CHAT_CLIENT_SECRET_KEYS.x)`. */
  public readonly clientsSecret: secretsmanager.ISecret;
  public readonly synapseOidcClient: cognito.IUserPoolClient;
  public readonly agentClient: cognito.IUserPoolClient;
  public readonly mobileClient: cognito.IUserPoolClient;
  public readonly mcpAgentClient: cognito.IUserPoolClient;
  /** Public authorization code + PKCE client for people signing in through MCP clients. */
  public readonly mcpInteractiveClient: cognito.IUserPoolClient;
  /** The clients whose ID tokens may call Hasura (its JWT `audience`): the mobile app and the MCP server's machine account. */
  public readonly hasuraClients: readonly cognito.IUserPoolClient[];
  /** `chat`: access tokens of mcpAgentClient carry `chat/read` and/or `chat/moderate`. */
  public readonly resourceServerIdentifier: string = CHAT_RESOURCE_SERVER_IDENTIFIER;
  /** The chat groups by key of CHAT_GROUPS. */
  public readonly groups: Readonly<Record<keyof typeof CHAT_GROUPS, cognito.UserPoolGroup>>;
  public readonly machineAccount: MachineAccount;
  public readonly triggers: CognitoTriggers;

  constructor(scope: Construct, id: string, props: ChatSharedProps) {
    super(scope, id);
    this.userPool = props.userPool;
    const common = functionCommonProps(props);

    const groups = {} as Record<keyof typeof CHAT_GROUPS, cognito.UserPoolGroup>;
    for (const [key, group] of Object.entries(CHAT_GROUPS) as [keyof typeof CHAT_GROUPS, (typeof CHAT_GROUPS)[keyof typeof CHAT_GROUPS]][]) {
      groups[key] = new cognito.UserPoolGroup(this, `Group${key[0].toUpperCase()}${key.slice(1)}`, {
        userPool: this.userPool,
        groupName: group.name,
        description: group.description,
        precedence: group.precedence,
      });
    }
    this.groups = groups;

    const clients = new ChatAppClients(this, 'Clients', { userPool: this.userPool, prefix: props.prefix, domainName: props.domainName });
    this.synapseOidcClient = clients.synapseOidcClient;
    this.agentClient = clients.agentClient;
    this.mobileClient = clients.mobileClient;
    this.mcpAgentClient = clients.mcpAgentClient;
    this.mcpInteractiveClient = clients.mcpInteractiveClient;
    // Seed 000's Hasura flow: the app's InitiateAuth ID token, and the agent's (USER_PASSWORD_AUTH, seed 002).
    // Every client's ID token carries the Hasura claims (the pre-token trigger runs for all of them); the
    // audience is what keeps the Synapse OIDC and MCP interactive clients' tokens off the GraphQL API.
    this.hasuraClients = [clients.mobileClient, clients.agentClient];

    // chat-admin, not chat-support: the MCP moderation tools mute (UPDATE chat_members)
    // and unban (DELETE chat_bans), which only seed 000's admin row (Hasura role chat_admin) may do.
    this.machineAccount = new MachineAccount(this, 'MachineAccount', { ...common, userPool: this.userPool, domainName: props.domainName, group: groups.admin });

    this.triggers = new CognitoTriggers(this, 'Triggers', { ...common, userPool: this.userPool, vpc: props.vpc, vpcSubnets: props.vpcSubnets, database: props.database });

    // Every value is a reference resolved by CloudFormation: client ids are Refs, client
    // secrets come from DescribeUserPoolClient (the CDK's userPoolClientSecret), and the
    // agent password is a dynamic reference to its generated secret. No plaintext here.
    this.clientsSecret = new secretsmanager.Secret(this, 'ClientsSecret', {
      secretName: `${props.prefix}-chat-clients`,
      description: 'Cognito app client ids and secrets plus the MCP machine account credentials (Synapse and MCP server read it)',
      secretObjectValue: {
        [KEYS.synapseOidcClientId]: SecretValue.unsafePlainText(clients.synapseOidcClient.userPoolClientId),
        [KEYS.synapseOidcClientSecret]: clients.synapseOidcClient.userPoolClientSecret,
        [KEYS.agentClientId]: SecretValue.unsafePlainText(clients.agentClient.userPoolClientId),
        [KEYS.agentClientSecret]: clients.agentClient.userPoolClientSecret,
        [KEYS.agentUsername]: SecretValue.unsafePlainText(this.machineAccount.username),
        [KEYS.agentPassword]: SecretValue.secretsManager(this.machineAccount.passwordSecret.secretArn, { jsonField: 'password' }),
        [KEYS.mobileClientId]: SecretValue.unsafePlainText(clients.mobileClient.userPoolClientId),
        [KEYS.mcpAgentClientId]: SecretValue.unsafePlainText(clients.mcpAgentClient.userPoolClientId),
        [KEYS.mcpAgentClientSecret]: clients.mcpAgentClient.userPoolClientSecret,
      },
    });
    // userPoolClientSecret reads each secret through the CDK's stack-wide AwsCustomResource function.
    const describeClientFunction = Stack.of(this).node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
    if (describeClientFunction) {
      acknowledgeNag(describeClientFunction, {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "The CDK's AwsCustomResource function (DescribeUserPoolClient for the client secrets) needs only log delivery, which this AWS-managed policy grants.",
      });
    }
    acknowledgeNag(this.clientsSecret, {
      id: 'AwsSolutions-SMG4',
      reason:
        'The values are Cognito-generated client secrets and the machine password, which Secrets Manager rotation cannot change at their source; a change of client or password updates this secret on the next deploy.',
    });
  }
}
