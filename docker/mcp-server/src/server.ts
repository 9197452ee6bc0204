import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccessTokenVerifier } from './auth/verifier';
import { createBackend } from './backend';
import type { ChatBackend } from './backend/types';
import type { ServerConfig } from './config';
import { createApp } from './http/app';
import type { Logger } from './log';

export interface RunningServer {
  /** e.g. http://127.0.0.1:3001 */
  readonly baseUrl: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes the backend. */
  shutdown(): Promise<{ drained: boolean }>;
}

export interface StartOptions {
  config: ServerConfig;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** A ready backend (tests, local mode); otherwise built from BACKEND_TYPE. */
  backend?: ChatBackend;
}

/** Starts the HTTP server: /mcp, /health, /mcp/health and the protected-resource metadata. */
export async function startServer({ config, log, env = process.env, backend: given }: StartOptions): Promise<RunningServer> {
  const backend = given ?? (await createBackend(config.backendType, { env, log }));
  const verifier = createAccessTokenVerifier({
    userPoolId: config.userPoolId,
    allowedClientIds: config.allowedClientIds,
    jwksUrl: config.jwksUrl,
    audiences: [config.resourceUrl],
  });
  const app = createApp({ config, backend, verifier, log });
  const server: Server = createServer(app.listener);
  // Keep idle connections open longer than the ALB's 60 s idle timeout, so the ALB (not us)
  // closes them and never sends a request onto a socket we are closing (502s).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  log.info('listening', { port, backend: backend.kind, url: `${baseUrl}/mcp` });

  let stopping: Promise<{ drained: boolean }> | undefined;
  async function shutdown(): Promise<{ drained: boolean }> {
    const started = Date.now();
    log.info('shutting down', { inFlight: app.inFlight(), graceMs: config.shutdownGraceMs });
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let drained = true;
    while (app.inFlight() > 0) {
      if (Date.now() - started >= config.shutdownGraceMs) {
        drained = false;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
      server.closeIdleConnections(); // keep-alive sockets that just finished a request
    }
    server.closeAllConnections();
    await closed;
    await app.close();
    await backend.close();
    log.info('stopped', { drained, inFlight: app.inFlight(), tookMs: Date.now() - started });
    return { drained };
  }
  return { baseUrl, port, shutdown: () => (stopping ??= shutdown()) };
}
