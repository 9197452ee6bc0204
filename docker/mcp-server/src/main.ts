import { loadConfig } from './config';
import { createLogger, errorFields } from './log';
import { startServer } from './server';

/** The container's entry point (bundled to dist/server.js): start, then drain on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { service: 'phenom-chat-mcp' });
  const server = await startServer({ config, log });
  const stop = (signal: string) => {
    log.info('signal received', { signal });
    server.shutdown().then(
      ({ drained }) => process.exit(drained ? 0 : 1),
      (err: unknown) => {
        log.error('shutdown failed', errorFields(err));
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'startup failed', ...errorFields(err) }) + '\n');
  process.exit(1);
});
