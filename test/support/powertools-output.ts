/**
 * Captures what Powertools Logger (stdout, or stderr for warn/error) and Metrics
 * (EMF on stdout) print, so a test can assert on the structured lines instead of
 * letting them clutter the jest output.
 */
export interface CapturedOutput {
  /** Every captured line that parses as JSON, in order. */
  records(): Record<string, unknown>[];
  /** The log records whose message starts with `prefix`. */
  logs(prefix: string): Record<string, unknown>[];
  /** The EMF blobs that carry a metric called `name`. */
  metrics(name: string): Record<string, unknown>[];
  restore(): void;
}

export function capturePowertoolsOutput(): CapturedOutput {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  const records = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  return {
    records,
    logs: (prefix) => records().filter((r) => typeof r.message === 'string' && r.message.startsWith(prefix)),
    metrics: (name) =>
      records().filter((r) => {
        const aws = r._aws as { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] } | undefined;
        return aws?.CloudWatchMetrics?.some((m) => m.Metrics?.some((x) => x.Name === name)) ?? false;
      }),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
