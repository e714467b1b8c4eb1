/**
 * The Lambda handler bundles the tests synthesize stacks with, built once per run (jest's
 * global setup, before any worker starts) into a folder outside the checkout that every
 * test file then reuses: the bundler's build record proves a bundle still matches its
 * sources, so an unchanged handler is not bundled again, in this run or the next.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { packageHandlers, type HandlerName, type PackagedHandler } from '../build/handler-bundle';
import { PROJECT_ROOT } from '../build/project-root';

/** One folder per checkout, so two checkouts never share bundles. */
export const TEST_BUNDLE_DIR = path.join(tmpdir(), `iot-test-bundles-${createHash('sha256').update(PROJECT_ROOT).digest('hex').slice(0, 12)}`);

export const testHandlerPackages = (): Record<HandlerName, PackagedHandler> => packageHandlers(TEST_BUNDLE_DIR);

export default function bundleHandlersOnce(): void {
  testHandlerPackages();
}
