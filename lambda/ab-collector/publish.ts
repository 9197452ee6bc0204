import { CloudWatchClient, MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { AB_DIMENSIONS, AB_METRICS, AB_NAMESPACE, AbBackend } from '../../chat-domain/ab-metrics';
import type { CollectorWindow, UsageSnapshot } from './usage';

/** PutMetricData takes at most 1000 data per call (CloudWatch API reference). */
const MAX_DATA_PER_CALL = 1000;

/**
 * The data one backend's snapshot publishes, all stamped with the window's start: a rerun of the same
 * window writes identical points, which readers fold with Maximum.
 */
export function usageData(environment: string, backend: AbBackend, window: CollectorWindow, usage: UsageSnapshot): MetricDatum[] {
  const dims = [
    { Name: AB_DIMENSIONS.environment, Value: environment },
    { Name: AB_DIMENSIONS.backend, Value: backend },
  ];
  const at = { Timestamp: window.start, Unit: 'Count' as const };
  return [
    { MetricName: AB_METRICS.messagesSent, Dimensions: dims, Value: usage.messages, ...at },
    ...Object.entries(usage.messagesByRoom).map(([room, n]) => ({
      MetricName: AB_METRICS.messagesSent,
      Dimensions: [...dims, { Name: AB_DIMENSIONS.room, Value: room }],
      Value: n,
      ...at,
    })),
    { MetricName: AB_METRICS.distinctSendersToday, Dimensions: dims, Value: usage.sendersToday, ...at },
    { MetricName: AB_METRICS.activeRoomsToday, Dimensions: dims, Value: usage.activeRoomsToday, ...at },
  ];
}

export async function publish(client: CloudWatchClient, data: readonly MetricDatum[]): Promise<void> {
  for (let i = 0; i < data.length; i += MAX_DATA_PER_CALL) {
    await client.send(new PutMetricDataCommand({ Namespace: AB_NAMESPACE, MetricData: data.slice(i, i + MAX_DATA_PER_CALL) }));
  }
}
