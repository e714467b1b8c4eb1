import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { unzipSync } from 'fflate';
import { BUNDLE_FILE, HANDLER_ENTRIES, bundleEntry, bundleHandler, packageHandler, packageHandlers, type HandlerName, type PackagedHandler } from '../../build/handler-bundle';
import { PROJECT_ROOT } from '../../build/project-root';

const names = Object.keys(HANDLER_ENTRIES) as HandlerName[];
let scratch: string;
/** Each handler bundled and packed on its own (`packageHandler`), and all of them in one esbuild run into another, deeper folder (`packageHandlers`). */
let alone: Record<HandlerName, PackagedHandler>;
let together: Record<HandlerName, PackagedHandler>;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'handler-bundle-'));
  alone = Object.fromEntries(names.map((name) => [name, packageHandler(name, path.join(scratch, 'one'))])) as Record<HandlerName, PackagedHandler>;
  together = packageHandlers(path.join(scratch, 'two', 'deeper'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(names)('the %s bundle', (name) => {
  it('has the same source hash and identical bundle and archive bytes whatever the output folder, made alone or in one run with the others', () => {
    const [first, second] = [alone[name], together[name]];
    expect(second.sourceHash).toBe(first.sourceHash);
    expect(readFileSync(second.file).equals(readFileSync(first.file))).toBe(true);
    expect(readFileSync(second.archive).equals(readFileSync(first.archive))).toBe(true);
    expect(second.archiveSha256).toBe(first.archiveSha256);
  });

  it('hashes exactly the bundle text it wrote', () => {
    const first = alone[name];
    const text = readFileSync(first.file);
    expect(first.file).toBe(path.join(first.dir, BUNDLE_FILE));
    expect(createHash('sha256').update(text).digest('hex')).toBe(first.sourceHash);
  });

  it('zips only index.js, byte for byte the bundle', () => {
    const first = alone[name];
    const entries = unzipSync(readFileSync(first.archive));
    expect(Object.keys(entries)).toEqual([BUNDLE_FILE]);
    expect(Buffer.from(entries[BUNDLE_FILE]!).equals(readFileSync(first.file))).toBe(true);
  });

  it('holds no path of the machine', () => {
    const text = readFileSync(alone[name].file, 'utf8');
    expect(text).not.toContain(PROJECT_ROOT);
    expect(text).not.toContain(scratch);
  });

  it('exports a handler function', () => {
    // The entry's own source is what the bundle exports; esbuild keeps the export name.
    expect(readFileSync(alone[name].file, 'utf8')).toMatch(/\bhandler: \(\) => handler\d*\b/);
  });
});

describe('packageHandlers', () => {
  it('packs every handler', () => {
    expect(Object.keys(together).sort()).toEqual([...names].sort());
  });
});

describe('bundleEntry', () => {
  it('reuses an unchanged bundle instead of rebuilding it', () => {
    const entry = path.join(scratch, 'stable.ts');
    writeFileSync(entry, 'export const stable = true;\n');
    const first = bundleEntry(entry, path.join(scratch, 'stable'));
    const writtenAt = statSync(first.file).mtimeMs;
    const again = bundleEntry(entry, path.join(scratch, 'stable'));
    expect(again).toEqual(first);
    expect(statSync(again.file).mtimeMs).toBe(writtenAt);
  });

  it('rebuilds a bundle that was removed or altered', () => {
    const entry = path.join(scratch, 'altered.ts');
    writeFileSync(entry, 'export const altered = 1;\n');
    const dir = path.join(scratch, 'altered');
    const first = bundleEntry(entry, dir);
    writeFileSync(first.file, 'tampered');
    expect(readFileSync(bundleEntry(entry, dir).file, 'utf8')).toContain('altered');
    unlinkSync(first.file);
    expect(bundleEntry(entry, dir).sourceHash).toBe(first.sourceHash);
  });

  // Same size, rewritten at once: only the content tells the versions apart.
  it('changes the hash when the source changes, and only then', () => {
    const entry = path.join(scratch, 'entry.ts');
    writeFileSync(entry, 'export const answer = 41;\n');
    const before = bundleEntry(entry, path.join(scratch, 'a')).sourceHash;
    const again = bundleEntry(entry, path.join(scratch, 'b')).sourceHash;
    writeFileSync(entry, 'export const answer = 42;\n');
    const after = bundleEntry(entry, path.join(scratch, 'a')).sourceHash;
    expect(again).toBe(before);
    expect(after).not.toBe(before);
  });

  it('names the missing file when an entry does not exist', () => {
    expect(() => bundleEntry('handlers/no-such-handler.ts', path.join(scratch, 'c'))).toThrow(
      'cannot bundle handlers/no-such-handler.ts: the file does not exist',
    );
  });

  it('rejects an unknown handler name with the list of known ones', () => {
    expect(() => bundleHandler('nope' as HandlerName, scratch)).toThrow(/unknown handler "nope": expected one of store-readings, threshold-alerts/);
  });

  it('reports compile errors from esbuild', () => {
    const broken = path.join(scratch, 'broken.ts');
    writeFileSync(broken, 'export const = ;\n');
    expect(() => bundleEntry(broken, path.join(scratch, 'd'))).toThrow(/Build failed/);
  });
});
