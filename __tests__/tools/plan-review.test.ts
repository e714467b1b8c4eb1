/**
 * `npm run plan:review` on plans in Terraform's documented JSON form
 * (https://developer.hashicorp.com/terraform/internals/json-format): the fixtures under
 * fixtures/plans follow it field for field (format_version, planned_values,
 * resource_changes with change.actions/before/after/after_unknown/before_sensitive/
 * after_sensitive/replace_paths and action_reason, output_changes, prior_state,
 * configuration), and one more plan is built from the real synthesized stacks.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CommanderError } from 'commander';
import { STACK_NAMES } from '../../stacks/output-names';
import { reviewPlans, type Review } from '../../tools/plan-analysis';
import { parsePlan } from '../../tools/plan-format';
import { planReviewProgram } from '../../tools/plan-review';
import { configOf, synthPlatform, type Synthesized } from '../stacks/synth-helpers';
import { createOnlyPlan } from './plan-from-synth';
import { PROJECT_ROOT } from '../../build/project-root';

const FIXTURES = path.join(__dirname, 'fixtures', 'plans');
const fixture = (name: string) => path.join(FIXTURES, `${name}.json`);

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'plan-review-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

/** Runs the command line in-process; returns what it printed and the exit code it set. */
async function review(...args: string[]): Promise<{ out: string; code: number }> {
  const printed: string[] = [];
  const program = planReviewProgram((text) => printed.push(text)).exitOverride().configureOutput({ writeErr: () => undefined });
  await program.parseAsync(['node', 'plan-review', ...args]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out: printed.join('\n'), code };
}

async function reviewJson(...args: string[]): Promise<{ review: Review; code: number }> {
  const { out, code } = await review(...args, '--json');
  return { review: JSON.parse(out) as Review, code };
}

