import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * Imports an existing secret by the ARN the config names. A complete ARN (with Secrets Manager's
 * 6-character suffix) gives an exact IAM resource; a partial one needs the `-??????` wildcard.
 * Configure the complete ARN: a partial one whose name happens to end in `-` plus six
 * letters/digits would be taken for complete.
 */
export function importSecret(scope: Construct, id: string, arn: string): secretsmanager.ISecret {
  return /-[A-Za-z0-9]{6}$/.test(arn) ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, arn) : secretsmanager.Secret.fromSecretPartialArn(scope, id, arn);
}
