import { hash } from "node:crypto";
import { stringifyJsonSafe } from "../events/json-safe.js";
import type { CompiledNode } from "./compile-graph.js";

/**
 * The cache key `--resume` compares: node type, raw parameters (templates unresolved), control
 * settings and the inputs it received. Same key and a successful previous run → the output is reused.
 */
export function nodeHash(cn: CompiledNode, inputs: Record<string, unknown>): string {
  const n = cn.node;
  const key = hashableJson([cn.def.type, n.parameters, n.if ?? null, n.enabled, n.onError, inputs]);
  // One-shot hash: no Hash object per node (it cost more than the rest of the key).
  return hash("sha1", key, "base64url");
}

/** JSON of plain data fast; bytes in full (base64) and cycles through the careful walker. */
function hashableJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return stringifyJsonSafe(value, { binary: "base64" });
  }
}

/** True when JSON keeps the value exactly (so a recorded output can stand in for a re-run). */
export function isJsonFaithful(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object") return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !isJsonFaithful(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const v of Object.values(value)) if (v === undefined || !isJsonFaithful(v, depth + 1)) return false;
  return true;
}
