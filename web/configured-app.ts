/**
 * What the web app is built from, given its configuration and a DynamoDB client: the one
 * recipe the container (server.ts) and the local platform's twin of the ECS service share,
 * so a setting the task definition carries reaches both.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoAlertConsole } from './alert-console';
import type { AppDependencies } from './app';
import { identityOf, type WebConfig } from './config';
import { createDynamoRepository } from './dynamo-repository';

export function configuredDependencies(config: WebConfig, client: DynamoDBDocumentClient): Pick<AppDependencies, 'repository' | 'alertConsole' | 'identity' | 'rollupRetentionDays'> {
  return {
    repository: createDynamoRepository({ client, tables: config.tables, seriesCacheSeconds: config.seriesCacheSeconds }),
    alertConsole: createDynamoAlertConsole({ client, tables: config.tables }),
    identity: identityOf(config),
    rollupRetentionDays: config.rollupRetentionDays,
  };
}
