/**
 * The synthesized stack as the local twin sees it: every resource and data source of
 * `cdktf.out/stacks/<stack>/cdk.tf.json`, with Terraform references resolved to the
 * local values of the resources they point at.
 *
 * This file is the contract between the stack loader (which reads the JSON, assigns
 * local ids, ARNs and URLs, and resolves `${...}` references) and the emulators built
 * from it (API Gateway, Lambda, event source mappings, tables, stream, queues, topics,
 * Firehose, the web app).
 */

/** One resource (`mode: 'managed'`) or data source (`mode: 'data'`) of the stack. */
export interface StackResource {
  readonly mode: 'managed' | 'data';
  /** Terraform type, e.g. `aws_dynamodb_table`. */
  readonly type: string;
  /** Terraform name (the cdktf logical id), e.g. `tables_things`. */
  readonly name: string;
  /** Terraform address, e.g. `aws_dynamodb_table.tables_things` or `data.aws_partition.x`. */
  readonly address: string;
  /**
   * The resource's local `id` attribute: what a `${<address>.id}` reference resolves to,
   * so a reference from another resource can be matched against it.
   */
  readonly id: string;
  /**
   * The arguments as written in the JSON, with every `${...}` reference replaced by its
   * local value. Reading an argument whose reference cannot be resolved throws a
   * `TwinResolutionError` naming this resource and the attribute.
   */
  readonly config: Readonly<Record<string, unknown>>;
}

/** A reference the twin cannot resolve, or a resource type it does not know. */
export class TwinResolutionError extends Error {
  constructor(
    message: string,
    /** Address of the resource being read. */
    readonly address?: string,
    /** The attribute or reference at fault. */
    readonly attribute?: string,
  ) {
    super(message);
    this.name = 'TwinResolutionError';
  }
}

export interface TwinStack {
  /** The `cdk.tf.json` file read. */
  readonly file: string;
  /** Resources (not data sources) of one type, in the order the JSON lists them. */
  resources(type: string): readonly StackResource[];
  /** The resource or data source at an address; throws `TwinResolutionError` if absent. */
  resource(address: string): StackResource;
}
