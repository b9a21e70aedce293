import type { z } from "zod";
import { ErrorCode } from "../errors.js";
import { EDITOR_DATA_KEYS, resolveParameterValues } from "./descriptors.js";
import { extractLoopBodies } from "./loop-bodies.js";
import type { Composite, CompositeBody, CompositeEdge, CompositeNode, Dialect, RetryPolicy, SourceLocation, VariableSpec, YamlPath } from "./model.js";
import { parseEdgeShorthand } from "./parse-edge.js";
import { formatPath, makeProblem, type Problem } from "./problem.js";
import {
  EDITOR_EDGE_KEYS, EDITOR_NODE_KEYS, EDITOR_TOP_KEYS, KNOWN_EDGE_KEYS, KNOWN_NODE_KEYS, KNOWN_SETTINGS_KEYS,
  KNOWN_RETRY_KEYS, KNOWN_TOP_KEYS, KNOWN_VARIABLE_KEYS, NODE_ID_PATTERN, NodeControlSchema, SettingsSchema, TopLevelSchema, VariableSchema,
} from "./raw-schema.js";
import { checkRootType } from "./root-type.js";
import { didYouMean } from "./suggest.js";
import { describeValue } from "../js/duration.js";

export interface NormalizeContext {
  file?: string;
  locate(path: YamlPath, options?: { key?: boolean }): SourceLocation;
}

export interface NormalizeResult {
  composite?: Composite;
  problems: Problem[];
}

/** Detect which of the accepted dialects a document is written in (SPEC §2.2). */
export function detectDialect(doc: Record<string, unknown>): Dialect {
  if (doc.type === "composite") return "composite-era";
  if (doc.type === "group") return "flow-era";
  const nodes = Array.isArray(doc.nodes) ? doc.nodes : [];
  const editorish = nodes.some((n) => typeof n === "object" && n !== null && ("data" in n || "position" in n || "inputPorts" in n));
  return editorish ? "composite-era" : "concise";
}

/** Turn a parsed YAML value in any accepted dialect into one `Composite`, collecting problems. */
export function normalizeComposite(raw: unknown, ctx: NormalizeContext): NormalizeResult {
  const problems: Problem[] = [];
  const at = (path: YamlPath, key = false) => ctx.locate(path, { key });
  const push = (code: string, message: string, path: YamlPath, hint?: string, key = false) =>
    problems.push(makeProblem(code, message, at(path, key), { hint, path }));

  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    push(ErrorCode.SCHEMA, "a composite must be a YAML mapping with at least `nodes:`", [], "start from `atomiton init` or see README “A composite”");
    return { problems };
  }
  const doc = raw as Record<string, unknown>;
  const dialect = detectDialect(doc);
  const editor = dialect !== "concise";

  reportZod(TopLevelSchema.safeParse(doc), [], push);
  checkKeys(doc, [], KNOWN_TOP_KEYS, EDITOR_TOP_KEYS, push);
  checkRootType(doc.type, push);

  const variables: Record<string, VariableSpec> = {};
  if (doc.variables && typeof doc.variables === "object") {
    for (const [name, spec] of Object.entries(doc.variables as Record<string, unknown>)) {
      const parsed = VariableSchema.safeParse(spec);
      if (isRecord(spec)) checkKeys(spec, ["variables", name], KNOWN_VARIABLE_KEYS, [], push);
      if (!parsed.success) {
        reportZod(parsed, ["variables", name], push);
        // Still declared, so templates that use it are not reported a second time (E_REF).
        variables[name] = { type: "any" };
        continue;
      }
      variables[name] = toVariable(parsed.data);
    }
  }

  const settings: Composite["settings"] = {};
  if (doc.settings && typeof doc.settings === "object") {
    const s = doc.settings as Record<string, unknown>;
    const parsed = SettingsSchema.safeParse(s);
    if (parsed.success) {
      const v = parsed.data;
      const timeout = v.timeout ?? (v.runtime?.timeout as number | undefined);
      if (timeout !== undefined) settings.timeout = timeout;
      if (v.concurrency !== undefined) settings.concurrency = v.concurrency;
      if (v.workdir !== undefined) settings.workdir = v.workdir;
      const runtime = s.runtime as Record<string, unknown> | undefined;
      for (const k of Object.keys(runtime ?? {})) {
        if (k !== "timeout") push("W_EDITOR_SETTING", `settings.runtime.${k} is an editor setting and is ignored`, ["settings", "runtime", k], "use settings.concurrency to control parallelism", true);
      }
    } else {
      reportZod(parsed, ["settings"], push);
    }
    checkKeys(s, ["settings"], [...KNOWN_SETTINGS_KEYS, "runtime"], ["ui"], push);
  }

  const body = normalizeBody(doc, [], editor, push);
  const composite: Composite = {
    id: doc.id !== undefined ? String(doc.id) : slug(typeof doc.name === "string" ? doc.name : "", ctx.file),
    name: typeof doc.name === "string" ? doc.name : doc.id !== undefined ? String(doc.id) : slug("", ctx.file),
    dialect,
    variables,
    settings,
    secrets: Array.isArray(doc.secrets) ? doc.secrets.filter((s): s is string => typeof s === "string") : [],
    nodes: body.nodes,
    edges: body.edges,
  };
  if (typeof doc.description === "string") composite.description = doc.description;
  if (doc.version !== undefined) composite.version = String(doc.version);
  if (ctx.file !== undefined) composite.file = ctx.file;
  for (const n of allNodes(composite)) n.loc = at(n.path);
  for (const e of allEdges(composite)) e.loc = at(e.path);
  return { composite, problems };
}

