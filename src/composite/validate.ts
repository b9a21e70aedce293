import { ErrorCode } from "../errors.js";
import type { Catalog } from "../nodes/catalog.js";
import { dataOutputs, type AnyNodeDefinition } from "../nodes/define-node.js";
import { findReferences } from "../js/templates.js";
import { adjacency, findCycles, repeatedPairs } from "./find-cycle.js";
import type { Composite, CompositeBody, CompositeEdge, CompositeNode, Locator, YamlPath } from "./model.js";
import { allNodes } from "./normalize.js";
import { formatLocation, makeProblem, type Problem } from "./problem.js";
import { didYouMean, suggest } from "./suggest.js";
import { validateParameters, writtenAliases } from "./validate-params.js";
import { anyStringIncludes, checkNodeIf, checkNodeJavaScript } from "./validate-js.js";

export interface ValidateOptions {
  catalog: Catalog;
  locate: Locator;
  /** Variable names provided on the command line (they count as declared). */
  extraVariables?: readonly string[];
}

const PRIMARY_OUT = new Set(["output", "default", "out", "result"]);
const PRIMARY_IN = new Set(["input", "default", "in", "trigger", "data"]);

/**
 * Check a normalized composite against the catalog and as a graph (SPEC §2.3). Canonicalizes
 * it in place: node types become catalog names, parameter aliases are renamed and every edge
 * names its ports explicitly. Returns every problem found, errors and warnings.
 */
