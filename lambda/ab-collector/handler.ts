import type { Logger } from '@aws-lambda-powertools/logger';
import { collect, CollectorDeps, CollectorReport } from './collect';

/**
 * The A/B collector, every 5 minutes (EventBridge). It logs what it published and throws when a
 * backend could not be read, after publishing the other, so the function's Errors alarm sees it.
 */
export function createCollectorHandler(deps: CollectorDeps & { readonly logger: Logger }) {
  return async (): Promise<CollectorReport> => {
    const report = await collect(deps);
    const details = { window: { start: report.window.start.toISOString(), end: report.window.end.toISOString() }, usage: report.usage };
    if (report.failures.length > 0) {
      deps.logger.error('A/B collection failed for a backend', { ...details, failures: report.failures });
      throw new Error(`A/B collector: ${report.failures.map((f) => `${f.backend}: ${f.error}`).join('; ')}`);
    }
    deps.logger.info('A/B usage published', details);
    return report;
  };
}
