/**
 * The comparison's arithmetic: a measure's days on each backend, and whether the backends differ by
 * more than the day-to-day noise.
 *
 * "Noise" is the standard error of the difference of the two daily means (Welch: each backend keeps
 * its own variance, since one may be far busier than the other). A difference counts as larger than
 * the noise when it exceeds twice that error (about 95% two-sided for more than a handful of days) and
 * each side has at least MIN_DAYS days; otherwise the report says there is not enough data.
 */
export const MIN_DAYS = 3;
export const NOISE_MULTIPLE = 2;

export interface DailySummary {
  readonly days: number;
  readonly mean: number;
  /** Sample standard deviation of the daily values (0 with fewer than 2 days). */
  readonly sd: number;
}

export function summarize(values: readonly number[]): DailySummary {
  const days = values.length;
  if (days === 0) return { days: 0, mean: NaN, sd: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / days;
  const variance = days > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (days - 1) : 0;
  return { days, mean, sd: Math.sqrt(variance) };
}

export type Verdict = { readonly kind: 'not-enough-data'; readonly reason: string } | { readonly kind: 'difference'; readonly delta: number; readonly noise: number; readonly larger: boolean };

/** Compares backend A's days with backend B's. `delta` is A − B. */
export function compare(a: DailySummary, b: DailySummary): Verdict {
  if (a.days < MIN_DAYS || b.days < MIN_DAYS) {
    return { kind: 'not-enough-data', reason: `needs ${MIN_DAYS} days of data on each backend (have ${a.days} and ${b.days})` };
  }
  const delta = a.mean - b.mean;
  const noise = Math.sqrt(a.sd ** 2 / a.days + b.sd ** 2 / b.days);
  // Identical, perfectly steady series have no noise: any difference is then larger than it.
  return { kind: 'difference', delta, noise, larger: Math.abs(delta) > NOISE_MULTIPLE * noise };
}
