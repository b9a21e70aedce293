import path from "node:path";
import type { Command } from "commander";
import { nodeCountText } from "../../reporters/count-text.js";
import { z } from "zod";
import { didYouMean, suggest } from "../../composite/suggest.js";
import { eventLogKey, runRecordKey } from "../../conductor/run-recorder.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { RUN_EVENT_NAMES, type RunEvent } from "../../events/event-map.js";
import { detectTerminal } from "../../reporters/detect-terminal.js";
import { formatDuration } from "../../reporters/format-duration.js";
import { stringifyJsonSafe } from "../../events/json-safe.js";
import { ndjsonLines } from "../../events/ndjson-lines.js";
import { iterationsText, statusText, unfinishedStatus } from "../run-status-text.js";
import type { Storage } from "../../storage/types.js";
import { shownStatus } from "../../conductor/run-liveness.js";
import { mapBounded } from "../../storage/map-bounded.js";
import { ExitCode } from "../exit-codes.js";
import { stdoutStyle, type CliIO } from "../io.js";
import { openStorage, renderStorageLocation } from "../open-storage.js";
import { renderTable } from "../render-table.js";
import { buildTimeline, renderTimeline } from "../render-timeline.js";
import { buildRunProfile } from "../timeline/build-profile.js";
import { formatBytes } from "../timeline/svg.js";
import { loadRunPredecessors } from "../timeline/dependencies.js";
import { parseTimelineFormat, renderProfile, TIMELINE_FORMATS, writeTextFile } from "../timeline/timeline-output.js";
import { truncate } from "../../terminal-width.js";
import { escapeControlCharacters, escapeControlDeep } from "../../terminal-text.js";
import { registerRunsStats } from "./runs-stats.js";

const ErrorSchema = z.object({ code: z.string(), message: z.string() }).loose();

const NodeRecordSchema = z
  .object({
    type: z.string(),
    status: z.string().optional(),
    attempts: z.number().default(0),
    startedAt: z.string().optional(),
    durationMs: z.number().optional(),
    output: z.unknown().optional(),
    error: ErrorSchema.optional(),
    reason: z.string().optional(),
    iterations: z.record(z.string(), z.number()).optional(),
    /** `run --profile` runs: what the node cost (run-recorder.ts, NodeProfileRecord). */
    profile: z.object({ queueWaitMs: z.number(), cpuTimeMs: z.number(), heapGrowthBytes: z.number() }).loose().optional(),
  })
  .loose();

/** A stored run record (`runs/<runId>.json`), parsed leniently: the fields `runs` shows. */
export const StoredRunSchema = z
  .object({
    runId: z.string(),
    status: z.string(),
    composite: z.object({ id: z.string(), name: z.string(), file: z.string().optional() }).loose(),
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    durationMs: z.number().optional(),
    output: z.unknown().optional(),
    error: ErrorSchema.optional(),
    counts: z.record(z.string(), z.number()).optional(),
    nodes: z.record(z.string(), NodeRecordSchema).default({}),
    pid: z.number().optional(),
    pidStart: z.string().optional(),
    host: z.string().optional(),
    refreshedAt: z.string().optional(),
    heartbeatMs: z.number().optional(),
  })
  .loose();
export type StoredRun = z.infer<typeof StoredRunSchema>;

export interface StorageFlags {
  storage: string;
  dataDir?: string;
  redis?: string;
  queueName?: string;
  color?: boolean;
}

interface RunsFlags extends StorageFlags {
  limit: string;
  status?: string;
  json?: boolean;
}

interface ShowFlags extends StorageFlags {
  json?: boolean;
  timeline?: boolean;
  format?: string;
  output?: string;
}

/**
 * `--storage`/`--data-dir`/`--redis`/`--queue-name` as on `run` (where `--queue` is the URL).
 * `underRuns`: a subcommand of `runs`, which has the same options. Commander gives an option written
 * after the subcommand (`runs show id --storage redis`) to the parent, so the subcommand's own
 * --storage has no default: a default "filesystem" would hide the parent's value.
 */
