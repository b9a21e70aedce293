import { hash } from "node:crypto";
import { holdsBytes, stringifyJsonSafe } from "../events/json-safe.js";
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

/**
 * JSON of plain data fast; bytes as their digest, and cycles, through the careful walker. Bytes
 * must not reach `JSON.stringify`: a Buffer's `toJSON` is an array of every byte as a number (a
 * 50 MB download took 20 s and 2.5 GB to hash). They are looked for near the top of the inputs,
 * where nodes put them (an output that is bytes, an item's `data`, a list of such items); bytes
 * deeper down still hash right, only slower.
 */
function hashableJson(value: unknown): string {
  if (!holdsBytes(value, 0)) {
    try {
      return JSON.stringify(value);
    } catch {
      // A cycle or a BigInt: the careful walker below.
    }
  }
  return stringifyJsonSafe(value, { binary: "digest" });
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
