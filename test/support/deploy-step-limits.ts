import { CLOUDFORMATION_CUSTOM_RESOURCE_LIMIT_SECONDS, CLOUDFORMATION_HEADROOM_SECONDS, PROVIDER_ACTIVATION_WAIT_SECONDS, PROVIDER_MARGIN_SECONDS } from '../../chat-domain/deploy-step-limits';

/**
 * The time limits of every custom resource in the synthesized stacks, read from the template
 * alone (what CloudFormation and the provider framework will actually do), so a change of any
 * one value that breaks the relation between them fails here:
 * - our handler's Lambda timeout leaves the provider framework's function (which waits for it,
 *   possibly after an activation wait) time to report its result;
 * - a polled step's totalTimeout (the waiter's MaxAttempts × IntervalSeconds) ends inside the hour;
 * - ServiceTimeout lies above the step's worst case, and well inside CloudFormation's hour.
 */
type Resource = { Type: string; Properties: Record<string, unknown> };
export type CfnTemplate = { Resources: Record<string, Resource> };

const CEILING_SECONDS = CLOUDFORMATION_CUSTOM_RESOURCE_LIMIT_SECONDS - CLOUDFORMATION_HEADROOM_SECONDS;
/** One handler invocation by the framework: the wait for a Pending function, the handler, the framework's own work. */
const invocationSeconds = (handlerSeconds: number) => PROVIDER_ACTIVATION_WAIT_SECONDS + handlerSeconds + PROVIDER_MARGIN_SECONDS;

export interface StepLimits {
  readonly id: string;
  readonly type: string;
  readonly serviceTimeoutSeconds: number;
  /** The worst case from CloudFormation's request to an answer, as the template makes it. */
  readonly worstCaseSeconds: number;
  /** Each of our handlers with the provider function that waits for it (absent for a handler that answers CloudFormation itself). */
  readonly handlers: { readonly role: string; readonly timeoutSeconds: number; readonly providerTimeoutSeconds?: number }[];
  readonly totalTimeoutSeconds?: number;
}

function functionBehind(template: CfnTemplate, value: unknown, what: string): Resource {
  const logicalId = (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];
  const fn = logicalId ? template.Resources[logicalId] : undefined;
  if (fn?.Type !== 'AWS::Lambda::Function') throw new Error(`${what} is not the ARN of a Lambda function in this stack: ${JSON.stringify(value)}`);
  return fn;
}

/** The waiter state machine's definition with every token replaced by a placeholder string. */
function waiterDefinition(template: CfnTemplate, ref: unknown): { States: Record<string, { Retry?: { IntervalSeconds: number; MaxAttempts: number }[] }> } {
  const machine = template.Resources[(ref as { Ref: string }).Ref];
  const definition = machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  return JSON.parse(definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'token')).join(''));
}

export function stepLimits(template: CfnTemplate): StepLimits[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource')
    .map(([id, r]) => {
      const serviceTimeoutSeconds = Number(r.Properties.ServiceTimeout);
      const entry = functionBehind(template, r.Properties.ServiceToken, `${id} ServiceToken`);
      const env = ((entry.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
      const entryTimeout = Number(entry.Properties.Timeout ?? 3);
      if (!env.USER_ON_EVENT_FUNCTION_ARN) {
        // One of aws-cdk-lib's own providers: its handler answers CloudFormation itself.
        return { id, type: r.Type, serviceTimeoutSeconds, worstCaseSeconds: entryTimeout, handlers: [{ role: 'handler', timeoutSeconds: entryTimeout }] };
      }
      const onEvent = Number(functionBehind(template, env.USER_ON_EVENT_FUNCTION_ARN, `${id} onEvent`).Properties.Timeout ?? 3);
      const handlers: StepLimits['handlers'] = [{ role: 'onEvent', timeoutSeconds: onEvent, providerTimeoutSeconds: entryTimeout }];
      if (!env.WAITER_STATE_MACHINE_ARN) return { id, type: r.Type, serviceTimeoutSeconds, worstCaseSeconds: invocationSeconds(onEvent), handlers };

      const task = Object.values(waiterDefinition(template, env.WAITER_STATE_MACHINE_ARN).States).find((s) => s.Retry)!;
      const totalTimeoutSeconds = task.Retry![0].IntervalSeconds * task.Retry![0].MaxAttempts;
      const isComplete = Number(functionBehind(template, env.USER_IS_COMPLETE_FUNCTION_ARN, `${id} isComplete`).Properties.Timeout ?? 3);
      // The framework's isComplete function is another copy of the provider function, with the same timeout.
      handlers.push({ role: 'isComplete', timeoutSeconds: isComplete, providerTimeoutSeconds: entryTimeout });
      return {
        id,
        type: r.Type,
        serviceTimeoutSeconds,
        worstCaseSeconds: invocationSeconds(onEvent) + totalTimeoutSeconds + invocationSeconds(isComplete),
        handlers,
        totalTimeoutSeconds,
      };
    });
}

export function expectWithinLimits(steps: StepLimits[]): void {
  for (const step of steps) {
    const where = `${step.type} ${step.id}`;
    for (const h of step.handlers) {
      if (h.providerTimeoutSeconds !== undefined) {
        // The provider function must outlive the wait for a Pending function plus our handler.
        expect({ where, role: h.role, fits: invocationSeconds(h.timeoutSeconds) <= h.providerTimeoutSeconds }).toEqual({ where, role: h.role, fits: true });
        expect(h.timeoutSeconds).toBeLessThan(h.providerTimeoutSeconds);
      }
      expect({ where, role: h.role, lambdaMaximum: h.timeoutSeconds <= 900 }).toEqual({ where, role: h.role, lambdaMaximum: true });
    }
    if (step.totalTimeoutSeconds !== undefined) {
      expect({ where, totalTimeoutInsideTheHour: step.totalTimeoutSeconds < CLOUDFORMATION_CUSTOM_RESOURCE_LIMIT_SECONDS }).toEqual({ where, totalTimeoutInsideTheHour: true });
    }
    expect({ where, serviceTimeoutAboveWorstCase: step.serviceTimeoutSeconds > step.worstCaseSeconds }).toEqual({ where, serviceTimeoutAboveWorstCase: true });
    expect({ where, serviceTimeoutWellInsideTheHour: step.serviceTimeoutSeconds <= CEILING_SECONDS }).toEqual({ where, serviceTimeoutWellInsideTheHour: true });
  }
}