export function addStorageOptions(command: Command, underRuns = false): Command {
  return command
    .option("--storage <type>", underRuns ? "filesystem, memory or redis (default: filesystem)" : "filesystem, memory or redis", underRuns ? undefined : "filesystem")
    .option("--data-dir <dir>", "where runs and composites are stored (default: $ATOMITON_DATA_DIR or ./.atomiton)")
    .option("--redis <url>", "with --storage redis: the Redis of queue mode (default: $ATOMITON_REDIS_URL)")
    .option("--queue-name <name>", "with --storage redis: the queue's namespace (default: $ATOMITON_QUEUE or atomiton)");
}

export function registerRuns(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const runs = addStorageOptions(
    program
      .command("runs")
      .description("List stored runs, newest first (status, composite, start, duration, node counts)")
      .option("-n, --limit <n>", "show at most n runs", "20")
      .option("--status <status>", "only runs with this status: succeeded, failed, cancelled, running or abandoned (killed mid-run)")
      .option("--json", "print JSON"),
  )
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton runs
  $ atomiton runs --status failed --limit 5
  $ atomiton runs show 20260501T120304-3f9a2c --timeline
  $ atomiton runs --json | jq '.[0].runId'`,
    )
    .action(async (flags: RunsFlags) => {
      setExit(await listRuns(flags, io));
    });
  addStorageOptions(
    runs
      .command("show")
      .description("Show one stored run: per-node status, duration, attempts, outputs and errors")
      .argument("<runId>", "a run id (a unique prefix is enough)")
      .option("--json", "print the run record as JSON")
      .option("--timeline", "draw a gantt chart of node start/finish times from the event log")
      .option("--format <format>", `the timeline as ${TIMELINE_FORMATS.join("|")}: svg is a Gantt picture, trace is Chrome Trace Event JSON (implies --timeline)`)
      .option("-o, --output <file>", "write to this file (atomically) instead of stdout"),
    true,
  )
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton runs show 20260501T120304-3f9a2c
  $ atomiton runs show 20260501T120304 --timeline
  $ atomiton runs show 20260501T120304 --timeline --format svg --output run.svg
  $ atomiton runs show 20260501T120304 --timeline --format trace > run.trace.json   # open in ui.perfetto.dev
  $ atomiton runs show 20260501T120304-3f9a2c --json | jq .nodes.fetch.error`,
    )
    .action(async (runId: string, flags: ShowFlags) => {
      setExit(await showRun(runId, { ...runs.opts<StorageFlags>(), ...definedOnly(flags) }, io));
    });
  registerRunsStats(runs, io, setExit);
}

