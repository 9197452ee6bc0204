import { Duration } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** The resource server that scopes access tokens for the MCP route (contract C3). */
export const CHAT_RESOURCE_SERVER_IDENTIFIER = 'chat';
/** Scope names on the `chat` resource server; tokens carry them as `chat/read`, `chat/moderate`. */
export const CHAT_SCOPES = { read: 'read', moderate: 'moderate' } as const;

/** Synapse's OIDC redirect target, under its public base URL (`https://<domainName>`). */
export function synapseOidcCallbackUrl(domainName: string): string {
  return `https://${domainName}/_synapse/client/oidc/callback`;
}

/**
 * Loopback redirect URIs of the MCP clients people sign in with (Cognito matches redirect_uri
 * exactly and allows plain http only for localhost):
 * - the MCP Inspector's web UI (its normal and "debug" OAuth flows, on its default port 6274);
 * - Claude Code, whose redirect is http://localhost:<port>/callback; its random port cannot be
 *   registered, so it is pinned: `claude mcp add --transport http --client-id … --callback-port 8787 …`.
 */
export const MCP_LOOPBACK_CALLBACK_URLS = ['http://localhost:6274/oauth/callback', 'http://localhost:6274/oauth/callback/debug', 'http://localhost:8787/callback'] as const;

export interface ChatAppClientsProps {
  /** The pool the clients and the `chat` resource server are added to. */
  readonly userPool: cognito.IUserPool;
  /** Client names start with it (`<prefix>-synapse-oidc`, `<prefix>-chat-agent`, …). */
  readonly prefix: string;
  /** The public domain: Synapse's OIDC callback is `https://<domainName>/_synapse/client/oidc/callback`. */
  readonly domainName: string;
}

/**
 * The app clients of seed 002 "Cognito Client Setup" (Synapse OIDC, MCP agent),
 * plus the mobile app's public client for the Hasura flow, the scoped
 * client_credentials client that agents use to call the MCP route, and the public
 * authorization-code + PKCE client people use through MCP clients.
 */
export class ChatAppClients extends Construct {
  public readonly synapseOidcClient: cognito.UserPoolClient;
  public readonly agentClient: cognito.UserPoolClient;
  public readonly mobileClient: cognito.UserPoolClient;
  public readonly mcpAgentClient: cognito.UserPoolClient;
  public readonly mcpInteractiveClient: cognito.UserPoolClient;
  public readonly resourceServer: cognito.UserPoolResourceServer;
  public readonly readScope: cognito.ResourceServerScope;
  public readonly moderateScope: cognito.ResourceServerScope;

  constructor(scope: Construct, id: string, props: ChatAppClientsProps) {
    super(scope, id);
    const { prefix, userPool } = props;

    // Synapse logs users in through the hosted UI with the authorization code flow
    // and exchanges the code server-side, so it is a confidential client.
    this.synapseOidcClient = new cognito.UserPoolClient(this, 'SynapseOidcClient', {
      userPool,
      userPoolClientName: `${prefix}-synapse-oidc`,
      generateSecret: true,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [synapseOidcCallbackUrl(props.domainName)],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
    });

    // The MCP server's machine account signs in with USER_PASSWORD_AUTH (seed 002);
    // its ID token carries the Hasura claims of the chat-admin group.
    this.agentClient = new cognito.UserPoolClient(this, 'AgentClient', {
      userPool,
      userPoolClientName: `${prefix}-chat-agent`,
      generateSecret: true,
      authFlows: { userPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      // The MCP server refreshes 5 minutes before expiry (seed 000 rate-limit table);
      // one hour keeps a leaked token short-lived without constant sign-ins.
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });

    // The mobile app talks to Cognito directly (InitiateAuth) for its Hasura ID token.
    // A public client: an app binary cannot keep a secret.
    this.mobileClient = new cognito.UserPoolClient(this, 'MobileClient', {
      userPool,
      userPoolClientName: `${prefix}-chat-mobile`,
      generateSecret: false,
      authFlows: { userSrp: true, userPassword: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      // Hasura checks only the ID token's expiry, so its lifetime bounds how long a
      // removed group or a revoked session keeps working on the GraphQL API: 1 hour.
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      // Users stay signed in to the app for 30 days without re-entering their password.
      refreshTokenValidity: Duration.days(30),
      authSessionValidity: Duration.minutes(3),
    });

    this.readScope = new cognito.ResourceServerScope({ scopeName: CHAT_SCOPES.read, scopeDescription: 'Read rooms, messages and members through the MCP server' });
    this.moderateScope = new cognito.ResourceServerScope({
      scopeName: CHAT_SCOPES.moderate,
      scopeDescription: 'Send, delete, mute, ban and unban through the MCP server',
    });
    this.resourceServer = new cognito.UserPoolResourceServer(this, 'ResourceServer', {
      userPool,
      identifier: CHAT_RESOURCE_SERVER_IDENTIFIER,
      userPoolResourceServerName: `${prefix}-chat-mcp`,
      scopes: [this.readScope, this.moderateScope],
    });

    // Agents calling the MCP route hold an access token from the client_credentials
    // grant, scoped to the chat resource server; the MCP server checks client_id and scope.
    this.mcpAgentClient = new cognito.UserPoolClient(this, 'McpAgentClient', {
      userPool,
      userPoolClientName: `${prefix}-chat-mcp-agent`,
      generateSecret: true,
      // Any explicit flow renders ALLOW_REFRESH_TOKEN_AUTH alone: no user sign-in on this
      // client (left unset, Cognito would default to SRP and custom auth as well).
      authFlows: { userPassword: false },
      oAuth: {
        flows: { clientCredentials: true },
        scopes: [cognito.OAuthScope.resourceServer(this.resourceServer, this.readScope), cognito.OAuthScope.resourceServer(this.resourceServer, this.moderateScope)],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      accessTokenValidity: Duration.hours(1),
    });

    // People reach the MCP server through OAuth-capable MCP clients (the Inspector, Claude Code),
    // which sign them in through the hosted UI with the authorization code grant and PKCE. Cognito
    // has no dynamic client registration, so those clients are given this client's id. Public: a
    // desktop client cannot keep a secret (RFC 8252), and PKCE protects the code instead. Only
    // chat/read: client scopes are the same for every user, so moderation comes from the person's
    // chat-support/chat-admin group in the token, never from a scope anyone could request.
    this.mcpInteractiveClient = new cognito.UserPoolClient(this, 'McpInteractiveClient', {
      userPool,
      userPoolClientName: `${prefix}-chat-mcp-interactive`,
      generateSecret: false,
      authFlows: { userPassword: false },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.resourceServer(this.resourceServer, this.readScope)],
        callbackUrls: [...MCP_LOOPBACK_CALLBACK_URLS],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      // A working day of agent use without signing in again; revocable through /oauth2/revoke.
      refreshTokenValidity: Duration.hours(12),
    });
  }
}
