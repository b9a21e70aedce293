import { createHash } from "node:crypto";
import type { Composite } from "../composite/model.js";
import { fastJson } from "./event-json.js";

const compositeHashes = new WeakMap<Composite, string>();

/** A stable hash of what a composite does (ids, types, parameters, edges), for records and resume. */
export function hashComposite(composite: Composite): string {
  let hash = compositeHashes.get(composite);
  if (hash === undefined) {
    hash = computeCompositeHash(composite);
    compositeHashes.set(composite, hash);
  }
  return hash;
}

function computeCompositeHash(composite: Composite): string {
  const strip = (body: Pick<Composite, "nodes" | "edges">): unknown => ({
    nodes: body.nodes.map((n) => ({ id: n.id, type: n.type, parameters: n.parameters, if: n.if, enabled: n.enabled, onError: n.onError, body: n.body ? strip(n.body) : undefined })),
    edges: body.edges.map((e) => [e.source, e.sourcePort, e.target, e.targetPort]),
  });
  return createHash("sha256").update(fastJson(strip(composite))).digest("hex").slice(0, 16);
}