/** Options given on the subcommand win over the parent's (`runs --data-dir x show id` also works). */
export function definedOnly<T extends object>(flags: T): Partial<T> {
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Every stored run id (from `runs/*.json`). */
export async function storedRunIds(storage: Storage): Promise<string[]> {
  return (await storage.list("runs/")).filter((k) => k.endsWith(".json")).map((k) => k.slice("runs/".length, -".json".length));
}

/** The stored run id `given` stands for (exact, else a unique prefix); E_NOT_FOUND with a suggestion. */
export async function resolveRunId(storage: Storage, given: string): Promise<string> {
  const ids = await storedRunIds(storage);
  if (ids.includes(given)) return given;
  const prefixed = ids.filter((id) => given !== "" && id.startsWith(given));
  if (prefixed.length === 1) return prefixed[0]!;
  const where = storage.type === "memory" ? "memory storage (nothing is kept)" : renderStorageLocation(storage, "runs/");
  if (prefixed.length > 1) {
    throw new AtomitonError(ErrorCode.USAGE, `run id "${given}" is ambiguous: ${prefixed.slice(0, 5).join(", ")}${prefixed.length > 5 ? ", …" : ""}`, { retryable: false, hint: "give more characters of the id" });
  }
  const guess = suggest(given, ids);
  throw new AtomitonError(ErrorCode.NOT_FOUND, `no run "${given}" in ${where}${guess ? `: did you mean "${guess}"?` : ""}`, {
    retryable: false,
    hint: ids.length === 0 ? `run a composite first (atomiton run flow.yaml), or ${storage.type === "redis" ? "pass the queue's --queue-name (or ATOMITON_QUEUE)" : "pass --data-dir"}` : "list stored runs with: atomiton runs",
  });
}

export async function loadRun(storage: Storage, runId: string): Promise<StoredRun | undefined> {
  const parsed = StoredRunSchema.safeParse(await storage.load(runRecordKey(runId)).catch(() => undefined));
  if (!parsed.success) return undefined;
  const run = parsed.data;
  // A "running" record whose process is gone (this host), or whose heartbeat stopped (another host), was killed: say so.
  run.status = await shownStatus(storage, run);
  return run;
}

/** Why `loadRun` gave nothing: the storage's error (JSON that does not parse), or the first field that is wrong. */
async function whyUnreadable(storage: Storage, runId: string): Promise<string> {
  let value: unknown;
  try {
    value = await storage.load(runRecordKey(runId));
  } catch (error) {
    return (error as Error).message;
  }
  const parsed = StoredRunSchema.safeParse(value);
  const issue = parsed.success ? undefined : parsed.error.issues[0];
  return issue === undefined ? "it is not a run record" : `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`;
}

/**
 * The event log of a run; torn or unparseable lines (a crash mid-append) are skipped. It is read as
 * bytes and cut into lines there: a log over V8's longest string (512 MiB, a run whose commands
 * printed millions of lines) cannot be one string, and reading it as text failed as "no event log".
 * A log that cannot be read is an error that says why, not an empty log.
 */
export async function loadEventLog(storage: Storage, runId: string): Promise<RunEvent[]> {
  let bytes: Buffer | undefined;
  try {
    bytes = await storage.loadBytesFrom(eventLogKey(runId), 0);
  } catch (error) {
    throw new AtomitonError(ErrorCode.STORAGE, `the event log of run "${runId}" cannot be read: ${(error as Error).message}`, { retryable: false, cause: error, hint: `check ${renderStorageLocation(storage, eventLogKey(runId))}` });
  }
  return bytes === undefined ? [] : parseEventLog(bytes);
}

/** The events of an NDJSON event log (text or its UTF-8 bytes); torn and foreign lines are skipped. */
export function parseEventLog(log: string | Uint8Array): RunEvent[] {
  const events: RunEvent[] = [];
  for (const line of typeof log === "string" ? log.split("\n") : ndjsonLines(log).lines) {
    if (line.trim() === "") continue;
    try {
      const value = JSON.parse(line) as { type?: unknown; ts?: unknown };
      if (typeof value === "object" && value !== null && typeof value.ts === "number" && (RUN_EVENT_NAMES as readonly unknown[]).includes(value.type)) events.push(value as RunEvent);
    } catch {
      // A torn last line: skip it.
    }
  }
  return events;
}

/** `2026-05-01 12:03:04` in local time. */
export function formatTimestamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function countsText(run: StoredRun): string {
  const counts = run.counts ?? tally(run);
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  return parts.length > 0 ? parts.join(", ") : nodeCountText(Object.keys(run.nodes).length, 0);
}

function tally(run: StoredRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of Object.values(run.nodes)) if (n.status) out[n.status] = (out[n.status] ?? 0) + 1;
  return out;
}

/** What the listing shows of a run: its counts, not its outputs, input or per-node facts (a record may be many MiB). */
function listedFields(run: StoredRun): StoredRun {
  const nodes = Object.fromEntries(Object.entries(run.nodes).map(([id, n]) => [id, { type: n.type, attempts: n.attempts }]));
  return { runId: run.runId, status: run.status, composite: run.composite, startedAt: run.startedAt, durationMs: run.durationMs, counts: run.counts ?? tally(run), nodes };
}

/** What `runs --status` can filter on: a finished run's status, a run in progress, or one whose process died. */
const LISTED_STATUSES = ["succeeded", "failed", "cancelled", "running", "abandoned"];