type Push = (code: string, message: string, path: YamlPath, hint?: string, key?: boolean) => void;

function normalizeBody(container: Record<string, unknown>, base: YamlPath, editor: boolean, push: Push): CompositeBody {
  // Paths kept on every node and edge are made with concat (exactly sized): a spread `[...base, k, i]`
  // reserves room to grow, which over 100k nodes is megabytes of empty slots.
  const nodes: CompositeNode[] = [];
  // Ids of nodes already reported as unreadable: edges to them would only repeat that problem.
  const broken = new Set<string>();
  const rawNodes = Array.isArray(container.nodes) ? container.nodes : [];
  rawNodes.forEach((rawNode, i) => {
    const node = normalizeNode(rawNode, base.concat("nodes", i), editor, push);
    if (node) nodes.push(node);
    else if (isRecord(rawNode) && (typeof rawNode.id === "string" || typeof rawNode.id === "number")) broken.add(String(rawNode.id));
  });
  const edges: CompositeEdge[] = [];
  // Without a readable node list (already an E_SCHEMA), every edge would dangle.
  const rawEdges = Array.isArray(container.edges) && (Array.isArray(container.nodes) || container.nodes === undefined) ? container.edges : [];
  rawEdges.forEach((rawEdge, i) => {
    const edge = normalizeEdge(rawEdge, base.concat("edges", i), push);
    if (edge && !broken.has(edge.source) && !broken.has(edge.target)) edges.push(edge);
  });
  const body = { nodes, edges };
  if (editor) extractLoopBodies(body);
  return body;
}

