import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ChatSynapse } from '../../../lib/chat-synapse';
import { loadConfig } from '../../../lib/config';
import { chatSynapseProps, platformProps } from '../../../lib/construct-props';
import { Platform } from '../../../lib/platform';
import { cdkJsonEnvironments } from '../../support/synth';

describe('ChatSynapse props at the boundary', () => {
  const config = loadConfig(cdkJsonEnvironments(), 'development');
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'SynapseProps', { env: { region: config.region } });
  const platform = new Platform(stack, 'Platform', platformProps(config));
  const clientsSecret = new secretsmanager.Secret(stack, 'Clients');
  const props = chatSynapseProps(stack, config, platform, clientsSecret);
  const credentials = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Role', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:synapse-role-AbCdEf');

  it('refuses a databaseName that contradicts the adopted database, building nothing', () => {
    expect(() => new ChatSynapse(stack, 'Contradicting', { ...props, databaseName: 'other', adoptedDatabase: { name: 'synapse_prod', credentials } })).toThrow(
      'Contradicting: databaseName "other" contradicts adoptedDatabase.name "synapse_prod"',
    );
    expect(stack.node.tryFindChild('Contradicting')).toBeUndefined();
  });

  it("checks rather than creates an adopted database, under the adopted database's name", () => {
    const synapse = new ChatSynapse(stack, 'Adopting', { ...props, databaseName: 'synapse_prod', adoptedDatabase: { name: 'synapse_prod', credentials } });
    expect(synapse.secrets.database).toBe(credentials);
    const steps = Object.values(Template.fromStack(stack).findResources('Custom::SynapseDatabase'));
    expect(steps.map((r) => r.Properties)).toEqual([expect.objectContaining({ DatabaseName: 'synapse_prod', Mode: 'import', DatabaseSecretArn: credentials.secretArn })]);
  });
});
