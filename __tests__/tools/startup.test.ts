/**
 * The command-line tools load only what they use: none of them pulls in cdktf, the
 * provider, constructs, fastify, ajv, esbuild or the emulators (over a second of start-up
 * before `--help` prints). Each tool's module graph is loaded as `npm run <tool>` loads
 * it, from an empty module cache, and every package it added is checked.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../build/project-root';

const TOOLS = readdirSync(path.join(PROJECT_ROOT, 'tools')).filter((file) => file.endsWith('.ts')).sort();
const HEAVY = ['cdktf', '@cdktf/provider-aws', 'constructs', 'fastify', 'ajv', 'ajv-draft-04', 'esbuild', 'dynalite', 'kinesalite'];

/**
 * Requires each of argv[1..] in turn and prints, for each, every module it added to
 * require.cache, each with the module that first required it. Before each, the cache is
 * emptied back to what it held at the start, so each graph is loaded whole, as in a process
 * of its own (one node process and one tsx start-up for all of them, not one each).
 * Modules tsx loads for itself (esbuild) are there before, so left out.
 */
const PROBE = `
const Module = require('node:module');
const before = new Set(Object.keys(require.cache));
let parents = new Map();
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    const file = Module._resolveFilename(request, parent, isMain);
    if (parent && !parents.has(file)) parents.set(file, parent.filename);
  } catch {}
  return load.apply(this, arguments);
};
const graphs = process.argv.slice(1).map((entry) => {
  for (const file of Object.keys(require.cache)) if (!before.has(file)) delete require.cache[file];
  parents = new Map();
  try {
    require(entry);
  } catch (error) {
    return { entry, error: String(error && error.stack || error) };
  }
  const added = Object.keys(require.cache).filter((file) => !before.has(file));
  return { entry, loaded: added.map((file) => ({ file, parent: parents.get(file) ?? null })) };
});
process.stdout.write(JSON.stringify(graphs));
`;

interface Loaded {
  readonly file: string;
  readonly parent: string | null;
}

/** The module graph of each of `modulePaths`, by path. */
function loadGraphs(modulePaths: readonly string[]): Map<string, Loaded[]> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', PROBE, ...modulePaths.map((modulePath) => path.join(PROJECT_ROOT, modulePath))], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const graphs = JSON.parse(out) as { entry: string; loaded?: Loaded[]; error?: string }[];
  return new Map(
    graphs.map((graph, index) => {
      if (graph.error !== undefined) throw new Error(`${modulePaths[index]} failed to load: ${graph.error}`);
      return [modulePaths[index] as string, graph.loaded ?? []];
    }),
  );
}

const PROBED = ['stacks/outputs.ts', ...TOOLS.map((tool) => path.join('tools', tool))];
let graphs: Map<string, Loaded[]>;
beforeAll(() => {
  graphs = loadGraphs(PROBED);
}, 60_000);

function loadedBy(modulePath: string): Loaded[] {
  const loaded = graphs.get(modulePath);
  if (loaded === undefined) throw new Error(`${modulePath} was not probed: add it to PROBED`);
  return loaded;
}

/** `node_modules/@scope/name/...` → `@scope/name`; undefined for the project's own files. */
function packageOf(file: string): string | undefined {
  return /[/\\]node_modules[/\\]((?:@[^/\\]+[/\\])?[^/\\]+)/.exec(file)?.[1]?.replace(/\\/g, '/');
}

/** Each heavy package loaded, with the chain of project files that led to it. */
function heavyImports(loaded: readonly Loaded[]): string[] {
  const parentOf = new Map(loaded.map(({ file, parent }) => [file, parent]));
  const found = new Map<string, string>();
  for (const { file } of loaded) {
    const name = packageOf(file);
    if (name === undefined || !HEAVY.includes(name) || found.has(name)) continue;
    const chain: string[] = [];
    // Up to the module the probe required (its own parent, the -e script, loaded nothing new).
    for (let at = parentOf.get(file); at && parentOf.has(at) && chain.length < 50; at = parentOf.get(at)) {
      if (packageOf(at) === undefined) chain.unshift(path.relative(PROJECT_ROOT, at));
    }
    found.set(name, `${name} via ${chain.join(' -> ')}`);
  }
  return [...found.values()];
}

describe('tool start-up', () => {
  test('the probe sees a heavy import where there is one', () => {
    const imports = heavyImports(loadedBy('stacks/outputs.ts'));
    expect(imports).toEqual(expect.arrayContaining([expect.stringMatching(/^cdktf via stacks\/outputs\.ts/)]));
  });

  test('every tool is checked', () => {
    expect(TOOLS).toEqual(expect.arrayContaining(['image-push.ts', 'plan-review.ts', 'plan.ts', 'query.ts', 'simulate.ts', 'system-test.ts', 'target.ts', 'thresholds.ts']));
  });

  test('the query tool loads DuckDB and the Athena SDK only in the path that runs a query on them', () => {
    const packages = new Set(loadedBy('tools/query.ts').map(({ file }) => packageOf(file)));
    expect(packages.has('commander')).toBe(true);
    expect(packages.has('@duckdb/node-api')).toBe(false);
    expect(packages.has('@aws-sdk/client-athena')).toBe(false);
    expect(new Set(loadedBy('tools/query-local.ts').map(({ file }) => packageOf(file))).has('@duckdb/node-api')).toBe(true);
  });

  test.each(TOOLS)('tools/%s loads none of the synth, server or emulator packages', (tool) => {
    const loaded = loadedBy(path.join('tools', tool));
    expect(loaded.some(({ file }) => file === path.join(PROJECT_ROOT, 'tools', tool))).toBe(true);
    expect(heavyImports(loaded)).toEqual([]);
  });
});
