import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SynthError, synthesizeStacks } from '../../../local/twin/synth';

/**
 * A project whose main.ts stands in for the real synth: it writes the pipeline stack with
 * what it was given (configuration file, PLATFORM_* variables) and counts its runs.
 */
const MAIN = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
const root = ${JSON.stringify('ROOT')};
appendFileSync(path.join(root, 'runs'), 'x');
if (process.env.PLATFORM_FAIL) { console.error('region: must be an AWS region'); process.exit(1); }
mkdirSync('cdktf.out/stacks/pipeline', { recursive: true });
const file = process.env.PLATFORM_CONFIG;
writeFileSync('cdktf.out/stacks/pipeline/cdk.tf.json', JSON.stringify({
  configuration: file ? JSON.parse(readFileSync(file, 'utf8')) : null,
  variable: process.env.PLATFORM_STREAM_SHARD_COUNT ?? null,
  source: readFileSync(path.join(root, 'stacks', 'stack.ts'), 'utf8'),
}));
`;

describe('synthesizeStacks: one synth per set of sources and configuration', () => {
  let root: string;
  const runs = () => readFileSync(path.join(root, 'runs'), 'utf8').length;
  const saved = { ...process.env };

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'synth-'));
    mkdirSync(path.join(root, 'stacks'));
    writeFileSync(path.join(root, 'stacks', 'stack.ts'), 'version 1');
    writeFileSync(path.join(root, 'main.ts'), MAIN.replace('"ROOT"', JSON.stringify(root)));
    writeFileSync(path.join(root, 'runs'), '');
    for (const name of Object.keys(process.env)) if (name.startsWith('PLATFORM_')) delete process.env[name];
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(root, { recursive: true, force: true });
  });

  it("synthesizes the user's configuration into cdktf.out and reuses it until a source, a PLATFORM_ variable or the stack file changes", async () => {
    const first = await synthesizeStacks({ root });
    expect(first).toMatchObject({ outdir: path.join(root, 'cdktf.out'), reused: false });
    expect(first.stackFile('pipeline')).toBe(path.join(root, 'cdktf.out', 'stacks', 'pipeline', 'cdk.tf.json'));
    expect((await synthesizeStacks({ root })).reused).toBe(true);
    expect(runs()).toBe(1);

    writeFileSync(path.join(root, 'stacks', 'stack.ts'), 'version 2');
    expect((await synthesizeStacks({ root })).reused).toBe(false);
    expect(JSON.parse(readFileSync(first.stackFile('pipeline'), 'utf8')).source).toBe('version 2');

    process.env.PLATFORM_STREAM_SHARD_COUNT = '4';
    expect((await synthesizeStacks({ root })).reused).toBe(false);
    expect(JSON.parse(readFileSync(first.stackFile('pipeline'), 'utf8')).variable).toBe('4');

    // A hand-edited stack is synthesized again: only --no-synth runs an edit as it is.
    writeFileSync(first.stackFile('pipeline'), '{"edited": true}');
    expect((await synthesizeStacks({ root })).reused).toBe(false);
    expect(runs()).toBe(4);
  }, 60_000);

  it('synthesizes a given configuration into a cache folder of its own, ignoring PLATFORM_ variables, shared by every caller', async () => {
    process.env.PLATFORM_STREAM_SHARD_COUNT = '4';
    const [one, two] = await Promise.all([synthesizeStacks({ root, configuration: { consumers: { batchWindowSeconds: 1 } } }), synthesizeStacks({ root, configuration: { consumers: { batchWindowSeconds: 1 } } })]);
    expect(one!.outdir).toBe(two!.outdir);
    expect([one!.reused, two!.reused].sort()).toEqual([false, true]);
    expect(one!.outdir.startsWith(path.join(root, 'node_modules', '.cache'))).toBe(true);
    expect(JSON.parse(readFileSync(one!.stackFile('pipeline'), 'utf8'))).toMatchObject({ configuration: { consumers: { batchWindowSeconds: 1 } }, variable: null });

    const other = await synthesizeStacks({ root, configuration: {} });
    expect(other.outdir).not.toBe(one!.outdir);
    expect(runs()).toBe(2);
  }, 60_000);

  it("fails with the synth's own message", async () => {
    process.env.PLATFORM_FAIL = '1';
    await expect(synthesizeStacks({ root })).rejects.toThrow(SynthError);
    await expect(synthesizeStacks({ root })).rejects.toThrow(/region: must be an AWS region/);
  }, 60_000);
});
