/** The project's folder, wherever it is checked out: what relative paths of the tools, stacks and builds start from. */
import * as path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
