import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { PhenomClient } from './phenom-client';
import type { PreviewRepository, StoredPreview } from './preview-repository';

export type ResolveOutcome =
  { readonly status: 'cached'; readonly preview: StoredPreview } | { readonly status: 'resolved'; readonly preview: StoredPreview } | { readonly status: 'not_found'; readonly reason: string };

export interface PreviewResolverDeps {
  readonly repository: PreviewRepository;
  readonly phenom: PhenomClient;
  /** The public URL of a piece of Phenom content (stored in link_previews.url). */
  readonly previewUrl: (phenomId: string) => string;
  readonly ttlHours: number;
  readonly metrics: Pick<Metrics, 'addMetric'>;
}

/**
 * Makes sure link_previews holds a fresh preview for a phenom_id: a fresh row is
 * used as is (no upstream call), otherwise the Phenom API is asked and the row
 * upserted. Unknown content writes nothing. Upstream failures propagate so the
 * webhook answers non-2xx and Hasura retries.
 */
export async function resolvePreview(phenomId: string, deps: PreviewResolverDeps): Promise<ResolveOutcome> {
  const cached = await deps.repository.findFresh(phenomId);
  if (cached) {
    deps.metrics.addMetric('CacheHit', MetricUnit.Count, 1);
    return { status: 'cached', preview: cached };
  }
  deps.metrics.addMetric('CacheMiss', MetricUnit.Count, 1);

  const started = performance.now();
  let content;
  try {
    content = await deps.phenom.fetchContent(phenomId);
  } finally {
    deps.metrics.addMetric('UpstreamLatency', MetricUnit.Milliseconds, Math.round(performance.now() - started));
  }
  if (!content) {
    deps.metrics.addMetric('UnknownPhenom', MetricUnit.Count, 1);
    return { status: 'not_found', reason: `the Phenom backend has no content with id ${phenomId}` };
  }
  const preview = await deps.repository.save(phenomId, deps.previewUrl(phenomId), content, deps.ttlHours);
  return { status: 'resolved', preview };
}
