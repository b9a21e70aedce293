import type { CompositeBody, CompositeNode } from "../composite/model.js";
import { computeLevels } from "../composite/levels.js";
import type { Catalog } from "../nodes/catalog.js";
import { dataOutputs, hasPortMap, type AnyNodeDefinition } from "../nodes/define-node.js";
import { containsTemplate } from "../js/templates.js";
import { AtomitonError, ErrorCode } from "../errors.js";

/** An incoming edge of a compiled node. */
export interface InEdge {
  from: number;
  fromPort: string;
  toPort: string;
  /** Several edges enter this port: its value is an array in edge order. */
  multi: boolean;
}

export interface CompiledNode {
  index: number;
  node: CompositeNode;
  def: AnyNodeDefinition;
  primaryIn: string;
  primaryOut: string;
  /** The node returns `{ [port]: value }`. */
  portMap: boolean;
  /** Incoming edges in declaration order. */
  inEdges: InEdge[];
  /** Every incoming edge enters the primary input port (the usual case: no `inputs` object needed). */
  allPrimary: boolean;
  /** Parameters hold templates that must be resolved per execution. */
  dynamicParams: boolean;
  /** Parsed parameters when they are static (set on first use; a parse failure is not cached). Shared: nodes get a copy. */
  staticParams?: { value: unknown };
  body?: CompiledGraph;
  /** Concurrency of a parallel node at the root of this container's body. */
  parallelConcurrency?: number;
}

/** `CompiledGraph.flags` bits. */
export const NodeFlag = {
  /**
   * A plain node: `!needsFullPath(node)`. Such a node's inputs are read straight from the flat
   * arrays (`inStart`/`inFrom`) on the fast path (see node-start.ts).
   */
  PLAIN: 1,
  /** The node returns `{ [port]: value }`. */
  PORT_MAP: 2,
} as const;

/** A body (the composite or a container's nested graph) ready for the scheduler. */
export interface CompiledGraph {
  nodes: CompiledNode[];
  /** Successor indexes per node (deduplicated, declaration order). */
  successors: number[][];
  // The facts the scheduler reads for every node, as flat arrays indexed by node: a 10k-node run
  // then walks a few dense typed arrays instead of chasing pointers through node and edge objects
  // (those cache misses cost more than the scheduling itself).
  /** Successors of node i: `succList[succStart[i] .. succStart[i + 1])`. */
  succStart: Int32Array;
  succList: Int32Array;
  /** Sources of node i's incoming edges, in edge order: `inFrom[inStart[i] .. inStart[i + 1])`. */
  inStart: Int32Array;
  inFrom: Int32Array;
  /** `NodeFlag` bits per node. */
  flags: Uint8Array;
  /** Each node's definition (its `execute`), by index. */
  defs: AnyNodeDefinition[];
  /** Parsed static parameters by index, filled on first use (undefined: not parsed yet). Shared by every run: nodes get a copy. */
  params: unknown[];
  /** Number of distinct predecessors per node. */
  indegree: Int32Array;
  roots: number[];
  sinks: number[];
  byId: Map<string, number>;
  /** Root index → every node reachable from it (for parallel branches). */
  branchOf(root: number): Uint8Array;
}

const cache = new WeakMap<CompositeBody, CompiledGraph>();

/** Compile a validated body once (cached per body object); loops reuse it for every iteration. */
export function compileGraph(body: CompositeBody, catalog: Catalog): CompiledGraph {
  const hit = cache.get(body);
  if (hit) return hit;
  const byId = new Map<string, number>();
  const nodes: CompiledNode[] = body.nodes.map((node, index) => {
    byId.set(node.id, index);
    const def = catalog.get(node.type);
    if (!def) throw new AtomitonError(ErrorCode.UNKNOWN_TYPE, `node "${node.id}": unknown node type "${node.type}"`, { retryable: false });
    const facts = factsOf(def);
    const compiled: CompiledNode = {
      index,
      node,
      def,
      primaryIn: facts.primaryIn,
      primaryOut: facts.primaryOut,
      portMap: facts.portMap,
      inEdges: [],
      allPrimary: true,
      dynamicParams: hasDynamicParams(node, facts.raw),
    };
    return compiled;
  });
  const successors: number[][] = nodes.map(() => []);
  const indegree = new Int32Array(nodes.length);
  for (const edge of body.edges) {
    const from = byId.get(edge.source);
    const to = byId.get(edge.target);
    if (from === undefined || to === undefined) continue;
    const target = nodes[to]!;
    target.inEdges.push({ from, fromPort: edge.sourcePort ?? nodes[from]!.primaryOut, toPort: edge.targetPort ?? target.primaryIn, multi: false });
    const succ = successors[from]!;
    if (!succ.includes(to)) {
      succ.push(to);
      indegree[to]!++;
    }
  }
  for (const n of nodes) {
    n.allPrimary = n.inEdges.every((e) => e.toPort === n.primaryIn);
    if (n.inEdges.length < 2) continue;
    const counts = new Map<string, number>();
    for (const e of n.inEdges) counts.set(e.toPort, (counts.get(e.toPort) ?? 0) + 1);
    for (const e of n.inEdges) e.multi = counts.get(e.toPort)! > 1;
  }
  const flat = flatten(nodes, successors);
  const roots: number[] = [];
  const sinks: number[] = [];
  for (let i = 0; i < nodes.length; i++) {
    if (indegree[i] === 0) roots.push(i);
    if (successors[i]!.length === 0) sinks.push(i);
  }
  for (const n of nodes) {
    if (n.node.body) {
      n.body = compileGraph(n.node.body, catalog);
      const first = n.body.roots.length === 1 ? n.body.nodes[n.body.roots[0]!] : undefined;
      const c = first?.def.type === "parallel" ? first.node.parameters.concurrency : undefined;
      if (typeof c === "number") n.parallelConcurrency = c;
    }
  }
  const branches = new Map<number, Uint8Array>();
  const graph: CompiledGraph = {
    nodes,
    successors,
    ...flat,
    indegree,
    roots,
    sinks,
    byId,
    branchOf(root) {
      let mask = branches.get(root);
      if (!mask) {
        mask = new Uint8Array(nodes.length);
        const stack = [root];
        while (stack.length > 0) {
          const i = stack.pop()!;
          if (mask[i]) continue;
          mask[i] = 1;
          stack.push(...successors[i]!);
        }
        branches.set(root, mask);
      }
      return mask;
    },
  };
  cache.set(body, graph);
  return graph;
}

