import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand } from '@aws-sdk/client-sns';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_ALERT_COOLDOWN_SECONDS, DEFAULT_FUTURE_TOLERANCE_SECONDS } from '../../handlers/contract';
import { awsClients, createAwsClients, lazyHandler, loadSettings, retryDeadline, SettingsError } from '../../handlers/runtime';
import { startDynalite, type DynaliteHarness } from './dynalite-harness';

describe('lazyHandler', () => {
  it('builds the handler once and hands it every event with its Lambda context', async () => {
    const seen: unknown[] = [];
    const build = jest.fn(() => async (event: string, context?: { awsRequestId: string }) => void seen.push([event, context?.awsRequestId]));
    const handler = lazyHandler(build);
    const context = (id: string) => ({ awsRequestId: id, functionName: 'f', functionVersion: '1', invokedFunctionArn: 'arn', memoryLimitInMB: '128', logGroupName: 'g', logStreamName: 's', callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 1000, done: () => undefined, fail: () => undefined, succeed: () => undefined });
    await handler('a', context('r1'));
    await handler('b', context('r2'));
    expect(build).toHaveBeenCalledTimes(1);
    expect(seen).toEqual([['a', 'r1'], ['b', 'r2']]);
  });
});

describe('retryDeadline', () => {
  const clock = { now: () => 1_000_000, sleep: async () => undefined };

  it('keeps a quarter of the remaining time for reporting', () => {
    expect(retryDeadline({ getRemainingTimeInMillis: () => 60_000 }, clock)?.at).toBe(1_000_000 + 45_000);
  });

  it('keeps at least 5 s of a short budget', () => {
    expect(retryDeadline({ getRemainingTimeInMillis: () => 8_000 }, clock)?.at).toBe(1_000_000 + 3_000);
  });

  it('sets none without a Lambda context, so retries are bounded by count', () => {
    expect(retryDeadline(undefined, clock)).toBeUndefined();
  });
});

describe('loadSettings', () => {
  const complete = {
    THINGS_TABLE: 'iot-things',
    THRESHOLDS_TABLE: 'iot-thresholds',
    ALERTS_TABLE: 'iot-alerts',
    SERIES_TABLE: 'iot-series',
    ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:iot-alerts',
    FAILURE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/iot-failures',
    ALERT_COOLDOWN_SECONDS: '60',
    HOT_RETENTION_DAYS: '30',
    FUTURE_TOLERANCE_SECONDS: '120',
  };

  it('parses every variable into its typed setting', () => {
    expect(loadSettings(complete, ['thingsTable', 'failureQueueUrl'])).toEqual({
      thingsTable: 'iot-things',
      thresholdsTable: 'iot-thresholds',
      alertsTable: 'iot-alerts',
      seriesTable: 'iot-series',
      alertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:iot-alerts',
      failureQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/iot-failures',
      alertCooldownSeconds: 60,
      hotRetentionDays: 30,
      futureToleranceSeconds: 120,
    });
  });

  it('leaves optional settings out and applies the cooldown default', () => {
    const settings = loadSettings({ THINGS_TABLE: 'iot-things', HOT_RETENTION_DAYS: '' }, ['thingsTable']);
    expect(settings).toEqual({ thingsTable: 'iot-things', alertCooldownSeconds: DEFAULT_ALERT_COOLDOWN_SECONDS, futureToleranceSeconds: DEFAULT_FUTURE_TOLERANCE_SECONDS });
    expect(settings.seriesTable).toBeUndefined();
    expect(settings.hotRetentionDays).toBeUndefined();
  });

  it('accepts a local emulator queue URL and fractional retention days', () => {
    const settings = loadSettings({ FAILURE_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/failures', HOT_RETENTION_DAYS: '0.5' }, [
      'failureQueueUrl',
    ]);
    expect(settings.failureQueueUrl).toBe('http://127.0.0.1:9324/000000000000/failures');
    expect(settings.hotRetentionDays).toBe(0.5);
  });

  it('reports every missing and malformed variable in one error', () => {
    const env = {
      THINGS_TABLE: '  ',
      ALERT_TOPIC_ARN: 'iot-alerts',
      FAILURE_QUEUE_URL: 'not a url',
      ALERT_COOLDOWN_SECONDS: '1.5',
      HOT_RETENTION_DAYS: '-3',
      FUTURE_TOLERANCE_SECONDS: 'soon',
      SERIES_TABLE: 'a/b',
    };
    let thrown: unknown;
    try {
      loadSettings(env, ['thingsTable', 'thresholdsTable', 'failureQueueUrl']);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SettingsError);
    const { problems, message } = thrown as SettingsError;
    expect(problems).toEqual([
      'THINGS_TABLE is missing',
      'THRESHOLDS_TABLE is missing',
      'SERIES_TABLE must be a DynamoDB table name (3-255 letters, digits, "_", "." or "-"), got "a/b"',
      'ALERT_TOPIC_ARN must be an SNS topic ARN (arn:aws:sns:...), got "iot-alerts"',
      'FAILURE_QUEUE_URL must be an http(s) SQS queue URL, got "not a url"',
      'ALERT_COOLDOWN_SECONDS must be a whole number of seconds, 0 or more, got "1.5"',
      'HOT_RETENTION_DAYS must be a positive number of days, got "-3"',
      'FUTURE_TOLERANCE_SECONDS must be a whole number of seconds, 0 or more, got "soon"',
    ]);
    for (const problem of problems) expect(message).toContain(problem);
  });

  it('accepts a zero cooldown but not a negative one', () => {
    expect(loadSettings({ ALERT_COOLDOWN_SECONDS: '0' }, []).alertCooldownSeconds).toBe(0);
    expect(() => loadSettings({ ALERT_COOLDOWN_SECONDS: '-1' }, [])).toThrow('ALERT_COOLDOWN_SECONDS must be a whole number');
  });
});

