/**
 * The ingest API's stage and paths: plain constants, free of cdktf, shared by the API
 * Gateway construct (stacks/ingest-api.ts) and the tools and drills that call it without
 * loading the stack (the local platform serves whatever paths the synthesized stack has).
 */

/** Path of the ingest resource sensors PUT to, and of the batch resource below it. */
export const INGEST_PATH = 'thingsstream';
export const BATCH_PATH = 'batch';
export const STAGE_NAME = 'prod';

/** The paths a client calls below the API's host: PUT one reading (PutRecord), POST a batch (PutRecords). */
export const INGEST_PATHS = {
  single: `/${STAGE_NAME}/${INGEST_PATH}`,
  batch: `/${STAGE_NAME}/${INGEST_PATH}/${BATCH_PATH}`,
} as const;
