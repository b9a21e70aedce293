import type { NodeStatus, RunEvent, RunEventMap, RunEventName, StatusCounts } from "../../../src/events/event-map.js";

export const RUN_ID = "run-1";
export const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

/** Builds events with increasing timestamps (ms after T0) and the shared run id. */
export class EventsBuilder {
  readonly events: RunEvent[] = [];
  private t = 0;

  constructor(readonly runId = RUN_ID) {}

  /** Advances the clock by `ms` and returns this builder. */
  wait(ms: number): this {
    this.t += ms;
    return this;
  }

  add<K extends RunEventName>(type: K, payload: Omit<RunEventMap[K], "runId" | "ts">): this {
    this.events.push({ type, runId: this.runId, ts: T0 + this.t, ...payload } as unknown as RunEvent);
    return this;
  }
}

export interface FixtureOptions {
  /** Make this iteration of the loop body fail (the loop and the run then fail). */
  failIteration?: number;
  file?: string;
}

/**
 * A realistic run of `release-notes` (4 nodes + 1 loop body node):
 * - fetch: logs, fails once (retry 2/3 in 500ms), then succeeds after 812ms
 * - each (loop) over 3 items with body node `each-body` (progress "n/3")
 * - write: fails with E_FILE and a hint
 * - notify: skipped because write failed
 */
export function buildRunEvents(options: FixtureOptions = {}): RunEvent[] {
  const b = new EventsBuilder();
  const file = options.file ?? "flows/release.yaml";
  b.add("run:start", {
    composite: { id: "release-notes", name: "release-notes", file },
    nodes: [
      { id: "fetch", type: "http-request", line: 12 },
      { id: "each", type: "loop", line: 20 },
      { id: "each-body", type: "transform", line: 24, parent: "each" },
      { id: "write", type: "file-system", line: 30 },
      { id: "notify", type: "log", line: 36 },
    ],
    plan: [["fetch"], ["each"], ["write"], ["notify"]],
  });
  b.wait(1).add("node:start", { nodeId: "fetch", attempt: 1 });
  b.wait(2).add("node:log", { nodeId: "fetch", level: "info", message: "GET https://api.example.test/pulls" });
  // `maxAttempts` is not in SPEC §5; reporters show "retry 2/3" when the conductor sends it.
  const retry = {
    nodeId: "fetch",
    attempt: 2,
    delayMs: 500,
    error: { code: "E_HTTP_STATUS", message: "503 Service Unavailable", retryable: true },
    maxAttempts: 3,
  };
  b.wait(9).add("node:retry", retry);
  b.wait(500).add("node:start", { nodeId: "fetch", attempt: 2 });
  b.wait(100).add("node:log", { nodeId: "fetch", level: "warn", message: "slow response\n" });
  b.wait(200).add("node:finish", { nodeId: "fetch", status: "succeeded", durationMs: 812, attempt: 2, output: [{ title: "a" }] });

  b.wait(1).add("node:start", { nodeId: "each", attempt: 1 });
  let failed = 0;
  for (let i = 0; i < 3; i++) {
    b.wait(1).add("node:start", { nodeId: "each-body", attempt: 1, iteration: i });
    b.wait(1).add("node:log", { nodeId: "each-body", level: "info", message: `item ${i}`, iteration: i });
    const status: NodeStatus = options.failIteration === i ? "failed" : "succeeded";
    if (status === "failed") failed++;
    b.wait(4).add("node:finish", {
      nodeId: "each-body",
      status,
      durationMs: 5,
      attempt: 1,
      iteration: i,
      ...(status === "failed" ? { error: { code: "E_CODE", message: `boom at ${i}`, retryable: false } } : { output: `- ${i}` }),
    });
    b.add("node:progress", { nodeId: "each", progress: (i + 1) / 3, message: `${i + 1}/3` });
  }
  const loopFailed = failed > 0;
  b.wait(1).add("node:finish", {
    nodeId: "each",
    status: loopFailed ? "failed" : "succeeded",
    durationMs: 20,
    attempt: 1,
    ...(loopFailed ? { error: { code: "E_CODE", message: "1 of 3 iterations failed", retryable: false } } : {}),
  });

  const counts: StatusCounts = { succeeded: 1, failed: 0, skipped: 0, cancelled: 0 };
  if (loopFailed) {
    counts.failed++;
    b.add("node:finish", { nodeId: "write", status: "skipped", durationMs: 0, attempt: 1, reason: 'upstream "each" failed' });
    counts.skipped++;
  } else {
    counts.succeeded++;
    b.wait(1).add("node:start", { nodeId: "write", attempt: 1 });
    b.wait(3).add("node:finish", {
      nodeId: "write",
      status: "failed",
      durationMs: 3,
      attempt: 1,
      error: {
        code: "E_FILE",
        message: "EACCES: permission denied, open 'out/RELEASE_NOTES.md'",
        retryable: false,
        hint: "check that out/ is writable",
      },
    });
    counts.failed++;
  }
  b.add("node:finish", { nodeId: "notify", status: "skipped", durationMs: 0, attempt: 1, reason: 'upstream "write" failed' });
  counts.skipped++;
  b.wait(1).add("run:finish", {
    status: "failed",
    durationMs: b.events.length > 0 ? 850 : 0,
    counts,
    error: { code: loopFailed ? "E_CODE" : "E_FILE", message: loopFailed ? 'node "each" failed' : 'node "write" failed', retryable: false },
  });
  return b.events;
}

/**
 * A synthetic run of `n` independent nodes, `concurrency` running at a time; every 500th fails.
 * Lazily generated so a 10,000-node run does not sit in memory twice.
 */
export function* syntheticRun(n: number, concurrency = 8): Generator<RunEvent> {
  const b = new EventsBuilder("run-big");
  const nodes = Array.from({ length: n }, (_, i) => ({ id: `n-${i}`, type: "delay" }));
  b.add("run:start", { composite: { id: "big", name: "big-graph" }, nodes, plan: [nodes.map((x) => x.id)] });
  const counts: StatusCounts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
  let started = 0;
  let finished = 0;
  const flush = function* (): Generator<RunEvent> {
    yield* b.events.splice(0);
  };
  yield* flush();
  while (finished < n) {
    while (started < n && started - finished < concurrency) {
      b.wait(1).add("node:start", { nodeId: `n-${started}`, attempt: 1 });
      b.add("node:log", { nodeId: `n-${started}`, level: "info", message: `working on ${started}` });
      started++;
    }
    const id = finished;
    const failed = id % 500 === 499;
    b.wait(1).add("node:finish", {
      nodeId: `n-${id}`,
      status: failed ? "failed" : "succeeded",
      durationMs: 2,
      attempt: 1,
      ...(failed ? { error: { code: "E_NODE", message: `node ${id} broke`, retryable: true } } : {}),
    });
    counts[failed ? "failed" : "succeeded"]++;
    finished++;
    yield* flush();
  }
  b.wait(1).add("run:finish", { status: counts.failed > 0 ? "failed" : "succeeded", durationMs: 2 * n, counts });
  yield* flush();
}
