import { hashComposite } from "../conductor/composite-hash.js";
import type { RunRecord } from "../conductor/run-record.js";
import type { Composite } from "../composite/model.js";
import type { Style } from "../reporters/style.js";

/**
 * The warnings `run --resume` and `replay` print before they start: what of the earlier run will
 * not be reused, and why. A node that succeeded but whose recorded output cannot stand in for it
 * (binary data, a secret kept as `***`, an output too big to keep) runs again, and the nodes after
 * it with it: said here by name, so a resume that re-runs more than the user expected is not silent.
 */
export function resumeNotes(previous: RunRecord, composite: Composite, options: { target: string; resume: boolean; replay: boolean }, style: Style): string {
  const warn = (text: string): string => `${style.chalk.yellow(`${style.symbols.warning} ${text}`)}\n`;
  let out = "";
  if (options.replay && hashComposite(composite) !== previous.composite.hash) out += warn(`${options.target} changed since run ${previous.runId}; the changed nodes run as they are now`);
  if (options.resume && previous.composite.id !== composite.id) {
    const was = `"${previous.composite.id}"${previous.composite.file ? ` (${previous.composite.file})` : ""}`;
    out += warn(`run ${previous.runId} is of composite ${was}, not "${composite.id}": only nodes identical in both are reused`);
  }
  if (!options.resume) return out;
  for (const node of composite.nodes) {
    const earlier = previous.nodes[node.id];
    if (earlier?.status !== "succeeded" || earlier.reusable !== false) continue;
    out += warn(`node "${node.id}" runs again, and the nodes after it: its output in run ${previous.runId} ${notReusableWhy(earlier)}`);
  }
  return out;
}

function notReusableWhy(node: RunRecord["nodes"][string]): string {
  if (node.redacted) return "held a secret, which the record keeps only as ***";
  const output = node.output as { $omitted?: unknown } | null | undefined;
  if (typeof output === "object" && output !== null && typeof output.$omitted === "string") return "was too big to keep in the record";
  return "is binary data, which JSON cannot restore";
}