function normalizeNode(raw: unknown, path: YamlPath, editor: boolean, push: Push): CompositeNode | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    push(ErrorCode.SCHEMA, `${formatPath(path)}: expected a node mapping with \`id\` and \`type\``, path);
    return undefined;
  }
  const n = raw as Record<string, unknown>;
  checkKeys(n, path, KNOWN_NODE_KEYS, EDITOR_NODE_KEYS, push);
  if (isRecord(n.retry)) checkKeys(n.retry, [...path, "retry"], KNOWN_RETRY_KEYS, [], push);
  let v: NodeControl | undefined;
  if (plainControls(n)) {
    v = n as NodeControl;
  } else {
    const parsed = NodeControlSchema.safeParse(n);
    if (!parsed.success) {
      reportZod(parsed, path, push);
      if (typeof n.id !== "string" || typeof n.type !== "string") return undefined;
    }
    v = parsed.success ? parsed.data : soundControls(n);
  }
  // Descriptors exist only in editor files; in the concise form an object value is always a value.
  const { values, fromData } = editor
    ? resolveParameterValues(isRecord(n.parameters) ? n.parameters : undefined, isRecord(n.data) ? n.data : undefined)
    : { values: { ...(isRecord(n.parameters) ? n.parameters : {}) }, fromData: false };
  if (fromData) for (const k of EDITOR_DATA_KEYS) delete values[k];
  const node: CompositeNode = {
    id: n.id as string,
    type: n.type as string,
    parameters: values,
    onError: v?.onError ?? "fail",
    enabled: v?.enabled ?? true,
    path,
    parametersPath: path.concat(fromData ? "data" : "parameters"),
  };
  if (typeof n.name === "string") node.name = n.name;
  if (v?.timeout !== undefined) node.timeout = v.timeout;
  if (v?.retry !== undefined) node.retry = toRetry(v.retry);
  if (v?.if !== undefined) node.if = String(v.if);
  if (v?.isolation !== undefined) node.isolation = v.isolation;
  if (v?.ref !== undefined) node.ref = v.ref;
  if (Array.isArray(n.nodes) || Array.isArray(n.edges)) {
    // The ref's file would replace them without a word.
    if (v?.ref !== undefined) push(ErrorCode.SCHEMA, `node "${node.id}": a group takes nested \`nodes\` or a \`ref:\` to another file, not both`, [...path, Array.isArray(n.nodes) ? "nodes" : "edges"], "keep one: the ref's file replaces the nested nodes", true);
    else node.body = normalizeBody(n, path, editor, push);
  }
  return node;
}

type NodeControl = z.output<typeof NodeControlSchema>;

/**
 * The control fields of a node that fails its schema which are sound each on their own: a wrong
 * `timeout` must not drop the node's `ref:` (it was then "a group needs nested nodes or a ref") or
 * its `if:` (whose problems went unreported): every problem at once.
 */
function soundControls(n: Record<string, unknown>): NodeControl {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(NodeControlSchema.shape)) {
    if (n[key] === undefined) continue;
    const parsed = schema.safeParse(n[key]);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as NodeControl;
}

/**
 * True when `NodeControlSchema` would accept the node's control fields as they are: nothing to
 * convert (no \`timeout\`, no \`retry\`) and every other field of its type. Its parse is then skipped:
 * it copies every node's parameters, which was a third of normalizing a big composite. Anything
 * else (any doubt) goes through zod, which reports the problems.
 */
export function plainControls(n: Record<string, unknown>): boolean {
  return (
    typeof n.id === "string" && NODE_ID_PATTERN.test(n.id) &&
    typeof n.type === "string" && n.type.length > 0 &&
    (n.name === undefined || typeof n.name === "string") &&
    (n.description === undefined || typeof n.description === "string") &&
    plainRecordOrNull(n.parameters) && plainRecordOrNull(n.data) &&
    n.timeout === undefined && n.retry === undefined &&
    (n.onError === undefined || n.onError === "fail" || n.onError === "continue" || n.onError === "route") &&
    (n.if === undefined || typeof n.if === "string" || typeof n.if === "boolean") &&
    (n.enabled === undefined || typeof n.enabled === "boolean") &&
    (n.isolation === undefined || n.isolation === "vm" || n.isolation === "worker") &&
    (n.ref === undefined || (typeof n.ref === "string" && n.ref.length > 0)) &&
    (n.nodes === undefined || Array.isArray(n.nodes)) &&
    (n.edges === undefined || Array.isArray(n.edges))
  );
}

