import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ChatCustomResource } from '../constructs/chat-custom-resource';
import { DEPLOY_STEPS } from '../../chat-domain/deploy-step-limits';
import { ChatDatabaseClientProps, ChatFunction, ChatFunctionCommonProps, functionCommonProps } from '../constructs/chat-function';
import { acknowledgeNag } from '../nag';
import { LAMBDA_DATABASE_LIMITS } from '../operations/thresholds';

/**
 * The membership reconciler's function name (ChatMembershipReconciler). Fixed, so the trigger can
 * invoke it by name: a reference would close a cycle (pool → trigger → reconciler → pool).
 */
export function membershipReconcilerFunctionName(prefix: string): string {
  return `${prefix}-chat-membership-reconciler`;
}

/** The VPC and database serve the user provisioner, which writes the chat users and memberships. */
export interface CognitoTriggersProps extends ChatFunctionCommonProps, ChatDatabaseClientProps {
  /**
   * The pool the triggers serve: one created in this app gets them as its own LambdaConfig; an
   * imported one gets them from a deploy-time step that keeps its other triggers.
   */
  readonly userPool: cognito.IUserPool;
}

/**
 * The two Cognito Lambdas: pre-token generation (Hasura claims, V1_0 event, contract C3)
 * and post-authentication (provisions users and memberships). On a pool created here
 * they are attached directly; on an imported pool a deploy-time step adds them to the
 * pool's existing LambdaConfig, keeping its other triggers and settings.
 */
export class CognitoTriggers extends Construct {
  public readonly preTokenGeneration: ChatFunction;
  public readonly userProvisioner: ChatFunction;

  constructor(scope: Construct, id: string, props: CognitoTriggersProps) {
    super(scope, id);
    const { userPool } = props;
    const common = functionCommonProps(props);

    this.preTokenGeneration = new ChatFunction(this, 'PreTokenGeneration', {
      ...common,
      entry: 'pre-token-generation/index.ts',
      description: 'Cognito pre-token-generation trigger: adds the Hasura claims to the ID token',
      // Cognito waits at most 5 seconds for a trigger; the function needs milliseconds.
      timeout: Duration.seconds(5),
    });

    this.userProvisioner = new ChatFunction(this, 'UserProvisioner', {
      ...common,
      entry: 'user-provisioner/index.ts',
      databaseConnections: LAMBDA_DATABASE_LIMITS.userProvisioner,
      description: 'Cognito post-authentication trigger: provisions the chat user and room memberships',
      timeout: Duration.seconds(5),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      database: props.database,
      // A sign-in waits for this trigger inside Cognito's 5 s: the database secret comes from the extension, not the SDK.
      secretsFromExtension: true,
      environment: { RECONCILER_FUNCTION_NAME: membershipReconcilerFunctionName(props.prefix) },
    });
    // The post-authentication event carries no groups, so the provisioner lists them.
    // A separate policy, not the role's default policy: the function must not depend on
    // the pool's ARN while the created pool depends on the function (its trigger).
    new iam.Policy(this, 'ListGroupsPolicy', {
      roles: [this.userProvisioner.function.role!],
      statements: [new iam.PolicyStatement({ actions: ['cognito-idp:AdminListGroupsForUser'], resources: [userPool.userPoolArn] })],
    });
    // Each sign-in is handed to the membership reconciler (asynchronously). Its ARN is built from the
    // fixed name, so this policy depends on nothing the pool depends on.
    new iam.Policy(this, 'InvokeReconcilerPolicy', {
      roles: [this.userProvisioner.function.role!],
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [`arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:${membershipReconcilerFunctionName(props.prefix)}`],
        }),
      ],
    });

    if (userPool instanceof cognito.UserPool) {
      // V1_0 on purpose (contract C3): it works on every feature plan, so the same
      // Lambda and Hasura config serve an imported pool on the Lite plan.
      userPool.addTrigger(cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, this.preTokenGeneration.function, cognito.LambdaVersion.V1_0);
      userPool.addTrigger(cognito.UserPoolOperation.POST_AUTHENTICATION, this.userProvisioner.function);
    } else {
      this.attachToImportedPool(common, userPool);
    }
  }

  private attachToImportedPool(common: ChatFunctionCommonProps, userPool: cognito.IUserPool): void {
    for (const fn of [this.preTokenGeneration, this.userProvisioner]) {
      fn.function.addPermission('CognitoInvoke', {
        principal: new iam.ServicePrincipal('cognito-idp.amazonaws.com'),
        sourceArn: userPool.userPoolArn,
        sourceAccount: Stack.of(this).account,
      });
    }
    const handler = new ChatFunction(this, 'AttachHandler', {
      ...common,
      entry: 'user-pool-triggers/index.ts',
      description: 'Adds the chat triggers to an imported Cognito user pool during deploy',
      timeout: Duration.seconds(DEPLOY_STEPS.userPoolTriggers.timeoutSeconds),
    });
    handler.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['cognito-idp:DescribeUserPool', 'cognito-idp:UpdateUserPool'], resources: [userPool.userPoolArn] }));
    // UpdateUserPool re-sends the pool's SMS configuration, and passing its SNS role
    // needs iam:PassRole on whatever role the existing pool already uses.
    handler.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: ['*'],
        conditions: { StringEquals: { 'iam:PassedToService': 'cognito-idp.amazonaws.com' } },
      }),
    );
    acknowledgeNag(handler.function, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: "iam:PassRole only to cognito-idp: UpdateUserPool must re-send the imported pool's existing SMS role, whose ARN is not known at synth.",
    });
    new ChatCustomResource(this, 'Attach', {
      onEvent: handler,
      resourceType: 'Custom::ChatUserPoolTriggers',
      properties: {
        UserPoolId: userPool.userPoolId,
        PreTokenGenerationArn: this.preTokenGeneration.function.functionArn,
        PostAuthenticationArn: this.userProvisioner.function.functionArn,
      },
    });
  }
}
