import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { ChatConfig } from '../../lib/config';
import { awsErrorCode } from '../aws/errors';
import { arnRegion, CheckFailed, type Check, type PreflightContext } from './check';

/**
 * Throws CheckFailed unless the secret exists and is not scheduled for deletion. DescribeSecret
 * reads metadata only: the preflight never reads a secret's value.
 */
export async function describeSecret(ctx: PreflightContext, key: string, arn: string): Promise<void> {
  let secret;
  try {
    secret = await ctx.aws.forRegion(arnRegion(arn)).secretsManager.send(new DescribeSecretCommand({ SecretId: arn }));
  } catch (err) {
    if (awsErrorCode(err) === 'ResourceNotFoundException') throw new CheckFailed(`${key}: Secrets Manager has no secret ${arn}: create it or correct the ARN`);
    throw err;
  }
  if (secret.DeletedDate) {
    throw new CheckFailed(`${key}: the secret ${arn} is scheduled for deletion (${secret.DeletedDate.toISOString()}): \`aws secretsmanager restore-secret --secret-id ${arn}\``);
  }
}

/** The secrets the config names by ARN, other than the imported database's (the database check has it). */
export function referencedSecrets(config: ChatConfig): Array<{ key: string; arn: string }> {
  return [
    config.hasura.mode === 'import' ? { key: 'hasura.adminSecretArn', arn: config.hasura.adminSecretArn } : undefined,
    config.synapse.signingKeySecretArn ? { key: 'synapse.signingKeySecretArn', arn: config.synapse.signingKeySecretArn } : undefined,
    config.linkPreview.phenomCredentialsSecretArn ? { key: 'linkPreview.phenomCredentialsSecretArn', arn: config.linkPreview.phenomCredentialsSecretArn } : undefined,
  ].filter((s): s is { key: string; arn: string } => Boolean(s));
}

/** Every secret the config names exists: a task whose secret is missing never starts, and the deploy waits for it. */
export const secretsCheck: Check = {
  name: 'secrets',
  doing: 'describe the secrets the config names',
  needs: ['credentials'],
  applies: (config) => referencedSecrets(config).length > 0,
  async run(ctx) {
    const secrets = referencedSecrets(ctx.config);
    for (const s of secrets) await describeSecret(ctx, s.key, s.arn);
    return secrets.map((s) => s.key).join(', ');
  },
};
