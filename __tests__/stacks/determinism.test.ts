/**
 * `npm run synth` run in two checkouts in different folders writes byte-identical files,
 * and none of them holds a path of the machine.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { unzipSync } from 'fflate';
import { PROJECT_ROOT } from '../../build/project-root';

/** What the synth needs from the checkout; node_modules is shared through a link. */
const SOURCES = ['main.ts', 'cdktf.json', 'package.json', 'tsconfig.json', 'stacks', 'handlers', 'build', 'policy'];

let scratch: string;
let checkouts: string[];

function filesUnder(root: string, at = ''): string[] {
  return readdirSync(path.join(root, at)).flatMap((name) => {
    const relative = path.join(at, name);
    return statSync(path.join(root, relative)).isDirectory() ? filesUnder(root, relative) : [relative];
  });
}

function synthIn(checkout: string): void {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PLATFORM_')));
  execFileSync(process.execPath, [path.join(checkout, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'main.ts'], { cwd: checkout, env, stdio: 'pipe', timeout: 240_000 });
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'synth-determinism-'));
  checkouts = [path.join(scratch, 'a'), path.join(scratch, 'second', 'checkout with space')];
  // The first copy is the source of the second, so both hold the same sources even while the checkout changes.
  for (const [index, checkout] of checkouts.entries()) {
    mkdirSync(checkout, { recursive: true });
    const from = index === 0 ? PROJECT_ROOT : checkouts[0]!;
    for (const source of SOURCES) cpSync(path.join(from, source), path.join(checkout, source), { recursive: true });
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(checkout, 'node_modules'), 'dir');
  }
  for (const checkout of checkouts) synthIn(checkout);
}, 600_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('writes the same files, byte for byte, from two folders', () => {
  const [first, second] = checkouts.map((checkout) => path.join(checkout!, 'cdktf.out'));
  const files = filesUnder(first!).sort();
  expect(filesUnder(second!).sort()).toEqual(files);
  expect(files).toEqual(expect.arrayContaining(['manifest.json', path.join('stacks', 'pipeline', 'cdk.tf.json')]));
  expect(files.some((file) => file.endsWith('.zip'))).toBe(true);
  for (const file of files) {
    expect({ file, same: readFileSync(path.join(first!, file)).equals(readFileSync(path.join(second!, file))) }).toEqual({ file, same: true });
  }
});

it('holds no path of the machine in any synthesized file, archives included', () => {
  const machinePaths = [...checkouts, scratch, PROJECT_ROOT, homedir(), tmpdir()].filter((candidate) => candidate.length > 1);
  for (const checkout of checkouts) {
    const out = path.join(checkout, 'cdktf.out');
    for (const file of filesUnder(out)) {
      const raw = readFileSync(path.join(out, file));
      // Archives are searched inside: their compressed bytes say nothing about the text.
      const contents = file.endsWith('.zip') ? Object.entries(unzipSync(raw)).map(([name, data]) => Buffer.concat([Buffer.from(name), Buffer.from(data)])) : [raw];
      const bytes = Buffer.concat(contents);
      for (const machinePath of machinePaths) expect({ file, machinePath, found: bytes.includes(machinePath) }).toEqual({ file, machinePath, found: false });
    }
  }
});
