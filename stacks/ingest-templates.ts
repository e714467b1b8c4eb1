/** The ingest API's mapping templates (rendered by API Gateway's VTL engine) and its access log format. */
import { BATCH_BUCKET_LIMITS } from './construct-defaults';


/** Kinesis's hash-key space: the MD5 of a partition key, or an explicit hash key, is a 128-bit number. */
const HASH_KEY_SPACE = 2n ** 128n;

/**
 * The explicit hash key of bucket `bucket` of `buckets`: the middle of its even share of the
 * hash-key range. CreateStream splits the range evenly, so on a stream of `buckets` shards
 * bucket b lands on shard b; one hash key always lands on exactly one shard, so a bucket's
 * readings (and so a thing's) stay on one shard whatever the stream's shards become.
 */
export const bucketHashKey = (bucket: number, buckets: number): string => ((HASH_KEY_SPACE * BigInt(2 * bucket + 1)) / BigInt(2 * buckets)).toString();

/**
 * Whether the template may call `hashCode()`: API Gateway does not document which Java
 * methods its Velocity lets through, so the templates ask once (`"a".hashCode()` is 97).
 */
const HASH_CODE_PROBE = ['#set($probe = "a")', '#if("$!probe.hashCode()" == "97")'];

/** `$hashKeys`: bucket number → its explicit hash key, as a Velocity list. */
const hashKeyList = (buckets: number): string =>
  `#set($hashKeys = [${Array.from({ length: buckets }, (_, bucket) => JSON.stringify(bucketHashKey(bucket, buckets))).join(', ')}])`;

/** `$bucket` = floorMod(`idReference`.hashCode(), buckets): Velocity's `%` keeps the sign, so a negative remainder is corrected. */
const bucketOf = (idReference: string, buckets: number): string[] => [
  `#set($bucket = ${idReference}.hashCode() % ${buckets})`,
  `#if($bucket < 0)#set($bucket = $bucket + ${buckets})#end`,
];

/**
 * One reading, one record: `$input.json` re-serialises it exactly as the stream record (the
 * object under Data). Its explicit hash key is its thing's bucket's, as in a batch, so a
 * thing's single PUTs and batches share a shard and stay in order; where `hashCode()` is not
 * available the thing id alone places it (partition key), as before packing.
 */
export const putRecordTemplate = (streamName: string, buckets: number): string =>
  [
    '{',
    `  "StreamName": ${JSON.stringify(streamName)},`,
    `  "PartitionKey": $input.json('$.Data.id'),`,
    ...HASH_CODE_PROBE,
    hashKeyList(buckets),
    ...bucketOf("$input.path('$.Data.id')", buckets),
    '  "ExplicitHashKey": "$hashKeys.get($bucket)",',
    '#end',
    `  "Data": "$util.base64Encode($input.json('$.Data'))"`,
    '}',
  ].join('\n');

/** Kinesis's largest record, data and partition key together (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html). */
export const KINESIS_MAX_RECORD_BYTES = 1_048_576;
/** UTF-8 bytes one UTF-16 unit can take at most (a surrogate pair, two units, takes 4). */
const MAX_UTF8_BYTES_PER_UNIT = 3;
/** The brackets of a record's array and its partition key (the bucket number, at most 3 digits). */
const RECORD_FRAME_BYTES = 2 + String(BATCH_BUCKET_LIMITS.max - 1).length;
/** Bytes of reading JSON (each with its comma) a record may take: its whole size then stays within Kinesis's limit. */
export const RECORD_READING_BUDGET_BYTES = KINESIS_MAX_RECORD_BYTES - RECORD_FRAME_BYTES;

/**
 * A batch packed into few records: readings are grouped into `buckets` buckets by thing id
 * (Java's `String.hashCode()` of the id, floorMod `buckets`: Velocity's `%` keeps the sign,
 * so a negative remainder is corrected), and each bucket's readings become records whose data is a JSON array of the
 * readings, each re-serialised by `$input.json` exactly as a single PUT's record, and whose
 * explicit hash key is the bucket's (bucketHashKey). A bucket starts another record before
 * its readings could pass Kinesis's record limit: each reading counts 3 bytes per UTF-16
 * unit of its JSON (what no character exceeds in UTF-8) plus its comma. The schema does not
 * bound a reading's size (a numeric string may carry any number of padding zeros), so the
 * template measures each one instead of assuming a worst case; a reading that alone passes
 * the limit gets a record of its own, which Kinesis refuses, as it refused it before packing.
 *
 * Whether API Gateway lets a template call `hashCode()` is not documented. The template
 * probes it once (`"a".hashCode()` is 97) and, if the call renders nothing, puts one record
 * per reading keyed by thing id, as before packing: correct and spread over the shards,
 * only dearer. So a deployment where the call is blocked loses the saving, never a reading.
 */
