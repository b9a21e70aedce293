/** The one internal model every dialect normalizes into (SPEC §2). */

export type YamlPath = readonly (string | number)[];

export interface SourceLocation {
  file?: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export const Dialect = { concise: "concise", compositeEra: "composite-era", flowEra: "flow-era" } as const;
export type Dialect = (typeof Dialect)[keyof typeof Dialect];

export const OnError = { fail: "fail", continue: "continue", route: "route" } as const;
export type OnError = (typeof OnError)[keyof typeof OnError];

export interface RetryPolicy {
  /** Total attempts including the first (>= 1). */
  attempts: number;
  /** Base delay in ms. */
  delay: number;
  backoff: "fixed" | "exponential";
  maxDelay?: number;
  /** 0..1: the fraction of the delay randomised. `true` means 1. */
  jitter: number;
  /** Only retry errors with these codes (default: every retryable error). */
  on?: string[];
}

export interface VariableSpec {
  type: "string" | "number" | "boolean" | "object" | "array" | "any";
  default?: unknown;
  description?: string;
}

export interface CompositeSettings {
  /** Whole-run timeout in ms. */
  timeout?: number;
  concurrency?: number;
  workdir?: string;
}

export interface CompositeNode {
  id: string;
  type: string;
  name?: string;
  parameters: Record<string, unknown>;
  timeout?: number;
  retry?: RetryPolicy;
  onError: OnError;
  if?: string;
  enabled: boolean;
  isolation?: "vm" | "worker";
  /** group only: path of another composite file, relative to the file that contains it. */
  ref?: string;
  /** Container nodes (loop, group, parallel): the nested graph. */
  body?: CompositeBody;
  /** Where the node is declared. */
  path: YamlPath;
  /** Where its parameter values live (`parameters` or the editor's `data`). */
  parametersPath: YamlPath;
  loc?: SourceLocation;
}

export interface CompositeEdge {
  id?: string;
  source: string;
  /** Undefined means the source's primary output. */
  sourcePort?: string;
  target: string;
  /** Undefined means the target's primary input. */
  targetPort?: string;
  path: YamlPath;
  loc?: SourceLocation;
}

/** Where a path is in the source. */
export interface LocateOptions {
  /** The key's position instead of the value's. */
  key?: boolean;
  /** A character offset into the string value at the path (a position inside a code block or template). */
  offset?: number;
}

export type Locator = (path: YamlPath, options?: LocateOptions) => SourceLocation;

export interface CompositeBody {
  nodes: CompositeNode[];
  edges: CompositeEdge[];
  /** Locates paths of this body's nodes and edges (set when the body comes from another file via `ref:`). */
  locate?: Locator;
}

export interface Composite extends CompositeBody {
  id: string;
  name: string;
  description?: string;
  version?: string;
  /** Absolute path of the file it was loaded from. */
  file?: string;
  dialect: Dialect;
  variables: Record<string, VariableSpec>;
  settings: CompositeSettings;
  /** Names of env vars whose values are redacted everywhere. */
  secrets: string[];
}

/** Every node id of a composite, bodies included. */
export function allNodeIds(body: CompositeBody, out: string[] = []): string[] {
  for (const n of body.nodes) {
    out.push(n.id);
    if (n.body) allNodeIds(n.body, out);
  }
  return out;
}