describe('plan review of the fixtures', () => {
  it('follow the documented format, as every plan the review reads must', () => {
    for (const name of ['table-key-schema-replaced', 'bucket-destroyed', 'iam-statement-widened', 'security-group-opened', 'ordinary-update', 'no-op']) {
      const plan = JSON.parse(readFileSync(fixture(name), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(plan)).toEqual(expect.arrayContaining(['format_version', 'terraform_version', 'planned_values', 'resource_changes', 'output_changes', 'prior_state', 'configuration']));
      for (const change of plan['resource_changes'] as { change: Record<string, unknown> }[]) {
        expect(Object.keys(change.change)).toEqual(expect.arrayContaining(['actions', 'before', 'after', 'after_unknown', 'before_sensitive', 'after_sensitive']));
      }
      expect(() => parsePlan(plan, name)).not.toThrow();
    }
  });

  describe('a table replaced because its key schema changed', () => {
    it('counts one replacement, names the table and the attribute forcing it, and what it loses', async () => {
      const { out, code } = await review(fixture('table-key-schema-replaced'));
      expect(out).toContain('pipeline stack (');
      expect(out).toContain('0 to create, 0 to update, 1 to replace, 0 to destroy');
      expect(out).toContain('-/+ aws_dynamodb_table.tables_things: replace (an attribute cannot change in place; destroy then create)');
      expect(out).toContain('forced by hash_key: "ThingID" → "SeriesID"');
      expect(out).toMatch(/Guard: BLOCKED\. 1 resource that holds data would be destroyed or replaced:\n {2}pipeline: aws_dynamodb_table\.tables_things \(DynamoDB table, replace\) loses every item in the table/);
      expect(code).toBe(1);
    });

    it('passes when that table is allowed, and says so', async () => {
      const { out, code } = await review(fixture('table-key-schema-replaced'), '--allow-destroy', 'aws_dynamodb_table.tables_things');
      expect(out).toContain('Guard: passed. No resource that holds data is destroyed or replaced except 1 allowed one.');
      expect(out).toContain('allowed: pipeline: aws_dynamodb_table.tables_things (DynamoDB table, replace)');
      expect(code).toBe(0);
    });

    it('gives machines the same in --json', async () => {
      const { review: result, code } = await reviewJson(fixture('table-key-schema-replaced'));
      expect(code).toBe(1);
      expect(result.stacks).toHaveLength(1);
      expect(result.stacks[0]).toMatchObject({ stack: 'pipeline', terraformVersion: '1.11.4', errored: false, counts: { create: 0, update: 0, replace: 1, destroy: 0 } });
      expect(result.stacks[0]?.removals).toEqual([
        expect.objectContaining({
          address: 'aws_dynamodb_table.tables_things',
          action: 'replace',
          order: 'destroy then create',
          forcedBy: [{ path: 'hash_key', before: 'ThingID', after: 'SeriesID' }],
          holdsData: expect.objectContaining({ kind: 'DynamoDB table' }),
        }),
      ]);
      expect(result.guard).toMatchObject({ passed: false, blocked: [expect.objectContaining({ stack: 'pipeline', address: 'aws_dynamodb_table.tables_things', action: 'replace' })], allowed: [] });
    });
  });

  describe('a bucket destroyed', () => {
    it('names the bucket, why it goes (its construct was renamed), the likely new address, and blocks', async () => {
      const { out, code } = await review(fixture('bucket-destroyed'));
      expect(out).toContain('1 to create, 1 to update, 0 to replace, 1 to destroy');
      expect(out).toContain('- aws_s3_bucket.archive_bucket: destroy (it is no longer in the configuration: removed, or its construct id or path changed)');
      expect(out).toContain('! holds data (S3 bucket): loses every object in the bucket');
      expect(out).toContain('renamed to aws_s3_bucket.archive_store (created in this plan)? Keep the object: call moveFromId("aws_s3_bucket.archive_bucket")');
      // The bucket policy's new text is known only after apply: the old statements are shown readably.
      expect(out).toContain('policy: ["Deny s3:* on arn:aws:s3:::iot-archive-20250101120000000000000001, arn:aws:s3:::iot-archive-20250101120000000000000001/*; principals *; if Bool aws:SecureTransport = false"] → (known after apply)');
      expect(code).toBe(1);
    });

    it('passes with --allow-destroy for the bucket, not for another address', async () => {
      expect((await review(fixture('bucket-destroyed'), '--allow-destroy', 'aws_s3_bucket.archive_bucket')).code).toBe(0);
      const other = await review(fixture('bucket-destroyed'), '--allow-destroy', 'aws_s3_bucket.archive_store');
      expect(other.code).toBe(1);
      expect(other.out).toContain('note: --allow-destroy aws_s3_bucket.archive_store matches nothing these plans destroy or replace');
    });
  });

  describe('an IAM statement widened', () => {
    it('shows the policy statement by statement and flags the wildcards, without blocking', async () => {
      const { out, code } = await review(fixture('iam-statement-widened'));
      expect(out).toContain('0 to create, 1 to update, 0 to replace, 0 to destroy');
      expect(out).toContain('Replaced or destroyed: none');
      expect(out).toContain('~ aws_iam_role_policy.web_task-role-read-tables (IAM policy, update)');
      expect(out).toContain('policy statement "ReadTables" changed: actions + dynamodb:*, + dynamodb:Scan; resources + *');
      expect(out).toContain('policy statement "WriteThresholds" added: Allow dynamodb:PutItem on arn:aws:dynamodb:eu-west-2:123456789012:table/iot-thresholds');
      expect(out).toContain('! widens access: statement "ReadTables": wildcard action dynamodb:*');
      expect(out).toContain('! widens access: statement "ReadTables": every resource (*)');
      // The unchanged execution role policy is not a change.
      expect(out).not.toContain('web_execution-role-pull-and-log');
      expect(code).toBe(0);
    });

    it('passes with an --allow-destroy that matches nothing, and notes it', async () => {
      const { out, code } = await review(fixture('iam-statement-widened'), '--allow-destroy', 'aws_dynamodb_table.tables_things');
      expect(out).toContain('note: --allow-destroy aws_dynamodb_table.tables_things matches nothing');
      expect(code).toBe(0);
    });
  });

  describe('a security group opened to 0.0.0.0/0', () => {
    it('shows each changed field before → after and flags the ingress from the internet', async () => {
      const { review: result, code } = await reviewJson(fixture('security-group-opened'));
      expect(code).toBe(0);
      expect(result.stacks[0]?.security).toEqual([
        {
          address: 'aws_vpc_security_group_ingress_rule.web_instance-ingress-from-load-balancer',
          type: 'aws_vpc_security_group_ingress_rule',
          action: 'update',
          category: 'security group',
          fields: [
            { path: 'cidr_ipv4', before: null, after: '0.0.0.0/0' },
            { path: 'description', before: 'web app from the load balancer only', after: 'web app from anywhere' },
            { path: 'referenced_security_group_id', before: 'sg-0lb11112222333344', after: null },
          ],
          widens: ['ingress from the whole internet (0.0.0.0/0) on tcp 5000'],
        },
      ]);
      const text = await review(fixture('security-group-opened'), '--allow-destroy', 'aws_sqs_queue.consumers_failure-queue');
      expect(text.out).toContain('cidr_ipv4: (none) → "0.0.0.0/0"');
      expect(text.code).toBe(0);
    });
  });

  describe('an ordinary update', () => {
    it('counts the updates of the scaling stack and finds nothing to flag', async () => {
      const { out, code } = await review(fixture('ordinary-update'));
      expect(out).toContain('scaling stack (');
      expect(out).toContain('0 to create, 2 to update, 0 to replace, 0 to destroy');
      expect(out).toContain('Replaced or destroyed: none');
      expect(out).toContain('Security-relevant changes: none');
      expect(out).toContain('Guard: passed.');
      expect(code).toBe(0);
      expect((await review(fixture('ordinary-update'), '--allow-destroy', 'aws_appautoscaling_target.web-service-scaling_target')).code).toBe(0);
    });
  });

  describe('a no-op plan', () => {
    it('reports no change for the repository stack', async () => {
      const { review: result, code } = await reviewJson(fixture('no-op'));
      expect(code).toBe(0);
      expect(result.stacks[0]).toMatchObject({ stack: 'repository', counts: { create: 0, update: 0, replace: 0, destroy: 0, import: 0, move: 0, forget: 0 }, removals: [], security: [] });
      expect(result.guard).toEqual({ passed: true, blocked: [], allowed: [], unusedAllowances: [] });
      expect((await review(fixture('no-op'), '--allow-destroy', 'aws_ecr_repository.web-images_repository')).out).toContain('matches nothing');
    });
  });

  it('reviews several plans at once in deploy order, and blocks on any of them', async () => {
    const { review: result, code } = await reviewJson(fixture('ordinary-update'), fixture('bucket-destroyed'), fixture('no-op'), fixture('table-key-schema-replaced'));
    expect(result.stacks.map((stack) => stack.stack)).toEqual(['repository', 'pipeline', 'pipeline', 'scaling']);
    expect(result.guard.blocked.map((finding) => finding.address)).toEqual(['aws_s3_bucket.archive_bucket', 'aws_dynamodb_table.tables_things']);
    expect(code).toBe(1);
    const allowed = await review(fixture('bucket-destroyed'), fixture('table-key-schema-replaced'), '--allow-destroy', 'aws_s3_bucket.archive_bucket', '--allow-destroy', 'aws_dynamodb_table.tables_things');
    expect(allowed.code).toBe(0);
  });

  it('writes a pull-request comment with --markdown', async () => {
    const { out, code } = await review(fixture('table-key-schema-replaced'), fixture('iam-statement-widened'), '--markdown');
    expect(code).toBe(1);
    expect(out).toMatch(/^## Terraform plan review\n\n> \[!CAUTION\]\n> \*\*Guard: blocked\.\*\* 1 resource that holds data would be destroyed or replaced:/);
    expect(out).toContain('| stack | create | update | replace | destroy |');
    expect(out).toContain('| pipeline | 0 | 0 | 1 | 0 |');
    expect(out).toContain('- `-/+` `aws_dynamodb_table.tables_things`: replace');
    expect(out).toContain('  - forced by `hash_key`: `"ThingID"` → `"SeriesID"`');
    expect(out).toContain('`--allow-destroy aws_dynamodb_table.tables_things`');
    expect(out).toContain('  - :warning: widens access: statement "ReadTables": every resource (*)');
  });
});

describe('plan review of the real stacks, as a first deploy plans them', () => {
  let synthesized: Synthesized;
  const files = {} as Record<(typeof STACK_NAMES)[number], string>;
  beforeAll(() => {
    synthesized = synthPlatform(configOf());
    for (const stack of STACK_NAMES) {
      files[stack] = path.join(scratch, `${stack}.json`);
      writeFileSync(files[stack], JSON.stringify(createOnlyPlan(synthesized[stack].json)));
    }
  }, 120_000);

  it('recognises each stack, counts every resource as a create, and passes the guard', async () => {
    const { review: result, code } = await reviewJson(files.scaling, files.repository, files.pipeline);
    expect(code).toBe(0);
    expect(result.stacks.map((stack) => stack.stack)).toEqual(['repository', 'pipeline', 'scaling']);
    for (const stack of result.stacks) {
      const resources = Object.values(synthesized[stack.stack as (typeof STACK_NAMES)[number]].json.resource).reduce((total, byName) => total + Object.keys(byName).length, 0);
      expect(stack.counts).toEqual({ create: resources, update: 0, replace: 0, destroy: 0, import: 0, move: 0, forget: 0 });
      expect(stack.removals).toEqual([]);
    }
    expect(result.guard).toEqual({ passed: true, blocked: [], allowed: [], unusedAllowances: [] });
  });

  it('lists the new grants: every role policy, the statements of each policy document, and nothing open to the internet by default', async () => {
    const { review: result } = await reviewJson(files.pipeline);
    const pipeline = result.stacks[0];
    const addresses = pipeline?.security.map((change) => change.address) ?? [];
    for (const policy of Object.keys(synthesized.pipeline.json.resource['aws_iam_role_policy'] ?? {})) expect(addresses).toContain(`aws_iam_role_policy.${policy}`);
    const readTables = pipeline?.security.find((change) => change.address === 'data.aws_iam_policy_document.web-service_task-role_permissions');
    expect(readTables).toMatchObject({ action: 'read', category: 'IAM policy document' });
    expect(JSON.stringify(readTables?.fields)).toContain('Allow dynamodb:BatchGetItem, dynamodb:GetItem, dynamodb:Query, dynamodb:Scan on (known after apply)');
    // The policy pack allows no wildcard action, and with no web access configured the internet reaches nothing.
    const widens = pipeline?.security.flatMap((change) => change.widens) ?? [];
    expect(widens.filter((widen) => /wildcard action|any principal/.test(widen))).toEqual([]);
    expect(widens.filter((widen) => /internet/.test(widen))).toEqual([]);
  });

  it('notes an --allow-destroy that a create-only plan does not need', async () => {
    const { out, code } = await review(files.pipeline, '--allow-destroy', 'aws_dynamodb_table.tables_things');
    expect(code).toBe(0);
    expect(out).toContain('note: --allow-destroy aws_dynamodb_table.tables_things matches nothing');
  });
});

describe('plan review of sensitive and unknown values', () => {
  // https://developer.hashicorp.com/terraform/internals/json-format#change-representation:
  // before_sensitive/after_sensitive mark sensitive leaves with true, after_unknown the unknown ones.
  const SECRET = 'hunter2-not-for-review';
  const plan = {
    format_version: '1.2',
    resource_changes: [
      {
        address: 'aws_sqs_queue.consumers_failure-queue',
        mode: 'managed',
        type: 'aws_sqs_queue',
        name: 'consumers_failure-queue',
        change: {
          actions: ['delete', 'create'],
          before: { name: 'iot-failures', kms_master_key_id: SECRET, fifo_queue: false },
          after: { name: 'iot-failures.fifo', fifo_queue: true },
          after_unknown: { kms_master_key_id: true, arn: true },
          before_sensitive: { kms_master_key_id: true },
          after_sensitive: {},
          replace_paths: [['kms_master_key_id'], ['fifo_queue']],
        },
        action_reason: 'replace_because_cannot_update',
      },
      {
        address: 'aws_lb_listener.web_http-listener',
        mode: 'managed',
        type: 'aws_lb_listener',
        name: 'web_http-listener',
        change: {
          actions: ['update'],
          before: { port: 443, protocol: 'HTTPS', certificate_arn: SECRET, default_action: [{ type: 'forward', target_group_arn: 'arn:tg' }] },
          after: { port: 80, protocol: 'HTTP', certificate_arn: null, default_action: [{ type: 'forward', target_group_arn: 'arn:tg' }] },
          after_unknown: {},
          before_sensitive: { certificate_arn: true },
          after_sensitive: {},
        },
      },
    ],
  };

  it('never prints a sensitive value, and says which values wait for apply', () => {
    const result = reviewPlans([{ file: 'sensitive.json', plan: parsePlan(plan, 'sensitive.json') }]);
    const text = JSON.stringify(result);
    expect(text).not.toContain(SECRET);
    expect(result.stacks[0]?.removals[0]?.forcedBy).toEqual([
      { path: 'kms_master_key_id', before: '(sensitive)', after: '(known after apply)' },
      { path: 'fifo_queue', before: false, after: true },
    ]);
    expect(result.stacks[0]?.security[0]).toMatchObject({
      address: 'aws_lb_listener.web_http-listener',
      fields: [
        { path: 'port', before: 443, after: 80 },
        { path: 'protocol', before: 'HTTPS', after: 'HTTP' },
        { path: 'certificate_arn', before: '(sensitive)', after: null },
      ],
      widens: ['the listener now serves plain HTTP'],
    });
    expect(result.guard.blocked.map((finding) => finding.address)).toEqual(['aws_sqs_queue.consumers_failure-queue']);
  });
});

describe('plan review of what is not a plan', () => {
  const write = (name: string, content: string | Buffer) => {
    const file = path.join(scratch, name);
    writeFileSync(file, content);
    return file;
  };

  it.each([
    ['a binary plan file', () => write('plan.tfplan', Buffer.from('PK\u0003\u0004rest of a zip')), /this is a binary plan file; convert it with `terraform show -json/],
    ['text that is not JSON', () => write('broken.json', '{"format_version": '), /not JSON .*terraform show -json plan\.tfplan > plan\.json/],
    ['a state', () => write('state.json', JSON.stringify({ format_version: '1.0', terraform_version: '1.11.4', values: { root_module: {} } })), /this is a state, not a plan/],
    ['a future major format', () => write('future.json', JSON.stringify({ format_version: '2.0', resource_changes: [] })), /plan format 2\.0 is not supported \(this review reads 1\.x\)/],
    ['a change without actions', () => write('no-actions.json', JSON.stringify({ format_version: '1.2', resource_changes: [{ address: 'aws_sqs_queue.q', type: 'aws_sqs_queue', change: { actions: [] } }] })), /resource_changes\[0\] \(aws_sqs_queue\.q\) has no change\.actions/],
    ['an unknown action', () => write('odd.json', JSON.stringify({ format_version: '1.2', resource_changes: [{ address: 'aws_sqs_queue.q', type: 'aws_sqs_queue', change: { actions: ['explode'] } }] })), /an action this review does not know: "explode"/],
    ['a missing file', () => path.join(scratch, 'absent.json'), /absent\.json: cannot read it \(ENOENT\)/],
  ])('refuses %s, naming the file and what to run', async (_case, make, message) => {
    await expect(review(make())).rejects.toThrow(message);
  });

  it('refuses an --allow-destroy that is not a resource address, and --json with --markdown', async () => {
    await expect(review(fixture('no-op'), '--allow-destroy', 'the table')).rejects.toThrow(CommanderError);
    await expect(review(fixture('no-op'), '--json', '--markdown')).rejects.toThrow('choose one of --json and --markdown');
  });

  it('labels a plan whose outputs match no stack, or two, by its file, and still guards it', () => {
    const plan = JSON.parse(readFileSync(fixture('table-key-schema-replaced'), 'utf8')) as Record<string, unknown>;
    const anonymous = { ...plan, planned_values: {}, prior_state: {}, configuration: {}, output_changes: {} };
    const mixed = { ...anonymous, output_changes: { repository_url: {}, stream_name: {} } };
    const result = reviewPlans([
      { file: 'anonymous.json', plan: parsePlan(anonymous, 'anonymous.json') },
      { file: 'mixed.json', plan: parsePlan(mixed, 'mixed.json') },
    ]);
    expect(result.stacks.map((stack) => [stack.file, stack.stack])).toEqual([
      ['anonymous.json', undefined],
      ['mixed.json', undefined],
    ]);
    expect(result.guard.blocked.map((finding) => finding.file)).toEqual(['anonymous.json', 'mixed.json']);
  });
});

describe('the README sample', () => {
  it('is what the review prints for the command it shows', async () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const sample = /```text\n\$ npm run plan:review -- (.+)\n([^]*?)```/.exec(readme);
    expect(sample).not.toBeNull();
    const [, args = '', printed = ''] = sample ?? [];
    // npm runs it in the project, where the sample's paths are relative.
    const { out } = await review(...args.split(' ').map((file) => path.join(PROJECT_ROOT, file)));
    expect(out.split(`${PROJECT_ROOT}${path.sep}`).join('')).toBe(printed.trimEnd());
  });
});

describe('npm run plan:review exit codes', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tools', 'plan-review.ts'), ...args], { cwd: PROJECT_ROOT, encoding: 'utf8' });

  it('are 0 when nothing that holds data is lost, 1 when the guard blocks, 2 when a file is not a plan', () => {
    expect(run(fixture('ordinary-update')).status).toBe(0);
    const blocked = run(fixture('bucket-destroyed'));
    expect(blocked.status).toBe(1);
    expect(blocked.stdout).toContain('Guard: BLOCKED.');
    const unreadable = run(path.join(FIXTURES, 'absent.json'));
    expect(unreadable.status).toBe(2);
    expect(unreadable.stderr).toMatch(/^error: .*absent\.json: cannot read it/);
    expect(execFileSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'tools', 'plan-review.ts'), '--help'], { cwd: PROJECT_ROOT, encoding: 'utf8' })).toContain('--allow-destroy <address>');
  });
});
