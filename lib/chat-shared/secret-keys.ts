/**
 * The keys of the `<prefix>-chat-clients` secret (contract C4). Consumers read one
 * key with `ecs.Secret.fromSecretsManager(chatShared.clientsSecret, CHAT_CLIENT_SECRET_KEYS.agentPassword)`
 * instead of spelling the key, so a rename breaks at compile time, not at deploy.
 */
export const CHAT_CLIENT_SECRET_KEYS = {
  synapseOidcClientId: 'synapseOidcClientId',
  synapseOidcClientSecret: 'synapseOidcClientSecret',
  agentClientId: 'agentClientId',
  agentClientSecret: 'agentClientSecret',
  agentUsername: 'agentUsername',
  agentPassword: 'agentPassword',
  mobileClientId: 'mobileClientId',
  mcpAgentClientId: 'mcpAgentClientId',
  mcpAgentClientSecret: 'mcpAgentClientSecret',
} as const;

export type ChatClientSecretKey = (typeof CHAT_CLIENT_SECRET_KEYS)[keyof typeof CHAT_CLIENT_SECRET_KEYS];