export const putRecordsTemplate = (streamName: string, buckets: number): string => {
  return [
    ...HASH_CODE_PROBE,
    hashKeyList(buckets),
    // Per bucket: 1 + the index in $records of the record it is filling (0: none yet), and the bytes in it.
    '#set($records = [])',
    '#set($recordBuckets = [])',
    '#set($openRecord = [])',
    '#set($openBytes = [])',
    '#foreach($hashKey in $hashKeys)#set($ignored = $openRecord.add(0))#set($ignored = $openBytes.add(0))#end',
    "#foreach($reading in $input.path('$.Data'))",
    ...bucketOf('$reading.id', buckets),
    // No `${...}` references: Terraform would read them as its own interpolation.
    '#set($readingPath = "$.Data[$foreach.index]")',
    '#set($json = $input.json($readingPath))',
    `#set($bytes = $json.length() * ${MAX_UTF8_BYTES_PER_UNIT} + 1)`,
    '#set($open = $openRecord.get($bucket))',
    '#set($filled = $openBytes.get($bucket) + $bytes)',
    `#if($open == 0 || $filled > ${RECORD_READING_BUDGET_BYTES})`,
    '#set($ignored = $records.add([]))',
    '#set($ignored = $recordBuckets.add($bucket))',
    '#set($open = $records.size())',
    '#set($ignored = $openRecord.set($bucket, $open))',
    '#set($filled = $bytes)',
    '#end',
    '#set($ignored = $openBytes.set($bucket, $filled))',
    '#set($index = $open - 1)',
    '#set($ignored = $records.get($index).add($json))',
    '#end',
    '{',
    `  "StreamName": ${JSON.stringify(streamName)},`,
    '  "Records": [',
    '#foreach($record in $records)',
    '#set($bucket = $recordBuckets.get($foreach.index))',
    '#set($more = $foreach.hasNext)',
    '#set($data = "")',
    '#foreach($json in $record)#if($data == "")#set($data = $json)#else#set($data = "$data,$json")#end#end',
    '    {"PartitionKey": "$bucket", "ExplicitHashKey": "$hashKeys.get($bucket)", "Data": "$util.base64Encode("[$data]")"}#if($more),#end',
    '#end',
    '  ]',
    '}',
    '#else',
    '{',
    `  "StreamName": ${JSON.stringify(streamName)},`,
    '  "Records": [',
    "#foreach($reading in $input.path('$.Data'))",
    '#set($readingPath = "$.Data[$foreach.index]")',
    '#set($idPath = "$.Data[$foreach.index].id")',
    '    {"PartitionKey": $input.json($idPath), "Data": "$util.base64Encode($input.json($readingPath))"}#if($foreach.hasNext),#end',
    '#end',
    '  ]',
    '}',
    '#end',
  ].join('\n');
};

export const putRecordResponse = [
  `{"accepted": 1, "failed": 0, "shardId": "$input.path('$.ShardId')", "sequenceNumber": "$input.path('$.SequenceNumber')"}`,
].join('\n');

/**
 * PutRecords answers 200 even when some records failed. The answer cannot name the readings
 * of a failed record (a response template does not see the request), so any failed record
 * makes a 503 asking for the whole batch again: readings already on the stream are stored
 * once however often they come (the things table is keyed by series and time).
 */
export const putRecordsResponse = [
  "#set($failed = $input.path('$.FailedRecordCount'))",
  "#set($records = $input.path('$.Records').size())",
  '#if($failed > 0)',
  '#set($context.responseOverride.status = 503)',
  '{"records": $records, "failedRecords": $failed, "message": "the stream did not take every record of this batch: send the whole batch again, with backoff (readings already taken are stored once)"}',
  '#else',
  '{"records": $records, "failedRecords": 0}',
  '#end',
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
