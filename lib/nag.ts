import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** A cdk-nag finding we accept on purpose, with the reason a reviewer can check. */
export interface NagAcknowledgement {
  /** The rule id, e.g. `AwsSolutions-IAM4`, or one finding of it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  readonly reason: string;
}

/**
 * Acknowledges cdk-nag findings on a construct (cdk-nag v3 reads CDK's native
 * Validations acknowledgements). Kept in one place so every acknowledgement in
 * the app goes through the same call and can be listed with one grep.
 */
export function acknowledgeNag(scope: IConstruct, ...findings: NagAcknowledgement[]): void {
  Validations.of(scope).acknowledge(...findings);
}
