import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import type { AbBackend } from '../../chat-domain/ab-metrics';
import { abLogFilterName, AbLogSource } from '../../chat-domain/ab-log-sources';
import { ChatFunction, ChatFunctionCommonProps } from '../constructs/chat-function';
import { allowPutAbMetrics } from './put-metrics';

export interface AbLogMetricsProps extends ChatFunctionCommonProps {
  /** The `Environment` dimension (the stack prefix). */
  readonly environment: string;
  /** The backend the MCP server was deployed with: its tool calls count for it. */
  readonly mcpBackend: AbBackend;
  /** Each log group with the source (chat-domain/ab-log-sources.ts) its lines are read as. */
  readonly sources: readonly { readonly logGroup: logs.ILogGroup; readonly source: AbLogSource }[];
}

/**
 * The A/B latency and error figures that exist as log lines: a subscription filter per source sends
 * the matching lines to the ab-log-metrics Lambda, which publishes them to Phenom/AB with the
 * Environment and Backend dimensions a metric filter could not add.
 */
export class AbLogMetrics extends Construct {
  public readonly function: ChatFunction;

  constructor(scope: Construct, id: string, props: AbLogMetricsProps) {
    super(scope, id);
    this.function = new ChatFunction(this, 'Function', {
      prefix: props.prefix,
      logRetention: props.logRetention,
      retainLogs: props.retainLogs,
      entry: 'ab-log-metrics/index.ts',
      description: 'A/B: send, MCP tool and link-preview latency from log lines to Phenom/AB',
      environment: { AB_ENVIRONMENT: props.environment, AB_MCP_BACKEND: props.mcpBackend },
    });
    allowPutAbMetrics(this.function.function);
    const destination = new destinations.LambdaDestination(this.function.function);
    for (const { logGroup, source } of props.sources) {
      new logs.SubscriptionFilter(this, `Subscription-${source.id}`, {
        logGroup,
        destination,
        filterPattern: logs.FilterPattern.literal(source.filterPattern),
        filterName: abLogFilterName(source),
      });
    }
  }
}