/** Absent, null, or what zod's `record` takes: a plain object. */
function plainRecordOrNull(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v !== "object" || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function normalizeEdge(raw: unknown, path: YamlPath, push: Push): CompositeEdge | undefined {
  if (typeof raw === "string") {
    const ends = parseEdgeShorthand(raw);
    if (!ends) {
      push(ErrorCode.SCHEMA, `${formatPath(path)}: cannot read edge ${JSON.stringify(raw)}`, path, 'write "source -> target" or "source.port -> target.port"');
      return undefined;
    }
    // Built property by property, not `{ ...ends, path }`: past a hundred or so edges V8's generic
    // spread gave every edge a hidden class of its own (about 1 KB per edge of a big composite).
    const edge: CompositeEdge = { source: ends.source, target: ends.target, path };
    if (ends.sourcePort !== undefined) edge.sourcePort = ends.sourcePort;
    if (ends.targetPort !== undefined) edge.targetPort = ends.targetPort;
    return edge;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    push(ErrorCode.SCHEMA, `${formatPath(path)}: expected an edge ("a -> b" or { source, target })`, path);
    return undefined;
  }
  const e = raw as Record<string, unknown>;
  checkKeys(e, path, KNOWN_EDGE_KEYS, EDITOR_EDGE_KEYS, push);
  const source = endpoint(e.source);
  const target = endpoint(e.target);
  if (!source || !target) {
    const got = (v: unknown): string => (v === undefined ? "" : `, got ${describeValue(v)}`);
    if (!source) push(ErrorCode.SCHEMA, `${formatPath(path)}: edge needs a \`source\` node id${got(e.source)}`, [...path, "source"]);
    if (!target) push(ErrorCode.SCHEMA, `${formatPath(path)}: edge needs a \`target\` node id${got(e.target)}`, [...path, "target"]);
    return undefined;
  }
  const edge: CompositeEdge = { source: source.id, target: target.id, path };
  if (typeof e.id === "string") edge.id = e.id;
  // A port that is not a name (`sourceHandle: 5`) was dropped without a word: the edge used the primary port.
  for (const key of ["sourceHandle", "sourcePort", "targetHandle", "targetPort"]) {
    if (e[key] !== undefined && e[key] !== null && typeof e[key] !== "string") push(ErrorCode.SCHEMA, `${formatPath([...path, key])}: expected a port name, got ${describeValue(e[key])}`, [...path, key], "a port is named by a string, e.g. `output`; leave it out for the node's primary port");
  }
  const sp = str(e.sourceHandle) ?? str(e.sourcePort) ?? source.port;
  const tp = str(e.targetHandle) ?? str(e.targetPort) ?? target.port;
  if (sp !== undefined) edge.sourcePort = sp;
  if (tp !== undefined) edge.targetPort = tp;
  return edge;
}

function endpoint(v: unknown): { id: string; port?: string } | undefined {
  if (typeof v === "string" && v.length > 0) return { id: v };
  if (isRecord(v) && typeof v.nodeId === "string") {
    const port = str(v.portId);
    return port === undefined ? { id: v.nodeId } : { id: v.nodeId, port };
  }
  return undefined;
}

/** Hints for keys people write that are spelled otherwise, or live elsewhere (too far apart for did-you-mean). */
const MISNAMED: Readonly<Record<string, string>> = {
  retries: 'did you mean "retry"?',
  dependsOn: "a node's dependencies are edges of its graph: `edges: [a -> b]` beside `nodes:`",
  depends_on: "a node's dependencies are edges of its graph: `edges: [a -> b]` beside `nodes:`",
  needs: "a node's dependencies are edges of its graph: `edges: [a -> b]` beside `nodes:`",
};

function checkKeys(obj: Record<string, unknown>, path: YamlPath, known: readonly string[], editorKeys: readonly string[], push: Push): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key) || editorKeys.includes(key)) continue;
    const hint = (Object.hasOwn(MISNAMED, key) ? MISNAMED[key] : undefined) ?? didYouMean(key, known);
    push("W_UNKNOWN_KEY", `unknown key \`${key}\` in ${formatPath(path) || "the composite"} is ignored`, [...path, key], hint || `known keys: ${known.join(", ")}`, true);
  }
}

function reportZod(result: z.ZodSafeParseResult<unknown>, base: YamlPath, push: Push): void {
  if (result.success) return;
  for (const issue of expandUnions(result.error.issues)) {
    const path = [...base, ...(issue.path as (string | number)[])];
    const where = formatPath(path);
    push(ErrorCode.SCHEMA, `${where ? `${where}: ` : ""}${issue.message}`, path, schemaHint(path));
  }
}

