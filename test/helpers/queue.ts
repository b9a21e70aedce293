import { execa, type ResultPromise } from "execa";
import { createRunId } from "../../src/conductor/create-conductor.js";
import type { QueueClient } from "../../src/queue/client.js";
import type { RunJob } from "../../src/queue/names.js";
import type { Storage } from "../../src/storage/types.js";
import { BIN, ROOT } from "./cli.js";

/** A real `atomiton worker` process (the built CLI), its stderr collected. */
export interface WorkerProcess {
  readonly pid: number;
  readonly proc: ResultPromise;
  log(): string;
  /** Resolves once the log matches (rejects after `withinMs`). */
  waitFor(pattern: RegExp, withinMs?: number): Promise<void>;
  /** SIGTERM (or the given signal) and wait for the exit; resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | undefined>;
}

/** A `run <file> --queue` submitter left running (to signal, stop or watch), its output collected. */
export interface Submitter {
  readonly child: ResultPromise;
  stderr(): string;
  stdout(): string;
}

/** Starts `atomiton run <file> --reporter plain --queue <url> --queue-name <ns> …args` in `cwd`. */
export function submitInBackground(url: string, namespace: string, file: string, cwd: string, args: string[] = []): Submitter {
  const child = execa("node", [BIN, "run", file, "--reporter", "plain", "--queue", url, "--queue-name", namespace, ...args], { cwd, reject: false, env: { NO_COLOR: "1", CI: "true" }, stdin: "ignore", buffer: false });
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  return { child, stderr: () => stderr, stdout: () => stdout };
}

export async function startWorker(url: string, namespace: string, args: string[] = [], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<WorkerProcess> {
  const proc = execa("node", [BIN, "worker", "--redis", url, "--queue", namespace, ...args], {
    reject: false,
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", CI: "true", ...(options.env ?? {}) },
    stdin: "ignore",
    buffer: false,
  });
  let text = "";
  proc.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  proc.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const handle: WorkerProcess = {
    pid: proc.pid!,
    proc,
    log: () => text,
    async waitFor(pattern, withinMs = 30_000) {
      const deadline = Date.now() + withinMs;
      while (!pattern.test(text)) {
        if (proc.exitCode !== null) throw new Error(`worker exited (${proc.exitCode}) before ${pattern}:\n${text}`);
        if (Date.now() > deadline) throw new Error(`worker log did not match ${pattern} within ${withinMs} ms:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const result = await proc;
      return result.exitCode;
    },
  };
  await handle.waitFor(/taking runs from/);
  return handle;
}

/** Polls `check` until it returns a value other than undefined (rejects after `withinMs`). */
export async function eventually<T>(check: () => Promise<T | undefined>, withinMs: number, what: string): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A 10-node composite: a chain of no-op edit-fields nodes, the last one's output the run's. */
export function tenNodes(delay?: string): string {
  const nodes = Array.from({ length: 10 }, (_, i) =>
    delay && i % 2 === 0 ? `  - { id: n${i}, type: delay, parameters: { duration: ${delay} } }` : `  - { id: n${i}, type: edit-fields, parameters: { values: { step: ${i} } } }`,
  );
  const edges = Array.from({ length: 9 }, (_, i) => `n${i} -> n${i + 1}`);
  return `id: ten\nname: Ten\nnodes:\n${nodes.join("\n")}\nedges: [${edges.join(", ")}]\n`;
}

/** Submits `count` runs of `text` straight to the queue (as `run --queue` does, without 500 CLI starts). */
export async function submitMany(client: QueueClient, text: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const runId = createRunId();
    ids.push(runId);
    const job: RunJob = { runId, request: { text, file: "ten.yaml", input: { i } }, nodeTypes: ["delay", "edit-fields"], composite: { id: "ten", name: "Ten" }, submittedAt: Date.now(), submitter: "test" };
    await client.submit(job);
  }
  return ids;
}

/** Per run: its final record's status and how many run:finish / run:start lines its event log holds. */
export async function outcomes(storage: Storage, ids: string[]): Promise<Map<string, { status: string; finishes: number; reused: number }>> {
  const out = new Map<string, { status: string; finishes: number; reused: number }>();
  for (const id of ids) {
    const record = (await storage.load(`runs/${id}.json`)) as { status: string } | undefined;
    const log = (await storage.loadText(`runs/${id}.ndjson`)) ?? "";
    out.set(id, { status: record?.status ?? "missing", finishes: (log.match(/"type":"run:finish"/g) ?? []).length, reused: (log.match(/"reused":true/g) ?? []).length });
  }
  return out;
}