async function listRuns(flags: RunsFlags, io: CliIO): Promise<number> {
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new AtomitonError(ErrorCode.USAGE, `--limit must be a whole number ≥ 1, got ${flags.limit}`, { retryable: false });
  if (flags.status !== undefined && !LISTED_STATUSES.includes(flags.status)) {
    const guess = didYouMean(flags.status, LISTED_STATUSES);
    throw new AtomitonError(ErrorCode.USAGE, `--status "${flags.status}" is not a run status`, { retryable: false, hint: `${guess ? `${guess} ` : ""}use one of ${LISTED_STATUSES.join(", ")}` });
  }
  const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
  const ids = await storedRunIds(storage);
  const loaded = await mapBounded(ids, (id) => loadRun(storage, id), listedFields);
  const unreadable = ids.filter((_, k) => loaded[k] === undefined);
  if (unreadable.length > 0) {
    const shown = unreadable.slice(0, 3).join(", ") + (unreadable.length > 3 ? ", …" : "");
    io.stderr.write(`warning: ${unreadable.length} run record${unreadable.length === 1 ? "" : "s"} could not be read and ${unreadable.length === 1 ? "is" : "are"} not listed: ${shown} (atomiton runs show <id> says why)\n`);
  }
  let runs = loaded.filter((r): r is StoredRun => r !== undefined).sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId));
  if (flags.status) runs = runs.filter((r) => r.status === flags.status);
  runs = runs.slice(0, limit);
  if (flags.json) {
    const summary = runs.map((r) => ({ runId: r.runId, status: r.status, composite: r.composite, startedAt: r.startedAt, durationMs: r.durationMs, counts: r.counts ?? tally(r) }));
    io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return ExitCode.ok;
  }
  const style = stdoutStyle(io, flags.color);
  if (runs.length === 0) {
    const where = storage.type === "memory" ? "memory storage" : renderStorageLocation(storage, "runs/", io.cwd);
    io.stdout.write(`no ${flags.status ? `${flags.status} ` : ""}runs in ${where}\n`);
    return ExitCode.ok;
  }
  const rows = runs.map((r) => [r.runId, statusText(r.status, style), escapeControlCharacters(r.composite.name), formatTimestamp(r.startedAt), r.durationMs === undefined ? "" : formatDuration(r.durationMs), countsText(r)]);
  const columns = [{ header: "RUN" }, { header: "STATUS" }, { header: "COMPOSITE", shrink: true }, { header: "STARTED" }, { header: "DURATION", align: "right" as const }, { header: "NODES", shrink: true }];
  io.stdout.write(renderTable(columns, rows, { header: (t) => style.chalk.bold(t), ...(io.stdout.isTTY ? { maxWidth: detectTerminal({ stream: io.stdout, env: io.env }).columns } : {}) }));
  return ExitCode.ok;
}

/** A value on one line, cut to `width`. */
export function previewValue(value: unknown, width: number, ellipsis: string): string {
  if (value === undefined) return "";
  const text = typeof value === "string" ? JSON.stringify(value) : stringifyJsonSafe(value);
  return truncate(escapeControlCharacters(text.replace(/\s+/g, " ")), width, ellipsis);
}

