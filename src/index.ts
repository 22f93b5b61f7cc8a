import { loadConfig, ConfigError } from './config';
import { createApp } from './app';
import { createLogger } from './lib/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const app = await createApp(config, { logger });
  await app.listen();
  logger.info({ url: app.url, ws: app.wsUrl, redis: Boolean(config.redisUrl) }, `GraphQL ready at ${app.url}`);

  // Graceful stop: stop accepting, let in-flight requests finish, close sockets with 1001,
  // close the pool (and the embedded database).
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 20_000);
    force.unref();
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  createLogger('error').fatal({ err }, 'failed to start');
  process.exit(1);
});
