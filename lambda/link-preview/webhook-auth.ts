import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether the presented secret equals the expected one, in constant time.
 * Both sides are hashed first: `timingSafeEqual` needs equal lengths, and
 * comparing fixed-size digests keeps the secret's length from leaking too.
 */
export function secretMatches(presented: string | undefined, expected: string): boolean {
  if (!expected) throw new Error('the expected webhook secret is empty');
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}
