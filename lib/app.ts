import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatConfig, DEFAULT_ENV, ENV_CONTEXT_KEY, ENVIRONMENTS_CONTEXT_KEY, loadAllConfigs, loadConfig } from './config';
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
  });
  // Every synth runs the AwsSolutions rules; an unacknowledged finding fails it.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return [stack];
}

/** Reads `-c env=NAME` and the environments from context, validating all of them. */
export function configFromContext(app: App): ChatConfig {
  const environments = app.node.tryGetContext(ENVIRONMENTS_CONTEXT_KEY);
  loadAllConfigs(environments);
  return loadConfig(environments, app.node.tryGetContext(ENV_CONTEXT_KEY) ?? DEFAULT_ENV);
}
