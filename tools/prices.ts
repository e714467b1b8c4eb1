/**
 * The list prices `npm run cost` multiplies the measured units by: one region, the date
 * they were taken down, and the page each comes from. Prices change and differ by region
 * (the stacks deploy to eu-west-2 unless told otherwise, where most of these are higher):
 * check the pages, or the AWS Pricing Calculator, before relying on a total.
 *
 * "GB" on AWS price pages is taken as 2^30 bytes throughout.
 *
 * Written down on the date below without live access to the pages: the DynamoDB figures
 * and the billing rules were confirmed against copies of the pages; the Kinesis, API
 * Gateway, Lambda and Firehose figures are those the earlier hand estimate in
 * docs/deploy.md used; the rest are the pages' long-standing us-east-1 figures. Re-check
 * each against its page when updating the date.
 */
export interface PriceTable {
  readonly region: string;
  /** When the figures were written down (YYYY-MM-DD). */
  readonly checked: string;
  readonly apiGateway: { readonly perMillionRequests: number; readonly source: string };
  readonly kinesis: {
    readonly shardHour: number;
    readonly perMillionPutPayloadUnits: number;
    readonly onDemandStreamHour: number;
    readonly onDemandPerGbIn: number;
    readonly onDemandPerGbOut: number;
    readonly source: string;
  };
  readonly dynamodb: {
    readonly perMillionWriteRequestUnits: number;
    readonly perMillionReadRequestUnits: number;
    readonly writeCapacityUnitHour: number;
    readonly readCapacityUnitHour: number;
    readonly source: string;
  };
  readonly lambda: { readonly perMillionRequests: number; readonly perGbSecond: { readonly arm64: number; readonly x86_64: number }; readonly source: string };
  readonly firehose: { readonly perGbIngested: number; readonly source: string };
  readonly s3: { readonly perThousandPuts: number; readonly source: string };
  readonly ec2: { readonly instanceHour: Readonly<Record<string, number>>; readonly source: string };
  readonly loadBalancer: { readonly hour: number; readonly lcuHour: number; readonly source: string };
  readonly athena: { readonly perTbScanned: number; readonly source: string };
}

/** us-east-1 list prices, first tier of each, on-demand (no savings plans or reserved capacity). */
export const PRICES: PriceTable = {
  region: 'us-east-1',
  checked: '2026-11-30',
  apiGateway: { perMillionRequests: 3.5, source: 'https://aws.amazon.com/api-gateway/pricing/' },
  kinesis: {
    shardHour: 0.015,
    perMillionPutPayloadUnits: 0.014,
    onDemandStreamHour: 0.04,
    onDemandPerGbIn: 0.08,
    onDemandPerGbOut: 0.04,
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
  },
  dynamodb: {
    perMillionWriteRequestUnits: 0.625,
    perMillionReadRequestUnits: 0.125,
    writeCapacityUnitHour: 0.00065,
    readCapacityUnitHour: 0.00013,
    source: 'https://aws.amazon.com/dynamodb/pricing/',
  },
  lambda: { perMillionRequests: 0.2, perGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 }, source: 'https://aws.amazon.com/lambda/pricing/' },
  firehose: { perGbIngested: 0.029, source: 'https://aws.amazon.com/firehose/pricing/' },
  s3: { perThousandPuts: 0.005, source: 'https://aws.amazon.com/s3/pricing/' },
  ec2: {
    instanceHour: { 't3.micro': 0.0104, 't3.small': 0.0208, 't3.medium': 0.0416, 't3.large': 0.0832, 't4g.micro': 0.0084, 't4g.small': 0.0168, 't4g.medium': 0.0336 },
    source: 'https://aws.amazon.com/ec2/pricing/on-demand/',
  },
  loadBalancer: { hour: 0.0225, lcuHour: 0.008, source: 'https://aws.amazon.com/elasticloadbalancing/pricing/' },
  athena: { perTbScanned: 5, source: 'https://aws.amazon.com/athena/pricing/' },
};
