/**
 * Environment for AWS SDK v3 clients that must talk only to the loopback stand-ins:
 * a region, dummy static credentials (the stand-ins do not check signatures, and static
 * ones keep the SDK from searching ~/.aws or the instance metadata service), and the
 * per-service endpoint overrides the SDK reads (AWS_ENDPOINT_URL_<SERVICE>).
 * `account` is the account stand-in (STS, CloudFormation, EC2, ELBv2, RDS, ACM, ECS, SESv2).
 */
import { AwsClients } from '../../../scripts/aws/clients';

/** The dummy static credentials every stand-in accepts (they check that a request is signed, not the key). */
export const STAND_IN_CREDENTIALS = { accessKeyId: 'stand-in-access-key', secretAccessKey: 'stand-in-secret-key' };

/** The deploy scripts' AWS clients, every service sent to `endpoint` (a stand-in or moto_server). */
export function standInClients(endpoint: string, region = 'us-east-1'): AwsClients {
  return new AwsClients({ region, endpoint, credentials: STAND_IN_CREDENTIALS });
}

export function standInAwsEnv(endpoints: { secretsManager?: string; cognito?: string; account?: string }): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: STAND_IN_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: STAND_IN_CREDENTIALS.secretAccessKey,
    ...(endpoints.secretsManager ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager } : {}),
    ...(endpoints.cognito ? { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoints.cognito } : {}),
    ...(endpoints.account ? Object.fromEntries(ACCOUNT_SERVICES.map((s) => [`AWS_ENDPOINT_URL_${s}`, endpoints.account as string])) : {}),
  };
}

/** The SDK's service ids (upper case, spaces as underscores) that the account stand-in answers. */
const ACCOUNT_SERVICES = ['STS', 'CLOUDFORMATION', 'EC2', 'ELASTIC_LOAD_BALANCING_V2', 'RDS', 'ACM', 'ECS', 'SESV2'];
