/**
 * Whether a fetch failed because its AbortSignal.timeout fired. Checked by name, not instanceof:
 * the DOMException may come from another realm (undici's), where `instanceof Error` is false.
 */
export function isTimeoutError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError';
}
