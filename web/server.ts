/**
 * The web app's process entry (`npm run web`, and the container's command): reads the
 * configuration, connects to DynamoDB, serves, and on SIGTERM (ECS stopping the task)
 * or SIGINT stops taking requests and finishes the ones in flight before exiting.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { buildApp } from './app';
import { dashboardAssets, readDashboardAssets } from './assets';
import { loadWebConfig, WebConfigError } from './config';
import { configuredDependencies } from './configured-app';
import { createWebDynamoClient } from './dynamo-client';

/** Longer than the load balancer's deregistration needs for in-flight requests, shorter than ECS's stop timeout (30 s). */
const SHUTDOWN_TIMEOUT_MS = 20_000;

/** Prebuilt assets sit beside the container bundle (web/build.ts); in development they are built at start. */
const PREBUILT_ASSETS = path.join(__dirname, 'public');

async function main(): Promise<void> {
  let config;
  try {
    config = loadWebConfig(process.env);
  } catch (error) {
    if (!(error instanceof WebConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }

  const client = createWebDynamoClient({ region: config.region });
  const assets = existsSync(PREBUILT_ASSETS) ? readDashboardAssets(PREBUILT_ASSETS) : dashboardAssets();
  const app = buildApp({ ...configuredDependencies(config, client), assets, logger: { level: process.env.LOG_LEVEL ?? 'info' } });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping: finishing requests in flight');
    const timer = setTimeout(() => {
      app.log.error('requests still open after the shutdown timeout; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    app
      .close()
      .then(() => {
        client.destroy();
        process.exit(0);
      })
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info({ tables: config.tables, region: config.region, identity: config.identity.mode }, 'web app ready');
}

main().catch((error: unknown) => {
  console.error('the web app failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
