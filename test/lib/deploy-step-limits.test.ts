import { App, Duration, Stack } from 'aws-cdk-lib';
import { loadConfig } from '../../lib/config';
import { ChatCustomResource } from '../../lib/constructs/chat-custom-resource';
import { ChatFunction } from '../../lib/constructs/chat-function';
import { CfnTemplate, expectWithinLimits, stepLimits } from '../support/deploy-step-limits';
import { cdkJsonEnvironments, stackTemplate } from '../support/synth';
import { chatFunctionCommonProps } from '../../lib/construct-props';

/** The deploy steps' time limits on the synthesized stacks (see test/support/deploy-step-limits.ts), and the synth-time checks. */
describe.each(['development', 'production'] as const)('deploy-step time limits (%s)', (envName) => {
  const steps = stepLimits(stackTemplate(envName).toJSON() as CfnTemplate);

  it('finds every deploy step of the app among the custom resources', () => {
    expect(steps.map((s) => s.type)).toEqual(
      expect.arrayContaining(['Custom::ChatMigrations', 'Custom::HasuraMetadata', 'Custom::SynapseDatabase', 'Custom::SynapseBootstrap', 'Custom::ChatMachineAccount']),
    );
    expect(steps.find((s) => s.type === 'Custom::SynapseBootstrap')?.totalTimeoutSeconds).toBe(1800);
  });

  it('keeps every handler inside its provider, every polling inside the hour, and every ServiceTimeout above the worst case and well inside the hour', () => {
    expectWithinLimits(steps);
  });
});

describe('ChatCustomResource refuses limits that would leave CloudFormation waiting', () => {
  const config = loadConfig(cdkJsonEnvironments(), 'development');
  const handler = (stack: Stack, id: string, timeout: Duration) =>
    new ChatFunction(stack, id, { ...chatFunctionCommonProps(config), entry: 'synapse-bootstrap-start/index.ts', description: 'test handler', timeout });

  it('throws when a handler may run as long as the provider framework', () => {
    const stack = new Stack(new App(), 'Limits');
    expect(() => new ChatCustomResource(stack, 'Slow', { onEvent: handler(stack, 'SlowFn', Duration.minutes(15)), resourceType: 'Custom::Slow' })).toThrow(
      "Slow: the onEvent handler's timeout is 900 s; a deploy-step handler may run at most 540 s",
    );
  });

  it("throws when the polling could run past CloudFormation's hour", () => {
    const stack = new Stack(new App(), 'Limits');
    const start = handler(stack, 'Start', Duration.seconds(10));
    const poll = handler(stack, 'Poll', Duration.minutes(2));
    expect(() => new ChatCustomResource(stack, 'Long', { onEvent: start, isComplete: poll, totalTimeout: Duration.minutes(50), resourceType: 'Custom::Long' })).toThrow(
      /^Long: this deploy step may take up to 3850 s .* more than the 3000 s allowed inside CloudFormation's 3600 s custom-resource limit/,
    );
  });
});
