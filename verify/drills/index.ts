/**
 * The failure drills, in the order `npm run verify` runs them: the pipeline's own faults
 * first (bad, unstorable and dated-ahead records, retried batches, a dependency down, a
 * crash, a flood), then the web app's and the local servers', then everything a user can
 * type wrong.
 */
import type { Drill } from '../drill';
import { alertAcknowledgeDrill } from './alert-acknowledge';
import { alertBurstDrill } from './alert-burst';
import { alertFlappingDrill } from './alert-flapping';
import { alertNoDataDrill } from './alert-no-data';
import { alertSilenceDrill } from './alert-silence';
import { badInputDrill } from './bad-inputs';
import { batchResendDrill } from './batch-resend';
import { consumerKillDrill } from './consumer-kill';
import { dynamodbOutageDrill } from './dynamodb-outage';
import { exactValuesDrill } from './exact-values';
import { failureQueueOnceDrill } from './failure-queue-once';
import { futureReadingsDrill } from './future-readings';
import { localServersDrill } from './local-servers';
import { poisonRecordsDrill } from './poison-records';
import { webTableOutageDrill } from './web-table-outage';

export const DRILLS: readonly Drill[] = [poisonRecordsDrill, exactValuesDrill, futureReadingsDrill, failureQueueOnceDrill, batchResendDrill, dynamodbOutageDrill, consumerKillDrill, alertBurstDrill, alertFlappingDrill, alertAcknowledgeDrill, alertSilenceDrill, alertNoDataDrill, webTableOutageDrill, localServersDrill, badInputDrill];
