/**
 * The whole Terraform JSON of each stack, so a review sees every change a pull request
 * makes to the infrastructure. Values that change with the handlers' code or the
 * provider package (not with the stacks) are scrubbed.
 */
import { STACK_NAMES } from '../../stacks/output-names';
import { configOf, synthPlatform, type Synthesized } from './synth-helpers';

let platform: Synthesized;
beforeAll(() => {
  platform = synthPlatform(configOf({ alerts: { emails: ['ops@example.com'] }, operations: { emails: ['oncall@example.com'] } }));
});
function scrub(text: string): string {
  return text
    .replace(/(assets\/[A-Za-z0-9_-]+\/)[0-9a-f]{64}\//g, '$1<source-hash>/')
    .replace(/("source_code_hash": )"[A-Za-z0-9+/]{43}="/g, '$1"<archive-sha256>"')
    .replace(/("version": )"\d+\.\d+\.\d+"/g, '$1"<version>"');
}

it.each(STACK_NAMES)('synthesizes the %s stack as recorded', (stack) => {
  expect(scrub(platform[stack].text)).toMatchSnapshot();
});

it('scrubs only what changes outside the stacks', () => {
  const scrubbed = scrub(platform.pipeline.text);
  expect(scrubbed).toContain('"source_code_hash": "<archive-sha256>"');
  expect(scrubbed).toMatch(/"filename": "assets\/consumers_store-readings-code\/<source-hash>\/store-readings\.zip"/);
  expect(scrubbed).not.toMatch(/[0-9a-f]{64}\/store-readings\.zip/);
  // The API definition hash is the stacks' own: a change to it must show in the snapshot.
  expect(scrubbed).toMatch(/"definition": "[0-9a-f]{64}"/);
});
