/**
 * The command-line tools load only what they use: none of them pulls in cdktf, the
 * provider, constructs, fastify, ajv, esbuild or the emulators (over a second of start-up
 * before `--help` prints). Each tool's module graph is loaded in a fresh node process, as
 * `npm run <tool>` does, and every package it added is checked.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TOOLS = readdirSync(path.join(ROOT, 'tools')).filter((file) => file.endsWith('.ts')).sort();
const HEAVY = ['cdktf', '@cdktf/provider-aws', 'constructs', 'fastify', 'ajv', 'ajv-draft-04', 'esbuild', 'dynalite', 'kinesalite'];

/**
 * Requires argv[1] and prints every module it added to require.cache, each with the module
 * that first required it. Modules tsx loads for itself (esbuild) are there before, so left out.
 */
const PROBE = `
const Module = require('node:module');
const before = new Set(Object.keys(require.cache));
const parents = new Map();
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    const file = Module._resolveFilename(request, parent, isMain);
    if (parent && !parents.has(file)) parents.set(file, parent.filename);
  } catch {}
  return load.apply(this, arguments);
};
require(process.argv[1]);
const added = Object.keys(require.cache).filter((file) => !before.has(file));
process.stdout.write(JSON.stringify(added.map((file) => ({ file, parent: parents.get(file) ?? null }))));
`;

interface Loaded {
  readonly file: string;
  readonly parent: string | null;
}

function loadedBy(modulePath: string): Loaded[] {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', PROBE, path.join(ROOT, modulePath)], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as Loaded[];
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
      if (packageOf(at) === undefined) chain.unshift(path.relative(ROOT, at));
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
    expect(loaded.some(({ file }) => file === path.join(ROOT, 'tools', tool))).toBe(true);
    expect(heavyImports(loaded)).toEqual([]);
  });
});
