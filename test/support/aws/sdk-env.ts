/**
 * Environment for AWS SDK v3 clients that must talk only to the loopback stand-ins:
 * a region, dummy static credentials (the stand-ins do not check signatures, and static
 * ones keep the SDK from searching ~/.aws or the instance metadata service), and the
 * per-service endpoint overrides the SDK reads (AWS_ENDPOINT_URL_<SERVICE>).
 * `account` is the account stand-in (STS, CloudFormation, EC2, ELBv2, RDS, ACM, ECS, SESv2).
 */
export function standInAwsEnv(endpoints: { secretsManager?: string; cognito?: string; account?: string }): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'stand-in-access-key',
    AWS_SECRET_ACCESS_KEY: 'stand-in-secret-key',
    ...(endpoints.secretsManager ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager } : {}),
    ...(endpoints.cognito ? { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoints.cognito } : {}),
    ...(endpoints.account ? Object.fromEntries(ACCOUNT_SERVICES.map((s) => [`AWS_ENDPOINT_URL_${s}`, endpoints.account as string])) : {}),
  };
}

/** The SDK's service ids (upper case, spaces as underscores) that the account stand-in answers. */
const ACCOUNT_SERVICES = ['STS', 'CLOUDFORMATION', 'EC2', 'ELASTIC_LOAD_BALANCING_V2', 'RDS', 'ACM', 'ECS', 'SESV2'];
