import { get } from 'node:http';
import { HttpError } from '../../chat-clients/http';

export interface LoopbackAnswer {
  readonly status: number;
  readonly text: string;
}

/**
 * A GET to a local HTTP server (the Parameters and Secrets extension), bounded as a whole (connect,
 * headers and body) by `timeoutMs`; any status is returned. Written on node:http rather than fetch
 * because fetch's first call loads undici: 35-50 ms of CPU in a fresh Node.js 22 process against
 * 4-6 ms for node:http (measured on this machine), paid by the first invocation of a cold start,
 * outside Lambda's CPU-boosted init phase, for one small request to 127.0.0.1. bench:lambdas (Node.js
 * 22, same loaded machine): link-preview's first call, an INSERT of a text message whose only I/O is
 * this read, took 88 ms CPU through fetch and 26 ms through this.
 */
export function loopbackGet(url: string, headers: Record<string, string>, timeoutMs: number): Promise<LoopbackAnswer> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', (err) => reject(new HttpError('unreachable', err.message, { cause: err })));
    });
    // Rejected first, then destroyed: whatever error the destroyed socket raises comes too late to count.
    const timer = setTimeout(() => {
      reject(new HttpError('timeout', `no answer within ${timeoutMs} ms`, { timeoutMs }));
      request.destroy();
    }, timeoutMs);
    request.on('error', (err) => reject(new HttpError('unreachable', err.message, { cause: err })));
    request.on('close', () => clearTimeout(timer));
  });
}
