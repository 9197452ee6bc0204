import { Match } from 'aws-cdk-lib/assertions';
import { stackTemplate } from '../../support/synth';

/** The reconciler as deployed: its schedule, its rights, and how a sign-in reaches it. */
describe('ChatMembershipReconciler in the development stack', () => {
  const template = stackTemplate('development');
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const [reconcilerId] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'phenom-development-chat-membership-reconciler')!;

  it('is a VPC function with the pool, Synapse and the bot token secret (by ARN) in its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'phenom-development-chat-membership-reconciler',
      Runtime: 'nodejs22.x',
      Timeout: 240,
      VpcConfig: Match.anyValue(),
      Environment: {
        Variables: Match.objectLike({
          USER_POOL_ID: Match.anyValue(),
          SYNAPSE_URL: 'http://homeserver.synapse.phenom-development.internal:8008',
          SYNAPSE_OIDC_CLIENT_ID: Match.anyValue(),
          BOT_TOKEN_SECRET_ARN: Match.anyValue(),
          BOT_TOKEN_SECRET_KEY_NAME: 'accessToken',
          DB_SECRET_ARN: Match.anyValue(),
        }),
      },
    });
  });

  it('runs every 5 minutes, without retries of a scheduled run', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [reconcilerId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 } })],
    });
  });

  it('ends timed mutes and bans every minute with a fixed input, the only place they are lifted', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [reconcilerId, 'Arn'] },
          Input: JSON.stringify({ kind: 'lift-expired-moderation' }),
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      ],
    });
    // One schedule, so one place lifts them.
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties).includes('lift-expired-moderation'));
    expect(rules).toHaveLength(1);
  });

  it('may list the pool and read users and their groups, and nothing else in Cognito', () => {
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement)
      .filter((s) => [s.Action].flat().some((a) => a === 'cognito-idp:ListUsers'));
    expect(statements.map((s) => [s.Action].flat().sort())).toEqual([['cognito-idp:AdminGetUser', 'cognito-idp:AdminListGroupsForUser', 'cognito-idp:ListUsers', 'cognito-idp:ListUsersInGroup']]);
  });

  it('the post-authentication trigger names it and may invoke exactly it', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Cognito post-authentication trigger: provisions the chat user and room memberships',
      Environment: { Variables: Match.objectLike({ RECONCILER_FUNCTION_NAME: 'phenom-development-chat-membership-reconciler' }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':function:phenom-development-chat-membership-reconciler']],
            },
          },
        ],
      },
    });
  });

  it('Synapse itself joins every new account to Phenom Community, invited by the bot, and never creates the room', () => {
    const [task] = Object.values(resources).filter((r) => r.Type === 'AWS::ECS::TaskDefinition' && JSON.stringify(r.Properties).includes('SYNAPSE_CONFIG_YAML'));
    const containers = task.Properties.ContainerDefinitions as { Environment?: { Name: string; Value: string }[] }[];
    const yaml = containers.flatMap((c) => c.Environment ?? []).find((e) => e.Name === 'SYNAPSE_CONFIG_YAML')!.Value;
    expect(yaml).toContain('auto_join_rooms:\n  - "#community:chat-testing.thephenom.app"');
    expect(yaml).toContain('autocreate_auto_join_rooms: false');
    expect(yaml).toContain('auto_join_mxid_localpart: phenom-bot');
  });

  it('Synapse lets it in on 8008', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { Description: 'Membership reconciler Lambda (Matrix client and admin API)', FromPort: 8008, ToPort: 8008 });
  });
});
