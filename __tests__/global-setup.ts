/** Before any worker starts: the type check begins (under `npm test`), and the handler bundles are built. */
import bundleHandlersOnce from './handler-bundles';
import { startTypeCheck } from './type-check';

export default function globalSetup(): void {
  startTypeCheck();
  bundleHandlersOnce();
}
