import type { IncomingMessage } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** The body is not UTF-8 (RFC 8259 §8.1: JSON exchanged between systems MUST be UTF-8). */
export class BodyEncodingError extends Error {
  constructor() {
    super('request body is not valid UTF-8');
  }
}

/** Reads the whole body, failing fast (before buffering it) once it passes `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

// fatal: an invalid sequence throws instead of becoming U+FFFD, which would otherwise be stored
// in a message as if the agent had sent it. ignoreBOM false: a leading BOM is dropped, as JSON allows.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a body as strict UTF-8; throws BodyEncodingError on any invalid byte sequence. */
export function decodeUtf8(raw: Buffer): string {
  try {
    return STRICT_UTF8.decode(raw);
  } catch {
    throw new BodyEncodingError();
  }
}
