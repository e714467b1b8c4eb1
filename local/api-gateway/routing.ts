/**
 * Finding the stage, resource and method a request path names. Resource path parts match
 * segment by segment, case-sensitively, after percent-decoding; `{name}` takes one segment,
 * `{name+}` the rest. Literal parts win over parameters. A trailing slash is ignored.
 */
import type { MethodDefinition, ResourceNode, RestApiDefinition, StageDefinition } from './definition';

export interface Route {
  readonly stage: StageDefinition;
  readonly resource: ResourceNode;
  readonly method: MethodDefinition;
  readonly pathParameters: Readonly<Record<string, string>>;
}

function decodeSegments(path: string): string[] | undefined {
  const segments = path.split('/').slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  try {
    return segments.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
}

function match(node: ResourceNode, segments: readonly string[], parameters: Record<string, string>): ResourceNode | undefined {
  if (segments.length === 0) return node;
  const [head, ...rest] = segments as [string, ...string[]];
  const literal = node.children.find((child) => child.pathPart === head);
  const found = literal === undefined ? undefined : match(literal, rest, parameters);
  if (found !== undefined) return found;
  for (const child of node.children) {
    const parameter = /^\{([^}+]+)(\+?)\}$/.exec(child.pathPart);
    if (parameter === null) continue;
    if (parameter[2] === '+') {
      parameters[parameter[1] as string] = segments.join('/');
      return child;
    }
    const inner = match(child, rest, parameters);
    if (inner !== undefined) {
      parameters[parameter[1] as string] = head;
      return inner;
    }
  }
  return undefined;
}

/** The route of `httpMethod path`, or undefined: API Gateway then answers MISSING_AUTHENTICATION_TOKEN. */
export function findRoute(api: RestApiDefinition, httpMethod: string, path: string): Route | undefined {
  const segments = decodeSegments(path);
  if (segments === undefined || segments.length === 0) return undefined;
  const stage = api.stages.get(segments[0] as string);
  if (stage === undefined) return undefined;
  const pathParameters: Record<string, string> = {};
  const resource = match(api.root, segments.slice(1), pathParameters);
  const method = resource?.methods.get(httpMethod.toUpperCase()) ?? resource?.methods.get('ANY');
  return resource === undefined || method === undefined ? undefined : { stage, resource, method, pathParameters };
}