export function validateComposite(composite: Composite, options: ValidateOptions): Problem[] {
  const problems: Problem[] = [];
  const editor = composite.dialect !== "concise";
  const seen = new Map<string, CompositeNode>();
  // Every id in the composite, bodies included (bodies are validated after the level that contains them).
  const everywhere = new Set(Array.from(allNodes(composite), (n) => n.id));
  const varNames = new Set([...Object.keys(composite.variables), ...(options.extraVariables ?? [])]);
  // Parameters renamed from an alias (`filePath` → `path`), so E_REF points where they were written.
  const writtenAs = new Map<CompositeNode, ReadonlyMap<string, string>>();
  // Each id's container node id (undefined at the top level): filled for a `$nodes` problem's hint only.
  const parents = new Map<string, string | undefined>();
  const fillParents = (body: CompositeBody, parent: string | undefined): void => {
    for (const n of body.nodes) {
      // The first node of an id wins (a duplicate id is reported): a chain of parents then always ends.
      if (!parents.has(n.id)) parents.set(n.id, parent);
      if (n.body) fillParents(n.body, n.id);
    }
  };
  validateBody(composite, [], undefined);
  return problems;

  function validateBody(body: CompositeBody, outerUpstream: readonly string[], container: CompositeNode | undefined, parentLocate: Locator = options.locate): void {
    const locate = body.locate ?? parentLocate;
    const count = body.nodes.length;
    const defs: (AnyNodeDefinition | undefined)[] = new Array(count);
    // Each id's index in this body (the last node declared with it).
    const local = new Map<string, number>();
    for (let index = 0; index < count; index++) {
      const node = body.nodes[index]!;
      const previous = seen.get(node.id);
      if (previous) {
        const here = locate([...node.path, "id"]);
        const first = previous.loc;
        // The first may be in another file (a `ref:`), or be this very node: one file included twice.
        const twice = first !== undefined && node.loc !== undefined && first.file === node.loc.file && first.line === node.loc.line && first.col === node.loc.col;
        const at = first === undefined ? "line ?" : first.file === here.file && !twice ? `line ${first.line}` : formatLocation(first);
        const hint = twice
          ? `${first.file ?? "this file"} is included more than once through ref:, and ids must be unique in the whole composite: give each use its own copy with other ids`
          : `rename one of the two nodes "${node.id}" (and the edges and $nodes references meant for it): ids must be unique in the whole composite, including loop and group bodies`;
        problems.push(makeProblem(ErrorCode.EDGE, `duplicate node id "${node.id}" (first declared at ${at})`, here, { hint, path: [...node.path, "id"] }));
      } else {
        seen.set(node.id, node);
      }
      local.set(node.id, index);
      const def = options.catalog.get(node.type);
      defs[index] = def;
      if (!def) {
        const hint = didYouMean(node.type, options.catalog.names());
        problems.push(makeProblem(ErrorCode.UNKNOWN_TYPE, `node "${node.id}": unknown node type "${node.type}"`, locate([...node.path, "type"]), { hint: hint || "run `atomiton nodes` to list the available types; a custom node loads with --nodes <file|dir> or from atomiton.config.*", path: [...node.path, "type"] }));
        // Its parameters mean nothing without its type, but its `if:` is the same for every node.
        for (const problem of checkNodeIf(node, locate)) problems.push(problem);
        continue;
      }
      node.type = def.type;
      const renamed = writtenAliases(def, node.parameters);
      if (renamed.size > 0) writtenAs.set(node, renamed);
      validateParameters(def, node, editor, locate, problems, renamed);
      for (const problem of checkNodeJavaScript(node, def, locate, renamed)) problems.push(problem);
      if (def.container && node.body === undefined && node.ref === undefined && def.type === "group") {
        problems.push(makeProblem(ErrorCode.SCHEMA, `node "${node.id}": a group needs nested \`nodes\` or a \`ref:\` to another file`, locate(node.path), { path: node.path }));
      }
      if (!def.container && node.body) {
        problems.push(makeProblem(ErrorCode.SCHEMA, `node "${node.id}": ${def.type} cannot have nested nodes`, locate([...node.path, "nodes"], { key: true }), { hint: "only loop, parallel and group nodes have a body", path: [...node.path, "nodes"] }));
      }
    }

    // Edges: endpoints exist, ports exist. The graph is kept as index pairs (CSR adjacency below):
    // no array or Map entry per node, which a 100k-node file felt.
    const from = new Int32Array(body.edges.length);
    const to = new Int32Array(body.edges.length);
    let edgeCount = 0;
    for (const edge of body.edges) {
      const source = checkEnd(edge, "source", local, defs, container, locate);
      if (source < 0) continue;
      const target = checkEnd(edge, "target", local, defs, container, locate);
      if (target < 0) continue;
      from[edgeCount] = source;
      to[edgeCount++] = target;
    }
    const successors = adjacency(count, from, to, edgeCount);
    // Made on first use: only a `$nodes` reference needs a node's ancestors.
    let predecessors: ReturnType<typeof adjacency> | undefined;
    const ancestors = (id: string): Set<string> => {
      predecessors ??= adjacency(count, to, from, edgeCount);
      return ancestorIds(body.nodes, local.get(id)!, predecessors.start, predecessors.list);
    };

    // The same edge twice (same nodes and ports) gives the target a list of copies where one value was meant.
    for (const [i, j] of repeatedPairs(count, successors.start, successors.list)) {
      const between = body.edges.filter((e) => local.get(e.source) === i && local.get(e.target) === j);
      const seenPorts = new Map<string, CompositeEdge>();
      for (const edge of between) {
        const ports = `${edge.sourcePort ?? ""}>${edge.targetPort ?? ""}`;
        const first = seenPorts.get(ports);
        if (first === undefined) seenPorts.set(ports, edge);
        else problems.push(makeProblem("W_DUPLICATE_EDGE", `edge ${describeEdge(edge)} is given twice (first at line ${(first.loc ?? locate(first.path)).line})`, edge.loc ?? locate(edge.path), { hint: `remove the copy: "${edge.target}" would get a list with its input once per copy`, path: edge.path }));
      }
    }

    // Every cycle (up to MAX_CYCLES), each at its first edge: all problems at once (SPEC §2.3).
    for (const cycleAt of findCycles(count, from, to, edgeCount, successors)) {
      const cycle = cycleAt.map((i) => body.nodes[i]!.id);
      const first = body.edges.find((e) => e.source === cycle[0] && e.target === cycle[1]);
      problems.push(makeProblem(ErrorCode.CYCLE, `cycle: ${cycle.join(" -> ")}`, first?.loc ?? locate(first?.path ?? []), { hint: "remove one of these edges; composites must be acyclic (use a loop node to repeat work)", path: first?.path ?? [] }));
    }

    // Template references and error-port routing.
    const routed = new Set(body.edges.filter((e) => e.sourcePort === "error").map((e) => e.source));
    for (const node of body.nodes) {
      // Ancestor sets are computed only for nodes that need them (O(n) each; never for every node of a big graph).
      let upstreamSet: Set<string> | undefined;
      const upstream = (): Set<string> => {
        if (!upstreamSet) {
          // Reachability holds in a cyclic graph too: a node's ancestors are still its ancestors.
          upstreamSet = ancestors(node.id);
          for (const o of outerUpstream) upstreamSet.add(o);
        }
        return upstreamSet;
      };
      checkRefs(node, upstream, locate);
      if (node.onError === "route" && !routed.has(node.id)) {
        problems.push(makeProblem("W_ROUTE", `node "${node.id}": onError is "route" but no edge leaves its \`error\` port, so a failure would go nowhere and the run would still succeed`, node.loc ?? locate(node.path), { hint: `add an edge from "${node.id}.error" to the node that handles the failure, or use onError: continue`, path: node.path }));
      }
      if (routed.has(node.id) && node.onError !== "route") {
        problems.push(makeProblem("W_ROUTE", `node "${node.id}": an edge leaves its \`error\` port but onError is "${node.onError}", so that edge never fires`, node.loc ?? locate(node.path), { hint: "set `onError: route` on the node", path: node.path }));
      }
      if (node.body) validateBody(node.body, [...upstream()], node, locate);
    }
  }

  /** The index of the edge's node at `end`, with its port made explicit; -1 (reported) when either is wrong. */
  function checkEnd(edge: CompositeEdge, end: "source" | "target", local: Map<string, number>, defs: readonly (AnyNodeDefinition | undefined)[], container: CompositeNode | undefined, locate: Locator): number {
    const id = edge[end];
    // Made only for a problem, as are the port lists: most edges are fine, and a big composite has many.
    const path = (): YamlPath => [...edge.path, end];
    const index = local.get(id);
    if (index === undefined) {
      const elsewhere = everywhere.has(id);
      const hint = elsewhere ? `"${id}" is in another ${container ? "body" : "level"}; edges cannot cross a loop or group boundary` : didYouMean(id, local.keys()) || `nodes here: ${[...local.keys()].join(", ")}`;
      problems.push(makeProblem(ErrorCode.EDGE, `edge ${describeEdge(edge)}: ${end} node "${id}" does not exist`, edge.loc ?? locate(path()), { hint, path: path() }));
      return -1;
    }
    const def = defs[index];
    if (!def) return index;
    const portKey = end === "source" ? "sourcePort" : "targetPort";
    const primary = end === "source" ? def.outputs.find((p) => p.id !== "error")?.id : def.inputs[0]?.id;
    const given = edge[portKey];
    if (given === undefined) {
      if (primary !== undefined) edge[portKey] = primary;
      return index;
    }
    if (end === "source" ? given === "error" || def.outputs.some((p) => p.id === given) : def.inputs.some((p) => p.id === given)) return index;
    const aliased = def.portAliases?.[given];
    if (aliased !== undefined) {
      edge[portKey] = aliased;
      return index;
    }
    if ((end === "source" ? PRIMARY_OUT : PRIMARY_IN).has(given) || editor) {
      if (!(end === "source" ? PRIMARY_OUT : PRIMARY_IN).has(given)) {
        problems.push(makeProblem("W_PORT", `edge ${describeEdge(edge)}: ${def.type} has no ${end === "source" ? "output" : "input"} port "${given}"; using its primary port "${primary}"`, edge.loc ?? locate(path()), { path: [...edge.path, end === "source" ? "sourceHandle" : "targetHandle"] }));
      }
      if (primary !== undefined) edge[portKey] = primary;
      return index;
    }
    const ports = end === "source" ? dataOutputs(def).map((p) => p.id).concat("error") : def.inputs.map((p) => p.id);
    problems.push(makeProblem(ErrorCode.EDGE, `edge ${describeEdge(edge)}: ${def.type} node "${id}" has no ${end === "source" ? "output" : "input"} port "${given}"`, edge.loc ?? locate(path()), { hint: didYouMean(given, ports) || `ports: ${ports.join(", ")}`, path: path() }));
    return -1;
  }

  /**
   * How to make `$nodes.<ref>` readable from node `id`: an edge into the node, or into the container
   * that holds it at ref's level; a node inside a body another node cannot reach is read through
   * that body's container (an edge cannot cross a loop or group boundary).
   */
  function notUpstreamHint(ref: string, id: string): string {
    if (parents.size === 0) fillParents(composite, undefined);
    const levels = new Set<string | undefined>();
    for (let p = parents.get(id); ; p = parents.get(p)) {
      levels.add(p);
      if (p === undefined) break;
    }
    if (parents.get(ref) === parents.get(id)) return `add an edge so that "${ref}" runs before "${id}"`;
    if (levels.has(parents.get(ref))) {
      let holder = id;
      while (parents.get(holder) !== parents.get(ref)) holder = parents.get(holder)!;
      return `add an edge so that "${ref}" runs before "${holder}" (which holds "${id}")`;
    }
    let outer = ref;
    while (!levels.has(parents.get(outer))) outer = parents.get(outer)!;
    return `"${ref}" is inside the body of "${outer}", which nodes outside it cannot read: read "${outer}"'s output ($nodes.${outer}) instead`;
  }

  function checkRefs(node: CompositeNode, upstream: () => Set<string>, locate: Locator): void {
    // `shift`: where the checked text starts in the written value (an `if:` is checked inside `{{ }}`).
    const visit = (value: unknown, path: YamlPath, shift = 0): void => {
      if (typeof value === "string") {
        if (!value.includes("$")) return;
        for (const ref of findReferences(value)) {
          // At the reference itself, not at the start of the string that holds it.
          const at = (): ReturnType<Locator> => locate(path, { offset: Math.max(0, ref.index + shift) });
          if (ref.kind === "vars" && !varNames.has(ref.name)) {
            problems.push(makeProblem(ErrorCode.REF, `node "${node.id}": $vars.${ref.name} is not a declared variable`, at(), { hint: undeclaredVariableHint(ref.name, composite.variables, options.extraVariables), path }));
          } else if (ref.kind === "nodes" && !upstream().has(ref.name)) {
            const exists = everywhere.has(ref.name);
            problems.push(makeProblem(ErrorCode.REF, `node "${node.id}": $nodes.${ref.name} ${exists ? "is not upstream of this node" : "does not exist"}`, at(), { hint: exists ? notUpstreamHint(ref.name, node.id) : didYouMean(ref.name, everywhere) || undefined, path }));
          }
        }
      } else if (Array.isArray(value)) {
        value.forEach((v, i) => visit(v, [...path, i]));
      } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
      }
    };
    const renamed = writtenAs.get(node);
    // Only values with a `$` somewhere can hold a reference: the others are not walked (no paths made).
    for (const [k, v] of Object.entries(node.parameters)) if (anyStringIncludes(v, "$")) visit(v, [...node.parametersPath, renamed?.get(k) ?? k]);
    if (node.if !== undefined) {
      const templated = node.if.includes("{{");
      visit(templated ? node.if : `{{${node.if}}}`, [...node.path, "if"], templated ? 0 : -2);
    }
  }
}