describe('AWS clients', () => {
  it('creates each client once per container', () => {
    const clients = awsClients();
    expect(awsClients()).toBe(clients);
    expect(clients.dynamo).toBe(clients.dynamo);
    expect(clients.sqs).toBe(clients.sqs);
    expect(clients.sns).toBe(clients.sns);
  });

  describe('endpoints from the standard AWS_ENDPOINT_URL_* variables', () => {
    let db: DynaliteHarness;
    const recorders: Record<'sqs' | 'sns', { server: Server; url: string; requests: IncomingMessage[] }> = {} as never;
    const saved = { ...process.env };

    /** A server answering every call with a non-retryable error; the test only needs to see the call arrive. */
    async function startRecorder() {
      const requests: IncomingMessage[] = [];
      const server = createServer((request, response) => {
        requests.push(request);
        request.resume();
        request.on('end', () => response.writeHead(400, { 'content-type': 'text/plain' }).end('recorded'));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
    }

    beforeAll(async () => {
      db = await startDynalite();
      recorders.sqs = await startRecorder();
      recorders.sns = await startRecorder();
      Object.assign(process.env, db.env, { AWS_ENDPOINT_URL_SQS: recorders.sqs.url, AWS_ENDPOINT_URL_SNS: recorders.sns.url });
    });

    afterAll(async () => {
      process.env = saved;
      for (const { server } of Object.values(recorders)) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await db.stop();
    });

    it('reaches DynamoDB at AWS_ENDPOINT_URL_DYNAMODB', async () => {
      const { dynamo } = createAwsClients();
      const item = { ThingID: 'runtime-test/temperature', Timestamp: '2016-09-09T13:33:07.381019Z', Value: 19.5 };
      await dynamo.send(new PutCommand({ TableName: db.tables.things, Item: item }));
      const stored = await db.document.send(new GetCommand({ TableName: db.tables.things, Key: { ThingID: item.ThingID, Timestamp: item.Timestamp } }));
      expect(stored.Item).toEqual(item);
      dynamo.destroy();
    });

    it('reaches SNS at AWS_ENDPOINT_URL_SNS', async () => {
      const { sns } = createAwsClients();
      await expect(sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:alerts', Message: 'x' }))).rejects.toThrow();
      expect(recorders.sns.requests).toHaveLength(1);
      sns.destroy();
    });

    it('gives up on an SNS endpoint that accepts the connection and never answers, instead of hanging past the alert claim', async () => {
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      process.env.AWS_ENDPOINT_URL_SNS = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      // One attempt, so the test waits for one timeout rather than three.
      process.env.AWS_MAX_ATTEMPTS = '1';
      const { sns } = createAwsClients();
      try {
        // Without the request timeout taking effect this would hang past the test's own timeout.
        await expect(sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:alerts', Message: 'x' }))).rejects.toThrow(/timed? ?out/i);
      } finally {
        process.env.AWS_ENDPOINT_URL_SNS = recorders.sns.url;
        delete process.env.AWS_MAX_ATTEMPTS;
        sns.destroy();
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    }, 20_000);

    // ListQueues carries no QueueUrl, which the SQS client would otherwise prefer as its host.
    it('reaches SQS at AWS_ENDPOINT_URL_SQS', async () => {
      const { sqs } = createAwsClients();
      await expect(sqs.send(new ListQueuesCommand({}))).rejects.toThrow();
      expect(recorders.sqs.requests).toHaveLength(1);
      expect(recorders.sqs.requests[0]?.headers['x-amz-target']).toBe('AmazonSQS.ListQueues');
      sqs.destroy();
    });
  });
});
