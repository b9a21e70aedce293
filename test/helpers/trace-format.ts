/** A `ph: "X"` (complete) event of the Trace Event Format. */
export interface CompleteEvent {
  name: string;
  cat?: string;
  ph: "X";
  ts: number;
  dur: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

const PHASES = new Set(["X", "M", "i", "I", "B", "E", "C"]);
const METADATA = new Set(["process_name", "process_labels", "process_sort_index", "thread_name", "thread_sort_index"]);

/**
 * Checks a trace against the Trace Event Format (the JSON Object Format that Perfetto,
 * chrome://tracing and speedscope read) and returns its complete events. Throws, naming the
 * event, when: a field is missing or of the wrong type; timestamps go back on one thread; two
 * spans on one thread overlap without one containing the other; a thread with spans has no name.
 * `disjointTids` are threads on which spans may not even nest (one concurrency slot runs one thing).
 */
export function validateTrace(text: string, options: { disjointTids?: (tid: number) => boolean } = {}): CompleteEvent[] {
  const trace = JSON.parse(text) as { traceEvents?: unknown };
  if (typeof trace !== "object" || trace === null || !Array.isArray(trace.traceEvents)) throw new Error("not a trace: no traceEvents array");
  const spans: CompleteEvent[] = [];
  const named = new Set<string>();
  const lastTs = new Map<string, number>();
  const open = new Map<string, CompleteEvent[]>();
  trace.traceEvents.forEach((raw: unknown, i: number) => {
    const e = raw as Record<string, unknown>;
    const where = `traceEvents[${i}] ${JSON.stringify(e).slice(0, 200)}`;
    if (typeof e.name !== "string" || typeof e.ph !== "string" || !PHASES.has(e.ph)) throw new Error(`${where}: needs a name and a known ph`);
    if (typeof e.ts !== "number" || !Number.isFinite(e.ts) || e.ts < 0) throw new Error(`${where}: ts must be a number of µs ≥ 0`);
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) throw new Error(`${where}: pid and tid must be integers`);
    const thread = `${e.pid}/${e.tid}`;
    if (e.ph === "M") {
      if (!METADATA.has(e.name) || typeof e.args !== "object" || e.args === null) throw new Error(`${where}: metadata needs a known name and args`);
      if (e.name === "thread_name") named.add(thread);
      return;
    }
    if (e.ts < (lastTs.get(thread) ?? 0)) throw new Error(`${where}: ts goes back on thread ${thread}`);
    lastTs.set(thread, e.ts);
    if (e.ph !== "X") return;
    if (typeof e.dur !== "number" || !Number.isFinite(e.dur) || e.dur < 0) throw new Error(`${where}: a complete event needs dur ≥ 0`);
    const span = e as unknown as CompleteEvent;
    const stack = open.get(thread) ?? [];
    open.set(thread, stack);
    while (stack.length > 0 && stack.at(-1)!.ts + stack.at(-1)!.dur <= span.ts) stack.pop();
    const parent = stack.at(-1);
    if (parent && span.ts + span.dur > parent.ts + parent.dur) throw new Error(`${where}: overlaps ${parent.name} on thread ${thread} without nesting in it`);
    if (parent && options.disjointTids?.(span.tid)) throw new Error(`${where}: inside ${parent.name} on thread ${thread}, where spans must not overlap`);
    stack.push(span);
    spans.push(span);
  });
  for (const s of spans) if (!named.has(`${s.pid}/${s.tid}`)) throw new Error(`thread ${s.pid}/${s.tid} has spans but no thread_name`);
  return spans;
}
