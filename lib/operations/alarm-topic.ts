import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { keepOnceCreated } from '../removal-policy';

export interface ChatAlarmTopicProps {
  /** The topic is `<prefix>-alarms`; its key's description starts with the prefix too. */
  readonly prefix: string;
  /** The environment's name, in the topic's display name (`Phenom chat <envName> alarms`). */
  readonly envName: string;
  /**
   * An operator's address, subscribed to the topic (pending until the recipient confirms).
   * @default - no subscription; subscribe endpoints to the topic yourself
   */
  readonly alarmEmail?: string;
  /**
   * Keep the topic's key once created (RetainExceptOnCreate, see removal-policy.ts).
   * @default false - the key is scheduled for deletion with the stack
   */
  readonly retainKey?: boolean;
}

/**
 * The SNS topic every alarm of the environment notifies, encrypted and TLS-only,
 * with the operators' e-mail subscribed when `alarmEmail` is set.
 */
export class ChatAlarmTopic extends Construct {
  public readonly topic: sns.ITopic;
  /** The customer-managed key the topic is encrypted with. */
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: ChatAlarmTopicProps) {
    super(scope, id);
    const { prefix } = props;

    // CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed aws/sns key
    // (its policy cannot be changed), so the topic gets its own key that lets CloudWatch use it.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    const key = new kms.Key(this, 'Key', {
      description: `${prefix} alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy: keepOnceCreated({ production: props.retainKey ?? false }),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.key = key;

    const topic = new sns.Topic(this, 'Topic', {
      topicName: `${prefix}-alarms`,
      displayName: `Phenom chat ${props.envName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        // Only this account's alarms (confused-deputy protection).
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (props.alarmEmail) {
      // The subscription stays "pending confirmation" until the recipient clicks the link AWS e-mails.
      topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    this.topic = topic;
  }
}
