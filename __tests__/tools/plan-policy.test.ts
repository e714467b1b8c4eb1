/**
 * IAM policies compared statement by statement, whichever form they reach the plan in:
 * policy JSON (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html,
 * where Action, Resource and Principal values may be one string or a list, and Statement one
 * object or a list) or the `statement` blocks of an `aws_iam_policy_document` data source.
 */
import { describeStatement, diffStatements, statementsOfDocumentBlocks, statementsOfPolicyJson, type Statement } from '../../tools/plan-policy';

const policy = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const parsed = (...statements: Record<string, unknown>[]): Statement[] => statementsOfPolicyJson(policy(...statements)) ?? [];

const TABLE = 'arn:aws:dynamodb:eu-west-2:123456789012:table/iot-things';

describe('policy statements', () => {
  it('read the single-value and list forms of the policy grammar alike', () => {
    const single = statementsOfPolicyJson(JSON.stringify({ Statement: { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:q', Principal: '*' } }));
    const lists = statementsOfPolicyJson(JSON.stringify({ Statement: [{ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: ['arn:q'], Principal: { AWS: ['*'] } }] }));
    expect(single).toEqual(lists);
    expect(single?.[0]?.principals).toEqual(['*']);
    expect(statementsOfPolicyJson('not json')).toBeUndefined();
    expect(statementsOfPolicyJson(undefined)).toBeUndefined();
  });

  it('read a policy document\'s blocks as the same statements as its JSON', () => {
    const blocks = [
      {
        sid: 'PublishAlarms',
        effect: 'Allow',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
        condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: ['123456789012'] }],
      },
    ];
    const json = parsed({
      Sid: 'PublishAlarms',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
    });
    expect(statementsOfDocumentBlocks(blocks)).toEqual(json);
    expect(describeStatement(json[0] as Statement)).toBe('Allow kms:Decrypt, kms:GenerateDataKey on *; principals Service:cloudwatch.amazonaws.com; if StringEquals aws:SourceAccount = 123456789012');
  });

  it('match by Sid wherever the statement moved, and report only what changed in it', () => {
    const before = parsed({ Sid: 'Logs', Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: 'arn:log' }, { Sid: 'Read', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: TABLE });
    const after = parsed({ Sid: 'Read', Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: TABLE }, { Sid: 'Logs', Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: 'arn:log' });
    expect(diffStatements(before, after)).toEqual([{ change: 'changed', statement: 'statement "Read"', details: ['actions - dynamodb:Query'], widens: [] }]);
  });

  it('match statements without Sid by content, then by order', () => {
    const unchanged = { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:q' };
    const before = parsed(unchanged, { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:b/*' });
    const after = parsed({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:b/*' }, unchanged);
    expect(diffStatements(before, after)).toEqual([{ change: 'changed', statement: 'statement 1', details: ['actions + s3:PutObject'], widens: [] }]);
  });

  it('list added and removed statements whole', () => {
    const before = parsed({ Sid: 'Old', Effect: 'Allow', Action: 'sns:Publish', Resource: 'arn:topic' });
    const after = parsed({ Sid: 'New', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:q' });
    expect(diffStatements(before, after)).toEqual([
      { change: 'added', statement: 'statement "New"', details: ['Allow sqs:SendMessage on arn:q'], widens: [] },
      { change: 'removed', statement: 'statement "Old"', details: ['Allow sns:Publish on arn:topic'], widens: [] },
    ]);
  });

  it('flag what grants more: wildcards, any principal, NotAction, a Deny turned Allow, a dropped condition', () => {
    const before = parsed(
      { Sid: 'Read', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE },
      { Sid: 'Guard', Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:b/*' },
      { Sid: 'Publish', Effect: 'Allow', Action: 'sns:Publish', Resource: 'arn:topic', Principal: { Service: 'cloudwatch.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } },
    );
    const after = parsed(
      { Sid: 'Read', Effect: 'Allow', Action: ['dynamodb:Get*'], Resource: [TABLE, '*'] },
      { Sid: 'Guard', Effect: 'Allow', Action: 's3:DeleteObject', Resource: 'arn:b/*' },
      { Sid: 'Publish', Effect: 'Allow', Action: 'sns:Publish', Resource: 'arn:topic', Principal: '*' },
      { Sid: 'Everything', Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
    );
    const widens = diffStatements(before, after).flatMap((change) => change.widens);
    expect(widens).toEqual([
      'statement "Read": wildcard action dynamodb:Get*',
      'statement "Read": every resource (*)',
      'statement "Guard": a Deny became an Allow',
      'statement "Publish": any principal (*)',
      'statement "Publish": condition removed: StringEquals aws:SourceAccount = 123456789012',
      'statement "Everything": every resource (*)',
      'statement "Everything": NotAction iam:* (allows everything else)',
    ]);
  });

  it('flag nothing in a Deny, however wide', () => {
    const after = parsed({ Sid: 'TlsOnly', Effect: 'Deny', Action: 's3:*', Resource: '*', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(diffStatements([], after)).toEqual([expect.objectContaining({ change: 'added', widens: [] })]);
  });
});
