import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';

export interface SynapseMediaBucketProps {
  /** Keep the bucket (and every uploaded file) when the stack is deleted. */
  readonly retain: boolean;
}

/**
 * Synapse's media store (through synapse-s3-storage-provider): private,
 * encrypted, TLS only, versioned so an overwrite or delete can be undone for 30 days.
 */
export class SynapseMediaBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: SynapseMediaBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      // RetainExceptOnCreate (lib/removal-policy.ts): nothing uploads media before the first deploy completes.
      removalPolicy: props.retain ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY,
      autoDeleteObjects: !props.retain,
    });
    acknowledgeNag(this.bucket, {
      id: 'AwsSolutions-S1',
      reason: "Only Synapse's task role reads and writes this bucket; every access is also in Synapse's own media logs. Server access logs would add a second log bucket for no extra audit value.",
    });
  }
}