async function showRun(given: string, flags: ShowFlags, io: CliIO): Promise<number> {
  const format = parseTimelineFormat(flags.format);
  if (flags.json && flags.format !== undefined) {
    throw new AtomitonError(ErrorCode.USAGE, "--json and --format cannot be combined", { retryable: false, hint: "--json prints the run record; --format picks how the timeline is drawn" });
  }
  const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
  const runId = await resolveRunId(storage, given);
  const record = await loadRun(storage, runId);
  if (!record) {
    throw new AtomitonError(ErrorCode.STORAGE, `the record of run "${runId}" cannot be read: ${await whyUnreadable(storage, runId)}`, { retryable: false, hint: `check ${renderStorageLocation(storage, runRecordKey(runId))}` });
  }
  if (flags.json) {
    await emit(`${JSON.stringify(record, null, 2)}\n`, flags.output, io, "run record");
    return ExitCode.ok;
  }
  if (format !== "text") {
    const events = await loadEventLog(storage, runId);
    const runStart = events.find((e) => e.type === "run:start");
    if (!runStart) {
      throw new AtomitonError(ErrorCode.NOT_FOUND, `run "${runId}" has no event log to draw a timeline from`, { retryable: false, hint: `check ${renderStorageLocation(storage, eventLogKey(runId))}` });
    }
    const predecessors = await loadRunPredecessors(runStart, storage);
    const profile = buildRunProfile(events, predecessors ? { predecessors } : {});
    await emit(renderProfile(profile, format), flags.output, io, `${format === "svg" ? "SVG timeline" : "trace"}`);
    return ExitCode.ok;
  }
  // The record's names, messages and reasons come from a composite and its nodes: shown, never obeyed.
  const run = escapeControlDeep(record, new Set(["output"]));
  // Text for a file carries no colour codes.
  const style = stdoutStyle(io, flags.output === undefined ? flags.color : false);
  const c = style.chalk;
  // The terminal's width, else $COLUMNS, else 80 (detectTerminal).
  const width = detectTerminal({ stream: io.stdout, env: io.env }).columns;
  const ellipsis = style.unicode ? "…" : "...";
  const out: string[] = [];
  out.push(`${c.bold(`run ${run.runId}`)}  ${statusText(run.status, style)}`);
  const rel = run.composite.file === undefined ? undefined : path.relative(io.cwd, run.composite.file);
  const file = run.composite.file === undefined ? "" : `  ${c.dim(rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : run.composite.file)}`;
  // A long name or node id is cut to the width, as the table's cells are (`runs` cuts the name too).
  out.push(`composite  ${truncate(run.composite.name, Math.max(8, width - 11), ellipsis)}${run.composite.id !== run.composite.name ? c.dim(` (${run.composite.id})`) : ""}${file}`);
  out.push(`started    ${formatTimestamp(run.startedAt)}${run.durationMs === undefined ? "" : `   duration ${formatDuration(run.durationMs)}`}`);
  out.push(`nodes      ${countsText(run)}`);
  if (run.error) out.push(`error      ${c.red(`${run.error.code}`)} ${run.error.message}`);
  out.push("");
  const profiled = Object.values(run.nodes).some((n) => n.profile !== undefined);
  const rows = Object.entries(run.nodes).map(([id, n]) => {
    const status = statusText(n.status ?? unfinishedStatus(run.status, n.attempts), style) + iterationsText(n.iterations, style);
    const detail = n.error ? c.red(`${n.error.code}: ${n.error.message}`) : n.reason ? c.dim(n.reason) : previewValue(n.output, 60, ellipsis);
    const p = n.profile;
    // A profiled run (`run --profile`): its queue wait, CPU time and heap growth per node.
    const measured = !profiled ? [] : p ? [formatShortMs(p.queueWaitMs), formatShortMs(p.cpuTimeMs), `${p.heapGrowthBytes < 0 ? "-" : "+"}${formatBytes(Math.abs(p.heapGrowthBytes))}`] : ["", "", ""];
    return [id, n.type, status, n.durationMs === undefined ? "" : formatDuration(n.durationMs), ...measured, String(n.attempts), detail];
  });
  const right = "right" as const;
  const columns = [{ header: "NODE", shrink: true }, { header: "TYPE" }, { header: "STATUS" }, { header: "DURATION", align: right }, ...(profiled ? [{ header: "QUEUE", align: right }, { header: "CPU", align: right }, { header: "HEAP", align: right }] : []), { header: "ATTEMPTS", align: right }, { header: "OUTPUT / ERROR", shrink: true }];
  out.push(renderTable(columns, rows, { header: (t) => c.bold(t), maxWidth: width, ellipsis }).trimEnd());
  const failures = Object.entries(run.nodes).filter(([, n]) => n.error);
  for (const [id, n] of failures) {
    const shownId = truncate(id, Math.max(8, width - 3 - n.error!.code.length), ellipsis);
    out.push("", `${c.red(`${style.symbols.failed} ${shownId}`)} ${c.red(n.error!.code)} ${n.error!.message}`);
    const hint = (n.error as { hint?: unknown }).hint;
    if (typeof hint === "string") out.push(`  ${c.cyan("hint:")} ${hint}`);
  }
  if (run.output !== undefined) out.push("", c.bold("output"), `  ${previewValue(run.output, Math.max(20, width - 2), ellipsis)}`);
  if (flags.timeline || flags.format !== undefined) {
    const events = await loadEventLog(storage, runId);
    out.push("", c.bold("timeline"), renderTimeline(buildTimeline(escapeControlDeep(events, new Set(["output"]))), { width, style }).trimEnd());
  }
  await emit(`${out.join("\n")}\n`, flags.output, io, "run");
  return ExitCode.ok;
}


/** To `--output <file>` (atomically) when given, else stdout. */
async function emit(text: string, output: string | undefined, io: CliIO, what: string): Promise<void> {
  if (output === undefined || output === "-") io.stdout.write(text);
  else await writeTextFile(output, text, io.cwd, what);
}

/** Profile figures are often under a millisecond: one decimal below 10 ms. */
function formatShortMs(ms: number): string {
  return ms < 10 ? `${(Math.round(ms * 10) / 10).toFixed(1)}ms` : formatDuration(ms);
}