function flatten(nodes: CompiledNode[], successors: number[][]): Pick<CompiledGraph, "succStart" | "succList" | "inStart" | "inFrom" | "flags" | "defs" | "params"> {
  const n = nodes.length;
  const succStart = new Int32Array(n + 1);
  const inStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    succStart[i + 1] = succStart[i]! + successors[i]!.length;
    inStart[i + 1] = inStart[i]! + nodes[i]!.inEdges.length;
  }
  const succList = new Int32Array(succStart[n]!);
  const inFrom = new Int32Array(inStart[n]!);
  const flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    succList.set(successors[i]!, succStart[i]!);
    const cn = nodes[i]!;
    for (let k = 0; k < cn.inEdges.length; k++) inFrom[inStart[i]! + k] = cn.inEdges[k]!.from;
    flags[i] = (needsFullPath(cn, nodes) ? 0 : NodeFlag.PLAIN) | (cn.portMap ? NodeFlag.PORT_MAP : 0);
  }
  return { succStart, succList, inStart, inFrom, flags, defs: nodes.map((cn) => cn.def), params: new Array<unknown>(n) };
}

/**
 * The one gate of the fast path: whether a node needs the full path (every rule) on every run.
 * The fast path reads a node's input straight from its sources' values and runs it with its cached
 * static parameters, so it serves only a node with none of what the full path handles:
 *   - `enabled: false` or an `if:` (the node may be skipped);
 *   - a `timeout` or a `retry` policy (the attempt is wrapped);
 *   - templated parameters (resolved per execution) or a body (a container);
 *   - an edge into a port other than the primary input (`inputs` by port);
 *   - an edge from a port-map node or from a port other than its source's primary output (the
 *     value may be absent: a port that did not fire skips the node).
 * A run leaves the fast path altogether when it is hashed (`--resume`, records), pinned or debugged
 * (`GraphRun.fastPath`), and a node whose source did not succeed takes the full path for its skip rules.
 * `onError` needs nothing here: both paths fail a node through the same `retryOrFail`/`finishFailed`.
 */
export function needsFullPath(cn: CompiledNode, nodes: readonly CompiledNode[]): boolean {
  const node = cn.node;
  if (!node.enabled || node.if !== undefined) return true;
  if (node.timeout !== undefined || node.retry !== undefined) return true;
  if (cn.dynamicParams || node.body !== undefined) return true;
  if (!cn.allPrimary) return true;
  for (const e of cn.inEdges) {
    const source = nodes[e.from]!;
    if (source.portMap || e.fromPort !== source.primaryOut) return true;
  }
  return false;
}

function hasDynamicParams(node: CompositeNode, raw: ReadonlySet<string>): boolean {
  const params = node.parameters;
  for (const k in params) if (Object.hasOwn(params, k) && !raw.has(k) && containsTemplate(params[k])) return true;
  return false;
}

/** What compiling needs of a definition, worked out once per definition rather than once per node. */
interface DefinitionFacts {
  primaryIn: string;
  primaryOut: string;
  portMap: boolean;
  /** Parameters whose `{{ }}` are the node's own business (`rawParameters`). */
  raw: ReadonlySet<string>;
}
const facts = new WeakMap<AnyNodeDefinition, DefinitionFacts>();
function factsOf(def: AnyNodeDefinition): DefinitionFacts {
  let f = facts.get(def);
  if (f === undefined) {
    f = { primaryIn: def.inputs[0]?.id ?? "input", primaryOut: dataOutputs(def)[0]?.id ?? "output", portMap: hasPortMap(def), raw: new Set(def.rawParameters ?? []) };
    facts.set(def, f);
  }
  return f;
}

/** Node ids by dependency level, for `run:start`. */
export function planLevels(graph: CompiledGraph): string[][] {
  return computeLevels(graph.nodes.length, graph.successors).map((level) => level.map((i) => graph.nodes[i]!.node.id));
}