/** The ids of every node upstream of node `index` (`predStart`/`predList`: predecessors in CSR form). */
function ancestorIds(nodes: readonly CompositeNode[], index: number, predStart: Int32Array, predList: Int32Array): Set<string> {
  const out = new Set<string>();
  const seen = new Uint8Array(nodes.length);
  const stack: number[] = [];
  for (let k = predStart[index]!; k < predStart[index + 1]!; k++) stack.push(predList[k]!);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen[n]) continue;
    seen[n] = 1;
    out.add(nodes[n]!.id);
    for (let k = predStart[n]!; k < predStart[n + 1]!; k++) stack.push(predList[k]!);
  }
  return out;
}

function describeEdge(e: CompositeEdge): string {
  return `${e.source}${e.sourcePort ? `.${e.sourcePort}` : ""} -> ${e.target}${e.targetPort ? `.${e.targetPort}` : ""}`;
}

/**
 * The hint for `$vars.<name>` that nothing declares: a declared name it looks like; else a `--var`
 * it looks like (the typo is on the command line, so the file should not copy it); else how to
 * give it.
 */
function undeclaredVariableHint(name: string, declared: Record<string, unknown>, given: readonly string[] | undefined): string {
  const like = didYouMean(name, Object.keys(declared));
  if (like) return like;
  const mistyped = given?.find((g) => suggest(name, [g]) !== undefined);
  if (mistyped !== undefined) return `--var ${mistyped} looks like a typo of "${name}": pass --var ${name}=…, or declare "${name}" under \`variables:\``;
  return "declare it under `variables:` or pass --var";
}
