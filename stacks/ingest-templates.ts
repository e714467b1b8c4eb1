/** The ingest API's mapping templates (rendered by API Gateway's VTL engine) and its access log format. */

/** `$input.json` re-serialises the reading exactly as the stream record: the object under Data. */
export const putRecordTemplate = (streamName: string): string =>
  [
    '{',
    `  "StreamName": ${JSON.stringify(streamName)},`,
    `  "PartitionKey": $input.json('$.Data.id'),`,
    `  "Data": "$util.base64Encode($input.json('$.Data'))"`,
    '}',
  ].join('\n');

export const putRecordsTemplate = (streamName: string): string =>
  [
    '{',
    `  "StreamName": ${JSON.stringify(streamName)},`,
    '  "Records": [',
    "#foreach($reading in $input.path('$.Data'))",
    // No `${...}` references: Terraform would read them as its own interpolation.
    '#set($readingPath = "$.Data[$foreach.index]")',
    '#set($idPath = "$.Data[$foreach.index].id")',
    '    {"PartitionKey": $input.json($idPath), "Data": "$util.base64Encode($input.json($readingPath))"}#if($foreach.hasNext),#end',
    '#end',
    '  ]',
    '}',
  ].join('\n');

export const putRecordResponse = [
  `{"accepted": 1, "failed": 0, "shardId": "$input.path('$.ShardId')", "sequenceNumber": "$input.path('$.SequenceNumber')"}`,
].join('\n');

/** PutRecords answers 200 even when some records failed: those become a 503 naming the readings to resend. */
export const putRecordsResponse = [
  "#set($results = $input.path('$.Records'))",
  "#set($failed = $input.path('$.FailedRecordCount'))",
  '#set($failedIndexes = [])',
  '#foreach($result in $results)#if("$!result.ErrorCode" != "")#set($ignored = $failedIndexes.add($foreach.index))#end#end',
  '#if($failed > 0)',
  '#set($context.responseOverride.status = 503)',
  '#end',
  '#set($accepted = $results.size() - $failed)',
  '{"accepted": $accepted, "failed": $failed, "failedIndexes": $failedIndexes#if($failed > 0), "message": "some readings were not accepted: send the readings at failedIndexes again"#end}',
].join('\n');

/** Kinesis answers 400 for throttling as well as for bad requests: tell them apart by the error type. */
export const clientErrorResponse = [
  `#set($type = "$!input.path('$.__type')")`,
  "#if($type.contains('ProvisionedThroughputExceeded') || $type.contains('LimitExceeded') || $type.contains('Throttling'))",
  '#set($context.responseOverride.status = 429)',
  '{"message": "the stream is over its write capacity: retry with backoff"}',
  "#elseif($type.contains('ValidationException') || $type.contains('InvalidArgument'))",
  '#set($context.responseOverride.status = 400)',
  `{"message": "the stream rejected the reading: $util.escapeJavaScript("$!input.path('$.message')").replaceAll("\\\\'", "'")"}`,
  '#else',
  '{"message": "the stream is not available: the platform is misconfigured, contact its operators"}',
  '#end',
].join('\n');

export const serverErrorResponse = '{"message": "the stream is temporarily unavailable: retry with backoff"}';

/** Access log line: one JSON object per request. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  apiKeyId: '$context.identity.apiKeyId',
  method: '$context.httpMethod',
  path: '$context.resourcePath',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatencyMs: '$context.integration.latency',
  error: '$context.error.message',
  validationError: '$context.error.validationErrorString',
});
