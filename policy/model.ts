import { TerraformDataSource, TerraformResource, TerraformStack } from 'cdktf';
import type { IConstruct } from 'constructs';
import { asObject } from './values';

// The value helpers the rules use with the model; they live apart, free of cdktf, for the plan review.
export { asObject, block, blocks, isExpression, isSet, isTrue, literalNumber, strings } from './values';

/** A JSON object as it appears in the synthesized Terraform configuration. */
export type Config = Readonly<Record<string, unknown>>;

/** One resource or data source of a stack, with its configuration exactly as Terraform receives it. */
export interface Element {
  readonly kind: 'resource' | 'data';
  /** Terraform type, e.g. `aws_kinesis_stream`. */
  readonly type: string;
  /** Terraform address, e.g. `aws_kinesis_stream.stream` or `data.aws_iam_policy_document.read`. */
  readonly address: string;
  /** Construct path, e.g. `pipeline/stream/stream`. */
  readonly path: string;
  readonly config: Config;
  /** The construct that produced the element (absent only for raw stack overrides). */
  readonly construct?: IConstruct;
}

/** A reference to another element found in an expression, e.g. `${aws_sqs_queue.dlq.arn}`. */
export interface Reference {
  readonly address: string;
  readonly attribute?: string;
}

const EXPRESSION = /\$\{([^]*?)\}/g;
const TRAVERSAL = /(?<![\w.])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*)(?:\.([a-z_][a-z0-9_]*))?/g;

/**
 * The resolved Terraform configuration of one stack, indexed for the rules. Reading the
 * resolved JSON (what `terraform plan` sees) rather than construct properties means tokens
 * are already references like `${aws_sqs_queue.dlq.arn}`, and overrides are included.
 */
export class StackModel {
  readonly elements: readonly Element[];
  private readonly byAddress: ReadonlyMap<string, Element>;

  constructor(
    readonly stackName: string,
    elements: readonly Element[],
  ) {
    this.elements = elements;
    this.byAddress = new Map(elements.map((element) => [element.address, element]));
  }

  static of(stack: TerraformStack): StackModel {
    const constructs = new Map<string, IConstruct>();
    for (const construct of stack.node.findAll()) {
      if (TerraformResource.isTerraformResource(construct)) {
        constructs.set(`${construct.terraformResourceType}.${construct.friendlyUniqueId}`, construct);
      } else if (TerraformDataSource.isTerraformDataSource(construct)) {
        constructs.set(`data.${construct.terraformResourceType}.${construct.friendlyUniqueId}`, construct);
      }
    }
    const terraform = stack.toTerraform() as { resource?: unknown; data?: unknown };
    const elements = [
      ...elementsOf('resource', terraform.resource, '', constructs),
      ...elementsOf('data', terraform.data, 'data.', constructs),
    ];
    return new StackModel(stack.node.id, elements);
  }

  get(address: string): Element | undefined {
    return this.byAddress.get(address);
  }

  resources(type: string): Element[] {
    return this.elements.filter((element) => element.kind === 'resource' && element.type === type);
  }

  dataSources(type: string): Element[] {
    return this.elements.filter((element) => element.kind === 'data' && element.type === type);
  }

  /** Elements of this stack referenced anywhere inside `value` (strings, lists, objects). */
  referencesIn(value: unknown): Reference[] {
    const found: Reference[] = [];
    visitStrings(value, (text) => {
      for (const expression of text.matchAll(EXPRESSION)) {
        for (const match of (expression[1] ?? '').matchAll(TRAVERSAL)) {
          const address = match[1] as string;
          if (this.byAddress.has(address)) found.push({ address, attribute: match[2] });
        }
      }
    });
    return found;
  }

  /** The elements referenced inside `value`, optionally only those of one type. */
  referencedElements(value: unknown, type?: string): Element[] {
    const addresses = new Set(this.referencesIn(value).map((reference) => reference.address));
    return [...addresses]
      .map((address) => this.byAddress.get(address) as Element)
      .filter((element) => type === undefined || element.type === type);
  }

  /** True when `value` references `target` (through `attribute` when given). */
  refersTo(value: unknown, target: Element, attribute?: string): boolean {
    return this.referencesIn(value).some(
      (reference) => reference.address === target.address && (attribute === undefined || reference.attribute === attribute),
    );
  }

  /**
   * True when `value` designates `target`: it references it, or it is the same literal (or the
   * same expression) as the target's naming attribute, e.g. an alarm dimension `FunctionName`
   * equal to the function's `function_name`.
   */
  designates(value: unknown, target: Element, namingAttribute: string): boolean {
    if (this.refersTo(value, target)) return true;
    const name = target.config[namingAttribute];
    return typeof value === 'string' && typeof name === 'string' && value === name;
  }
}

function elementsOf(
  kind: Element['kind'],
  section: unknown,
  prefix: string,
  constructs: ReadonlyMap<string, IConstruct>,
): Element[] {
  const elements: Element[] = [];
  for (const [type, byName] of Object.entries(asObject(section))) {
    for (const [name, raw] of Object.entries(asObject(byName))) {
      const { '//': meta, ...config } = asObject(raw);
      const address = `${prefix}${type}.${name}`;
      const metadata = asObject(asObject(meta)['metadata']);
      const path = typeof metadata['path'] === 'string' ? metadata['path'] : address;
      elements.push({ kind, type, address, path, config, construct: constructs.get(address) });
    }
  }
  return elements;
}

function visitStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((item) => visitStrings(item, visit));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((item) => visitStrings(item, visit));
}
