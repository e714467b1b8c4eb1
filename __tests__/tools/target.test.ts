import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseOutputs, resolveTarget, TargetError } from '../../tools/target';
import { PIPELINE_OUTPUTS } from '../../stacks/output-names';

const DEPLOYED = {
  [PIPELINE_OUTPUTS.ingestUrl]: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/thingsstream',
  [PIPELINE_OUTPUTS.batchIngestUrl]: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/thingsstream/batch',
  [PIPELINE_OUTPUTS.apiKey]: 'deployed-key',
  [PIPELINE_OUTPUTS.webUrl]: 'http://web-123.eu-west-1.elb.amazonaws.com',
  [PIPELINE_OUTPUTS.thingsTable]: 'acme-iot-things',
  [PIPELINE_OUTPUTS.thresholdsTable]: 'acme-iot-thresholds',
  [PIPELINE_OUTPUTS.alertsTable]: 'acme-iot-alerts',
  [PIPELINE_OUTPUTS.seriesTable]: 'acme-iot-series',
  [PIPELINE_OUTPUTS.rollupsTable]: 'acme-iot-rollups',
  [PIPELINE_OUTPUTS.usagePlanId]: 'plan01',
};

describe('tool targets', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'target-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('points at the local platform on its default addresses when none is running', () => {
    expect(resolveTarget({}, {}, path.join(dir, 'no-platform.lock'))).toEqual({
      kind: 'local',
      ingestUrl: 'http://127.0.0.1:4010/prod/thingsstream',
      batchIngestUrl: 'http://127.0.0.1:4010/prod/thingsstream/batch',
      apiKey: 'local-dev-key',
      webUrl: 'http://127.0.0.1:5000',
      region: 'eu-west-2',
      dynamodbEndpoint: 'http://127.0.0.1:8000',
      tables: { things: 'iot-things', thresholds: 'iot-thresholds', alerts: 'iot-alerts', series: 'iot-series', rollups: 'iot-rollups' },
    });
  });

  it('points at the running local platform where its lock file says it listens, with its table names', () => {
    const lock = path.join(dir, 'platform.lock');
    const urls = { ingest: 'http://127.0.0.1:41001/prod/thingsstream', batchIngest: 'http://127.0.0.1:41001/prod/thingsstream/batch', web: 'http://127.0.0.1:41002', dynamodb: 'http://127.0.0.1:41003' };
    const tables = { things: 'dev-iot-things', thresholds: 'dev-iot-thresholds', alerts: 'dev-iot-alerts', series: 'dev-iot-series', rollups: 'dev-iot-rollups' };
    writeFileSync(lock, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), urls, tables, region: 'eu-west-1', apiKey: 'twin-key' }));
    expect(resolveTarget({}, {}, lock)).toEqual({
      kind: 'local',
      ingestUrl: urls.ingest,
      batchIngestUrl: urls.batchIngest,
      apiKey: 'twin-key',
      webUrl: urls.web,
      region: 'eu-west-1',
      dynamodbEndpoint: urls.dynamodb,
      tables,
    });
  });

  it('reads a deployment from `terraform output -json` output, sensitive key included', () => {
    const file = path.join(dir, 'outputs.json');
    writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(DEPLOYED).map(([name, value]) => [name, { value, type: 'string', sensitive: name === PIPELINE_OUTPUTS.apiKey }]))));
    expect(resolveTarget({ fromOutputs: file }, {})).toEqual({
      kind: 'deployment',
      ingestUrl: DEPLOYED.ingest_url,
      batchIngestUrl: DEPLOYED.batch_ingest_url,
      apiKey: 'deployed-key',
      webUrl: DEPLOYED.web_url,
      region: 'eu-west-1',
      tables: { things: 'acme-iot-things', thresholds: 'acme-iot-thresholds', alerts: 'acme-iot-alerts', series: 'acme-iot-series', rollups: 'acme-iot-rollups' },
      usagePlanId: 'plan01',
    });
  });

  it('reads a cdktf outputs file, where outputs sit under the stack name', () => {
    expect(parseOutputs(JSON.stringify({ repository: { repository_url: 'x' }, pipeline: DEPLOYED }), 'file')).toEqual(DEPLOYED);
  });

  it('lets flags override outputs, and takes the key from $IOT_API_KEY', () => {
    const file = path.join(dir, 'outputs-no-key.json');
    const { [PIPELINE_OUTPUTS.apiKey]: _key, ...withoutKey } = DEPLOYED;
    writeFileSync(file, JSON.stringify(withoutKey));
    const target = resolveTarget({ fromOutputs: file, region: 'us-east-2', thingsTable: 'other-things' }, { IOT_API_KEY: 'from-env' });
    expect(target).toMatchObject({ apiKey: 'from-env', region: 'us-east-2', tables: { things: 'other-things', thresholds: 'acme-iot-thresholds' } });
  });

  it('accepts the stage URL and derives the ingest and batch URLs from it', () => {
    const target = resolveTarget({ apiUrl: 'https://id.execute-api.ap-south-1.amazonaws.com/prod/', apiKey: 'k', webUrl: 'https://web.example.com' }, {});
    expect(target).toMatchObject({
      ingestUrl: 'https://id.execute-api.ap-south-1.amazonaws.com/prod/thingsstream',
      batchIngestUrl: 'https://id.execute-api.ap-south-1.amazonaws.com/prod/thingsstream/batch',
      region: 'ap-south-1',
      tables: { things: 'iot-things' },
    });
  });

  it('names everything a deployment still lacks in one error', () => {
    expect(() => resolveTarget({ apiUrl: 'https://id.execute-api.eu-west-2.amazonaws.com/prod' }, {})).toThrow(
      new TargetError('to use a deployment, also give --api-key (or $IOT_API_KEY, or --from-outputs), --web-url (or --from-outputs)'),
    );
  });

  it('rejects a URL that is not http(s)', () => {
    expect(() => resolveTarget({ apiUrl: 'ftp://x/prod', apiKey: 'k', webUrl: 'http://w' }, {})).toThrow(/--api-url must be an http\(s\) URL/);
  });

  it('explains a missing outputs location and an outputs file that is not JSON', () => {
    expect(() => resolveTarget({ fromOutputs: path.join(dir, 'nope') }, {})).toThrow(/does not exist: give the pipeline stack's Terraform folder/);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{oops');
    expect(() => resolveTarget({ fromOutputs: bad }, {})).toThrow(/is not JSON/);
  });
});
