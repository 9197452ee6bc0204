import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { DEPLOY_STEP_SDK_CONFIG } from '../../chat-domain/deploy-step-limits';
import { deleteMachineAccount, ensureMachineAccount, MachineAccountClients, parseProperties, physicalResourceId } from './account';

const clients: MachineAccountClients = {
  cognito: new CognitoIdentityProviderClient(DEPLOY_STEP_SDK_CONFIG),
  secrets: new SecretsManagerClient(DEPLOY_STEP_SDK_CONFIG),
};

/** Creates the MCP machine account in Cognito (Create/Update) and removes it (Delete). */
export function createMachineAccountHandler(deps: MachineAccountClients) {
  return async (event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> => {
    if (event.RequestType === 'Delete') {
      // A physical id this handler never produced (a failed Create) names no account.
      const [userPoolId, ...rest] = event.PhysicalResourceId.split('/');
      if (userPoolId && rest.length > 0) await deleteMachineAccount(deps.cognito, { UserPoolId: userPoolId, Username: rest.join('/') });
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const props = parseProperties(event.ResourceProperties);
    const sub = await ensureMachineAccount(deps, props);
    return { PhysicalResourceId: physicalResourceId(props), Data: { Sub: sub, Username: props.Username } };
  };
}

export const handler = createMachineAccountHandler(clients);
