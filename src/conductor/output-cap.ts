/**
 * The size cap on outputs kept in run records and event logs. A node output whose JSON is longer
 * than `MAX_RECORDED_OUTPUT_CHARS` still flows to downstream nodes and to the run's result in full;
 * the record and the event log keep an `OmittedOutput` marker in its place (the run warns once per
 * node), and `--resume` re-runs that node instead of reusing a marker. Without the cap a ~280 MB
 * output made the record longer than V8's longest string: the final save failed and the record
 * stayed `running`.
 */
export const MAX_RECORDED_OUTPUT_CHARS = 64 * 1024 * 1024;

const PREVIEW_CHARS = 200;

/** What a record holds instead of an output over the cap. */
export interface OmittedOutput {
  $omitted: string;
  /** Characters of the output's JSON, or null when it was too long to serialize at all. */
  chars: number | null;
  limit: number;
  /** The first characters of a string output. */
  preview?: string;
}

export function omittedOutput(output: unknown, chars: number | null): OmittedOutput {
  const size = chars === null ? "more than V8 can hold in one string" : `${chars} characters of JSON`;
  const marker: OmittedOutput = {
    $omitted: `output too large for the run record (${size}; the limit is ${MAX_RECORDED_OUTPUT_CHARS}); the run used it in full`,
    chars,
    limit: MAX_RECORDED_OUTPUT_CHARS,
  };
  if (typeof output === "string") marker.preview = output.slice(0, PREVIEW_CHARS);
  return marker;
}

/** True for a marker `omittedOutput` made (so resume does not hand it on as if it were the output). */
export function isOmittedOutput(value: unknown): value is OmittedOutput {
  return typeof value === "object" && value !== null && typeof (value as { $omitted?: unknown }).$omitted === "string" && "limit" in value;
}

/**
 * `payload`'s JSON via `toJson`, with its `output` replaced by a marker when the text would be over
 * the cap (or cannot be built: "Invalid string length"). `capped` is the payload the record keeps.
 */
export function jsonWithinCap<T extends { output?: unknown }>(payload: T, toJson: (value: T) => string): { json: string; capped: T; omitted: boolean } {
  let json: string | undefined;
  try {
    json = toJson(payload);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  if (json !== undefined && json.length <= MAX_RECORDED_OUTPUT_CHARS) return { json, capped: payload, omitted: false };
  const capped = { ...payload, output: omittedOutput(payload.output, json === undefined ? null : json.length) };
  return { json: toJson(capped), capped, omitted: true };
}