/** A fix hint for a shape error, by where it is (SPEC §2.3: every problem has one). */
function schemaHint(path: YamlPath): string {
  const last = path[path.length - 1];
  // First: a variable may be named `timeout` or `type` too.
  if (path[0] === "variables") return last === "type" ? "a variable's type is string, number, boolean, object, array or any" : "a variable is { type, default, description } or just its default value";
  if (last === "timeout" || last === "delay" || last === "maxDelay") return 'durations are milliseconds or strings like "250ms", "30s", "5m", "1h"';
  if (last === "retry" || path.includes("retry")) return "retry: 3, or { attempts, delay, backoff: fixed|exponential, maxDelay, jitter, on: [codes] }";
  if (last === "onError") return "onError is fail, continue or route";
  if (last === "id") return "node ids use letters, digits, `_` and `-`, and are unique";
  if (last === "type") return "run `atomiton nodes` to list the node types";
  if (path[0] === "settings") return "settings: { timeout, concurrency, workdir }";
  if (path[0] === "edges") return 'an edge is "a -> b", "a.port -> b.port" or { source, target }';
  return "see README “The format” or run `atomiton schema` for the exact shape";
}

/**
 * zod reports a failed union as a bare "Invalid input". Report the issues of the one alternative
 * the value was meant for (the only one not failing on its type at the root) instead, or list the expected types.
 */
function expandUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union" || issue.errors.length === 0) return [issue];
    const rootTypeOnly = (branch: z.core.$ZodIssue[]) => branch.every((i) => i.code === "invalid_type" && i.path.length === 0);
    const meant = issue.errors.filter((branch) => !rootTypeOnly(branch));
    if (meant.length === 1) return expandUnions(meant[0]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
    if (meant.length > 0) return [issue];
    const expected = issue.errors.flatMap((branch) => branch.map((i) => (i.code === "invalid_type" ? i.expected : "")).filter(Boolean));
    const received = /received (\w+)/.exec(issue.errors[0]?.[0]?.message ?? "")?.[1];
    return [{ ...issue, message: `Invalid input: expected ${[...new Set(expected)].join(" or ")}${received ? `, received ${received}` : ""}` }];
  });
}

function toVariable(v: z.output<typeof VariableSchema>): VariableSpec {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return { type: inferType(v), default: v };
  const spec: VariableSpec = { type: v.type ?? inferType(v.default ?? v.defaultValue) };
  const def = "default" in v ? v.default : v.defaultValue;
  if (def !== undefined) spec.default = def;
  if (v.description !== undefined) spec.description = v.description;
  return spec;
}

function inferType(v: unknown): VariableSpec["type"] {
  if (Array.isArray(v)) return "array";
  if (v === null || v === undefined) return "any";
  const t = typeof v;
  return t === "string" || t === "number" || t === "boolean" || t === "object" ? t : "any";
}

function toRetry(r: { attempts?: number | undefined; delay?: number | undefined; backoff?: "fixed" | "exponential" | undefined; maxDelay?: number | undefined; jitter?: number | boolean | undefined; on?: string[] | undefined }): RetryPolicy {
  const policy: RetryPolicy = {
    attempts: r.attempts ?? 3,
    delay: r.delay ?? 1000,
    backoff: r.backoff ?? "exponential",
    jitter: r.jitter === true ? 1 : r.jitter === false || r.jitter === undefined ? 0 : r.jitter,
  };
  if (r.maxDelay !== undefined) policy.maxDelay = r.maxDelay;
  if (r.on !== undefined) policy.on = r.on;
  return policy;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}
/**
 * A composite's id from its name, else from its file's name, else `composite`: lower case, letters
 * and digits of any script kept (`日本` stays `日本`: two such composites must not share one id), the
 * rest as `-`.
 */
function slug(name: string, file: string | undefined): string {
  const of = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}_-]+/gu, "-").replace(/^-+|-+$/g, "");
  return of(name) || (file === undefined ? "" : of(file.replace(/\.(ya?ml)$/i, "").split(/[\\/]/).pop()!)) || "composite";
}

/** Every node, depth-first, including container bodies. */
export function* allNodes(body: CompositeBody): Generator<CompositeNode> {
  for (const n of body.nodes) {
    yield n;
    if (n.body) yield* allNodes(n.body);
  }
}
export function* allEdges(body: CompositeBody): Generator<CompositeEdge> {
  yield* body.edges;
  for (const n of body.nodes) if (n.body) yield* allEdges(n.body);
}
