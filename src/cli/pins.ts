import { allNodeIds, type Composite } from "../composite/model.js";
import { didYouMean } from "../composite/suggest.js";
import type { RunRecord } from "../conductor/run-recorder.js";
import { AtomitonError, ErrorCode } from "../errors.js";
import { readInputFile } from "./parse-flags.js";

/**
 * `--pin <nodeId>=<json|@file>` (repeatable) → values by node id. A value is JSON when it parses as
 * JSON, else the text (as `--set` reads values); `@file` reads JSON, or YAML for .yaml/.yml.
 */
export async function parsePins(values: readonly string[], cwd: string): Promise<Record<string, unknown>> {
  const pins: Record<string, unknown> = {};
  for (const text of values) {
    const eq = text.indexOf("=");
    if (eq <= 0) {
      throw new AtomitonError(ErrorCode.USAGE, `--pin ${JSON.stringify(text)}: expected <nodeId>=<json|@file>`, {
        retryable: false,
        hint: /^[\w-]+$/.test(text) ? `give the value node "${text}" returns, e.g. --pin ${text}='{"ok":true}' or --pin ${text}=@${text}.json` : `e.g. --pin fetch='{"status":200}'`,
      });
    }
    const id = text.slice(0, eq);
    const raw = text.slice(eq + 1);
    if (Object.hasOwn(pins, id)) {
      throw new AtomitonError(ErrorCode.USAGE, `--pin ${id} is given twice`, { retryable: false, hint: `pin node "${id}" once (the second value replaced the first)` });
    }
    pins[id] = raw.startsWith("@") ? await readInputFile(raw.slice(1), cwd, `--pin ${id}=`) : parsePinValue(id, raw);
  }
  return pins;
}

function parsePinValue(id: string, raw: string): unknown {
  const t = raw.trim();
  if (/^(-?\d|true$|false$|null$)/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return raw;
    }
  }
  if (!/^[[{"]/.test(t)) return raw;
  try {
    return JSON.parse(t);
  } catch (error) {
    throw new AtomitonError(ErrorCode.USAGE, `--pin ${id}=…: not valid JSON (${(error as Error).message})`, {
      retryable: false,
      hint: `quote JSON for your shell: --pin ${id}='{"a":1}', or read it from a file: --pin ${id}=@value.json`,
    });
  }
}


/** A pin or `--from` must name a node of the composite. */
export function checkNodeIds(composite: Composite, ids: Iterable<string>, flag: string): void {
  const known = allNodeIds(composite);
  const set = new Set(known);
  for (const id of ids) {
    if (set.has(id)) continue;
    throw new AtomitonError(ErrorCode.USAGE, `${flag} ${id}: the composite has no node "${id}"`, {
      retryable: false,
      hint: didYouMean(id, known) || (known.length === 0 ? "the composite has no nodes" : `its nodes: ${known.slice(0, 12).join(", ")}${known.length > 12 ? ", …" : ""}`),
    });
  }
}

/** Top-level nodes upstream of `nodeId` (every node it transitively depends on through edges). */
export function upstreamOf(composite: Composite, nodeId: string): string[] {
  const sources = new Map<string, string[]>();
  for (const e of composite.edges) {
    const list = sources.get(e.target);
    if (list) list.push(e.source);
    else sources.set(e.target, [e.source]);
  }
  const seen = new Set<string>();
  const stack = [nodeId];
  while (stack.length > 0) {
    for (const s of sources.get(stack.pop()!) ?? []) {
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(s);
    }
  }
  return composite.nodes.map((n) => n.id).filter((id) => seen.has(id));
}

/**
 * `replay <runId> --from <nodeId>`: the recorded outputs of every node upstream of `from`. Each must
 * have succeeded in that run with an output that JSON restores exactly; otherwise the replay has to
 * start further up, and the error says where.
 */
export function recordedUpstreamOutputs(composite: Composite, record: RunRecord, from: string): Record<string, unknown> {
  if (!composite.nodes.some((n) => n.id === from)) {
    const topLevel = composite.nodes.map((n) => n.id);
    const inBody = allNodeIds(composite).includes(from);
    throw new AtomitonError(ErrorCode.USAGE, `--from ${from}: ${inBody ? `"${from}" is inside a loop or group body; replay from its container` : `the composite has no node "${from}"`}`, {
      retryable: false,
      hint: inBody ? "--from takes a top-level node id" : didYouMean(from, topLevel) || (topLevel.length === 0 ? "the composite has no nodes" : `its nodes: ${topLevel.join(", ")}`),
    });
  }
  const outputs: Record<string, unknown> = {};
  for (const id of upstreamOf(composite, from)) {
    const node = record.nodes[id];
    if (node?.status !== "succeeded" || node.reusable === false) {
      const what =
        node === undefined ? "is not in it"
        : node.status !== "succeeded" ? `was ${node.status ?? "not run"}`
        : node.redacted ? "has an output that held a secret, which the record keeps only as ***"
        : "has an output that JSON cannot restore (binary data)";
      throw new AtomitonError(ErrorCode.USAGE, `--from ${from}: upstream node "${id}" ${what} in run ${record.runId}, so there is no output to start from`, {
        retryable: false,
        hint: `replay from "${id}" or a node above it, or re-run the whole composite`,
      });
    }
    outputs[id] = node.output;
  }
  return outputs;
}

/**
 * The earlier run's input or variables, which `--resume` and `replay` reuse unless new ones are given.
 * Where they held a secret's value the record keeps only `***`: running with that in place of the
 * real value would be wrong without a word, so the flag that gives them again is asked for.
 */
export function earlierValue<K extends "input" | "vars">(record: RunRecord | undefined, key: K, flag: string): RunRecord[K] | undefined {
  if (record === undefined) return undefined;
  if (record.redacted?.includes(key)) {
    const again = key === "vars" ? "--var name=value" : "--input";
    throw new AtomitonError(ErrorCode.USAGE, `${flag} ${record.runId}: the run's ${key === "vars" ? "variables" : "input"} held a secret's value, which its record keeps only as ***`, {
      retryable: false,
      hint: `give ${key === "vars" ? "the variables" : "the input"} again with ${again} (its --secret names are redacted again without being given)`,
    });
  }
  return record[key];
}

/** The env var names the earlier run was given with `--secret` (a hand-edited record may hold anything). */
export function earlierSecretNames(record: RunRecord | undefined): string[] {
  const names: unknown = record?.secretNames;
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === "string" && n.length > 0) : [];
}
