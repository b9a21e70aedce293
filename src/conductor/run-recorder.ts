import { createHash } from "node:crypto";
import { hostname } from "node:os";
import type { Composite } from "../composite/model.js";
import type { EventBus } from "../events/create-event-bus.js";
import type { NodeStatus, RunEvent, RunEventMap, RunStatus, StatusCounts } from "../events/event-map.js";
import type { SerializedError } from "../errors.js";
import { stringifyJsonSafe, toJsonSafe } from "../reporters/json-safe.js";
import type { Storage } from "../storage/types.js";
import { isJsonFaithful } from "./node-hash.js";

/** Per-node facts in a run record. */
export interface NodeRecord {
  type: string;
  status?: NodeStatus;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  output?: unknown;
  error?: SerializedError;
  reason?: string;
  /** Cache key of type, parameters and inputs (for `--resume`). */
  hash?: string;
  /** False when the output cannot be restored exactly from JSON (binary data): `--resume` re-runs the node. */
  reusable?: boolean;
  /** Loop-body nodes: how many iterations ended in each status. */
  iterations?: Partial<Record<NodeStatus, number>>;
}

/** `runs/<runId>.json`: what happened in one run. */
export interface RunRecord {
  runId: string;
  status: RunStatus | "running";
  composite: { id: string; name: string; file?: string; hash: string };
  input: unknown;
  vars: Record<string, unknown>;
  startedAt: string;
  /** The process that wrote it: `atomiton runs` marks a "running" record whose process is gone as abandoned. */
  pid: number;
  host: string;
  finishedAt?: string;
  durationMs?: number;
  output?: unknown;
  error?: SerializedError;
  counts?: StatusCounts;
  nodes: Record<string, NodeRecord>;
}

export const runRecordKey = (runId: string): string => `runs/${runId}.json`;
export const eventLogKey = (runId: string): string => `runs/${runId}.ndjson`;

/** A stable hash of what a composite does (ids, types, parameters, edges), for records and resume. */
export function hashComposite(composite: Composite): string {
  const strip = (body: Pick<Composite, "nodes" | "edges">): unknown => ({
    nodes: body.nodes.map((n) => ({ id: n.id, type: n.type, parameters: n.parameters, if: n.if, enabled: n.enabled, onError: n.onError, body: n.body ? strip(n.body) : undefined })),
    edges: body.edges.map((e) => [e.source, e.sourcePort, e.target, e.targetPort]),
  });
  return createHash("sha256").update(stringifyJsonSafe(strip(composite))).digest("hex").slice(0, 16);
}

const CHECKPOINT_MS = 2_000;

/**
 * Builds the run record and the NDJSON event log from the bus, and saves both through storage:
 * at run start, every couple of seconds while running, and at the end. Every save is an atomic
 * replace, so a crash (even SIGKILL) leaves the previous complete version, never a torn file.
 */
export class RunRecorder {
  private readonly lines: string[] = [];
  private readonly record: RunRecord;
  private readonly types = new Map<string, string>();
  private readonly off: () => void;
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;

  constructor(
    private readonly storage: Storage,
    bus: EventBus<RunEventMap>,
    init: { runId: string; composite: Composite; input: unknown; vars: Record<string, unknown> },
    private readonly redact: (text: string) => string = (t) => t,
  ) {
    this.record = {
      runId: init.runId,
      status: "running",
      composite: { id: init.composite.id, name: init.composite.name, hash: hashComposite(init.composite), ...(init.composite.file ? { file: init.composite.file } : {}) },
      // No input stays absent (not null), so `--resume` hands root nodes the same undefined and their cache keys match.
      input: init.input === undefined ? undefined : toJsonSafe(init.input),
      vars: toJsonSafe(init.vars) as Record<string, unknown>,
      startedAt: new Date().toISOString(),
      pid: process.pid,
      host: hostname(),
      nodes: {},
    };
    this.off = bus.onAny((type, payload) => this.onEvent({ type, ...payload } as RunEvent));
  }

  private onEvent(event: RunEvent): void {
    this.lines.push(this.redact(stringifyJsonSafe(event)));
    const r = this.record;
    switch (event.type) {
      case "run:start":
        for (const n of event.nodes) {
          this.types.set(n.id, n.type);
          r.nodes[n.id] = { type: n.type, attempts: 0 };
        }
        this.schedule(true);
        break;
      case "node:start": {
        const n = this.node(event.nodeId);
        n.attempts = Math.max(n.attempts, event.attempt);
        n.startedAt ??= new Date(event.ts).toISOString();
        break;
      }
      case "node:finish": {
        const n = this.node(event.nodeId);
        if (event.iteration !== undefined) {
          const it = (n.iterations ??= {});
          it[event.status] = (it[event.status] ?? 0) + 1;
          if (n.status !== "failed") n.status = event.status;
        } else {
          n.status = event.status;
        }
        n.finishedAt = new Date(event.ts).toISOString();
        n.durationMs = (n.durationMs !== undefined && event.iteration !== undefined ? n.durationMs : 0) + event.durationMs;
        n.attempts = Math.max(n.attempts, event.attempt);
        if (event.output !== undefined) {
          n.output = toJsonSafe(event.output);
          if (event.iteration === undefined && !isJsonFaithful(event.output)) n.reusable = false;
        }
        if (event.hash !== undefined) n.hash = event.hash;
        if (event.error) n.error = event.error;
        if (event.reason !== undefined) n.reason = event.reason;
        this.schedule(false);
        break;
      }
      case "run:finish":
        r.status = event.status;
        r.finishedAt = new Date(event.ts).toISOString();
        r.durationMs = event.durationMs;
        r.counts = event.counts;
        if (event.output !== undefined) r.output = toJsonSafe(event.output);
        if (event.error) r.error = event.error;
        break;
      default:
        this.schedule(false);
    }
  }

  private node(id: string): NodeRecord {
    return (this.record.nodes[id] ??= { type: this.types.get(id) ?? "unknown", attempts: 0 });
  }

  /** Save now (run start) or within CHECKPOINT_MS. */
  private schedule(now: boolean): void {
    this.dirty = true;
    if (now) {
      this.flush();
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, CHECKPOINT_MS);
    this.timer.unref();
  }

  private flush(): Promise<void> {
    if (!this.dirty) return this.saving;
    this.dirty = false;
    const json = this.redact(JSON.stringify(this.record, null, 2));
    const log = this.lines.length > 0 ? `${this.lines.join("\n")}\n` : "";
    const id = this.record.runId;
    this.saving = this.saving
      .then(async () => {
        await this.storage.saveText(eventLogKey(id), log);
        await this.storage.saveText(runRecordKey(id), `${json}\n`);
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      });
    return this.saving;
  }

  /** Stop listening and write the final record and log. Rejects if any save failed. */
  async finish(): Promise<RunRecord> {
    this.off();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = true;
    await this.flush();
    if (this.failure) throw this.failure;
    return this.record;
  }
}
