import { CognitoIdentityProviderClient, DescribeUserPoolCommand, ResourceNotFoundException, UpdateUserPoolCommand, UserPoolType } from '@aws-sdk/client-cognito-identity-provider';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { DEPLOY_STEP_SDK_CONFIG } from '../../chat-domain/deploy-step-limits';
import { attachRequest, ChatTriggerArns, detachRequest } from './update-request';

interface TriggerProperties extends ChatTriggerArns {
  readonly userPoolId: string;
}

function parseProperties(props: Record<string, unknown> | undefined): TriggerProperties {
  const get = (key: string): string => {
    const value = props?.[key];
    if (typeof value !== 'string' || value.length === 0) throw new Error(`user pool triggers: missing resource property ${key}`);
    return value;
  };
  return { userPoolId: get('UserPoolId'), preTokenGenerationArn: get('PreTokenGenerationArn'), postAuthenticationArn: get('PostAuthenticationArn') };
}

/** Attaches the chat triggers to an imported user pool (Create/Update) and detaches them (Delete). */
export function createUserPoolTriggersHandler(cognito: CognitoIdentityProviderClient) {
  return async (event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string }> => {
    const props = parseProperties(event.ResourceProperties);
    const physicalId = `${props.userPoolId}/chat-triggers`;

    if (event.RequestType === 'Delete') {
      let pool: UserPoolType | undefined;
      try {
        pool = (await cognito.send(new DescribeUserPoolCommand({ UserPoolId: props.userPoolId }))).UserPool;
      } catch (err) {
        // A pool that is gone has no triggers left to remove.
        if (!(err instanceof ResourceNotFoundException)) throw err;
      }
      if (pool) await cognito.send(new UpdateUserPoolCommand(detachRequest(pool, props)));
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const { UserPool: pool } = await cognito.send(new DescribeUserPoolCommand({ UserPoolId: props.userPoolId }));
    if (!pool) throw new Error(`user pool triggers: DescribeUserPool returned no pool for ${props.userPoolId}`);
    const ownedBefore =
      event.RequestType === 'Update' && event.OldResourceProperties?.UserPoolId === props.userPoolId
        ? [event.OldResourceProperties.PreTokenGenerationArn, event.OldResourceProperties.PostAuthenticationArn].filter((a): a is string => typeof a === 'string')
        : [];
    await cognito.send(new UpdateUserPoolCommand(attachRequest(pool, props, ownedBefore)));
    return { PhysicalResourceId: physicalId };
  };
}

export const handler = createUserPoolTriggersHandler(new CognitoIdentityProviderClient(DEPLOY_STEP_SDK_CONFIG));
