const DESCRIPTOR_KEYS = new Set([
  "type", "default", "control", "options", "required", "label", "placeholder", "helpText",
  "min", "max", "step", "language", "fileTypes", "description",
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * True for an editor parameter descriptor (`{ type, default, control, … }`): every key is a
 * descriptor key and it has `type` or `control`. Ordinary object values (edit-fields `values`) fail this test.
 */
export function isDescriptor(v: unknown): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  if (keys.length === 0) return false;
  if (!keys.every((k) => DESCRIPTOR_KEYS.has(k))) return false;
  return typeof v.type === "string" && ("control" in v || "default" in v || "required" in v || "options" in v || "fileTypes" in v);
}

/**
 * Resolve a node's parameter values (SPEC §2.2): values come from `data` when present, else
 * `parameters`; descriptors are unwrapped to their `default` (descriptors without a default are dropped).
 */
export function resolveParameterValues(
  parameters: Record<string, unknown> | null | undefined,
  data: Record<string, unknown> | null | undefined,
): { values: Record<string, unknown>; fromData: boolean } {
  const values: Record<string, unknown> = {};
  if (parameters) {
    for (const [k, v] of Object.entries(parameters)) {
      if (isDescriptor(v)) {
        if ("default" in v) values[k] = v.default;
      } else if (!data) {
        values[k] = v;
      }
    }
  }
  if (data) {
    for (const [k, v] of Object.entries(data)) values[k] = isDescriptor(v) && "default" in v ? v.default : v;
    return { values, fromData: true };
  }
  return { values, fromData: false };
}

/** Keys the editor writes into `data` that are not parameters. */
export const EDITOR_DATA_KEYS = new Set(["customLabel", "lastModified", "label", "description", "icon", "color"]);
