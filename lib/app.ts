import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatConfig, configFromContextValues } from './config';
import { PhenomChatStack } from './phenom-chat-stack';

/** The stack name of an environment: PhenomChat-<env>. */
export const stackName = (config: ChatConfig): string => `PhenomChat-${config.envName}`;

/** Creates the stacks of one environment. Tests call this to synthesize exactly what `cdk synth` does. */
export function createStacks(app: App, config: ChatConfig): PhenomChatStack[] {
  const stack = new PhenomChatStack(app, stackName(config), {
    config,
    stackName: stackName(config),
    description: `Phenom chat (${config.envName}): Synapse, Hasura Lite and the MCP server behind one ALB`,
    env: { account: config.account, region: config.region },
    terminationProtection: config.production,
    // With Synapse workers the production template passes 800 kB indented, and CloudFormation refuses
    // one over 1 MB; unindented it is about half that, and nobody reads the deployed copy by eye
    // (`cdk synth` and `cdk diff` print YAML or a diff of their own).
    suppressTemplateIndentation: true,
  });
  // Every synth runs the AwsSolutions rules; an unacknowledged finding fails it.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return [stack];
}

/** Reads `-c env=NAME` and the environments from context, validating all of them. */
export function configFromContext(app: App): ChatConfig {
  return configFromContextValues(app.node.getAllContext() as Record<string, unknown>);
}
