import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { BodyTooLargeError, readBody } from '../../src/http/body';

/** A request body stream as node:http hands it over: chunks, then end (or a close before it). */
function request(chunks: string[], headers: Record<string, string> = {}, closeEarly = false): IncomingMessage {
  const stream = new Readable({ read() {} });
  for (const c of chunks) stream.push(Buffer.from(c));
  if (closeEarly) setImmediate(() => stream.destroy());
  else stream.push(null);
  return Object.assign(stream, { headers }) as unknown as IncomingMessage;
}

describe('readBody', () => {
  it('returns every chunk, in order, as one buffer', async () => {
    expect((await readBody(request(['{"a":', '1', '}']), 100)).toString()).toBe('{"a":1}');
    expect((await readBody(request([]), 100)).length).toBe(0);
  });

  it('accepts exactly the limit and refuses one byte more, with or without a content-length', async () => {
    expect((await readBody(request(['12345', '67890']), 10)).length).toBe(10);
    await expect(readBody(request(['12345', '678901']), 10)).rejects.toBeInstanceOf(BodyTooLargeError);
    // Refused from the header alone, before any of the body is read.
    const declared = request(['x'], { 'content-length': '11' });
    await expect(readBody(declared, 10)).rejects.toThrow('request body exceeds 10 bytes');
    expect(declared.readableLength).toBe(1);
  });

  it('fails when the request closes before its body ends', async () => {
    await expect(readBody(request(['{"a":'], {}, true), 100)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });
});
