import path from "node:path";
import type { Command } from "commander";
import { suggest } from "../../composite/suggest.js";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { detectTerminal } from "../../reporters/detect-terminal.js";
import { formatDuration } from "../../reporters/format-duration.js";
import { ExitCode } from "../exit-codes.js";
import { stdoutStyle, type CliIO } from "../io.js";
import { computeNodePercentiles, type NodePercentiles } from "../node-percentiles.js";
import { openStorage, renderStorageLocation } from "../open-storage.js";
import { renderTable } from "../render-table.js";
import { addStorageOptions, definedOnly, formatTimestamp, loadRun, storedRunIds, type StoredRun } from "./runs.js";
import { mapBounded } from "../../storage/map-bounded.js";

interface StatsFlags {
  storage: string;
  dataDir?: string;
  redis?: string;
  queueName?: string;
  color?: boolean;
  format?: string;
  last?: string;
  minDelta?: string;
}

/** Runs that ended (a running or abandoned record has no final times). */
const ENDED = new Set(["succeeded", "failed", "cancelled"]);

/** `atomiton runs stats <composite>` under `runs`. */
export function registerRunsStats(runs: Command, io: CliIO, setExit: (code: number) => void): void {
  addStorageOptions(
    runs
      .command("stats")
      .description("p50/p95 wall time per node over the stored runs of a composite; marks the newest run's regressions")
      .argument("<composite>", "the composite's id, name or file, as run records store it")
      .option("--format <format>", "text or json", "text")
      .option("--last <n>", "use the newest n runs", "100")
      .option("--min-delta <ms>", "a regression is also at least this many ms over the earlier runs' p95", "10"),
    true,
  )
    .addHelpText(
      "after",
      `
A node regressed when its wall time in the newest run is above the p95 of the runs before it, by at
least --min-delta ms, and there are at least 3 earlier runs to compare with.

Examples:
  $ atomiton runs stats build-pipeline
  $ atomiton runs stats examples/build-pipeline.yaml --last 20
  $ atomiton runs stats build-pipeline --format json | jq '.nodes[] | select(.regression)'`,
    )
    .action(async (composite: string, flags: StatsFlags) => {
      setExit(await showStats(composite, { ...runs.opts<StatsFlags>(), ...definedOnly(flags) }, io));
    });
}

async function showStats(given: string, flags: StatsFlags, io: CliIO): Promise<number> {
  const format = flags.format ?? "text";
  if (format !== "text" && format !== "json") throw new AtomitonError(ErrorCode.USAGE, `--format must be text or json, got "${format}"`, { retryable: false });
  const limit = Number(flags.last ?? "100");
  if (!Number.isInteger(limit) || limit < 1) throw new AtomitonError(ErrorCode.USAGE, `--last must be a whole number ≥ 1, got ${flags.last}`, { retryable: false });
  const minDeltaMs = Number(flags.minDelta ?? "10");
  if (!Number.isFinite(minDeltaMs) || minDeltaMs < 0) throw new AtomitonError(ErrorCode.USAGE, `--min-delta must be a number of ms ≥ 0, got ${flags.minDelta}`, { retryable: false });

  const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
  const all = (await mapBounded(await storedRunIds(storage), (id) => loadRun(storage, id), timedFields)).filter((r): r is StoredRun => r !== undefined);
  const file = path.resolve(io.cwd, given);
  const matches = (r: StoredRun) => r.composite.id === given || r.composite.name === given || r.composite.file === file;
  const runs = all
    .filter((r) => matches(r) && ENDED.has(r.status))
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId))
    .slice(-limit);
  if (runs.length === 0) {
    const names = [...new Set(all.flatMap((r) => [r.composite.name, r.composite.id]))];
    // Runs of it that did not end (still running, or killed): the name was right, so no did-you-mean.
    const unended = all.filter(matches).length;
    const guess = unended > 0 ? undefined : suggest(given, names);
    const why = unended > 0 ? ` (${unended} of its runs did not end: still running, or killed)` : guess ? `: did you mean "${guess}"?` : "";
    throw new AtomitonError(ErrorCode.NOT_FOUND, `no ended runs of "${given}" in ${storage.type === "memory" ? "memory storage" : renderStorageLocation(storage, "runs/")}${why}`, {
      retryable: false,
      hint: names.length === 0 ? `run a composite first (atomiton run flow.yaml), or ${storage.type === "redis" ? "pass the queue's --queue-name (or ATOMITON_QUEUE)" : "pass --data-dir"}` : `composites with stored runs: ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""}`,
    });
  }
  const nodes = computeNodePercentiles(runs, { minDeltaMs });
  const newest = runs.at(-1)!;
  if (format === "json") {
    const composite = { id: newest.composite.id, name: newest.composite.name, ...(newest.composite.file ? { file: newest.composite.file } : {}) };
    io.stdout.write(`${JSON.stringify({ composite, runs: runs.length, lastRunId: newest.runId, minDeltaMs, nodes }, null, 2)}\n`);
    return ExitCode.ok;
  }
  io.stdout.write(renderStats(nodes, runs, minDeltaMs, io, flags.color));
  return ExitCode.ok;
}

/** What the percentiles need of a run: per node its type, status and time, not its output (a record may be many MiB). */
function timedFields(run: StoredRun): StoredRun {
  const nodes = Object.fromEntries(
    Object.entries(run.nodes).map(([id, n]) => [id, { type: n.type, attempts: n.attempts, ...(n.status === undefined ? {} : { status: n.status }), ...(n.durationMs === undefined ? {} : { durationMs: n.durationMs }), ...(n.reason === undefined ? {} : { reason: n.reason }) }]),
  );
  return { runId: run.runId, status: run.status, composite: run.composite, startedAt: run.startedAt, nodes };
}

function renderStats(nodes: readonly NodePercentiles[], runs: readonly StoredRun[], minDeltaMs: number, io: CliIO, color: boolean | undefined): string {
  const style = stdoutStyle(io, color);
  const c = style.chalk;
  const newest = runs.at(-1)!;
  const out = [`${c.bold(newest.composite.name)}: ${runs.length} run${runs.length === 1 ? "" : "s"}, the newest ${newest.runId} (${formatTimestamp(newest.startedAt)}, ${newest.status})`, ""];
  const mark = style.unicode ? "▲" : "^";
  const rows = nodes.map((n) => [
    n.nodeId,
    n.type,
    String(n.runs),
    formatDuration(n.p50),
    formatDuration(n.p95),
    n.last === undefined ? "-" : formatDuration(n.last),
    n.regression ? c.red(`${mark} regression: ${formatDuration(n.last!)} > p95 ${formatDuration(n.earlierP95!)} of earlier runs`) : "",
  ]);
  const columns = [
    { header: "NODE" },
    { header: "TYPE" },
    { header: "RUNS", align: "right" as const },
    { header: "P50", align: "right" as const },
    { header: "P95", align: "right" as const },
    { header: "LAST", align: "right" as const },
    { header: "", shrink: true },
  ];
  const width = io.stdout.isTTY ? { maxWidth: detectTerminal({ stream: io.stdout, env: io.env }).columns } : {};
  out.push(renderTable(columns, rows, { header: (t) => c.bold(t), ...width }).trimEnd(), "");
  const regressions = nodes.filter((n) => n.regression).length;
  const earlier = runs.length - 1;
  if (earlier < 3) out.push(c.dim(`regressions need 3 earlier runs to compare with; there ${earlier === 1 ? "is" : "are"} ${earlier}`));
  else if (regressions === 0) out.push(`no regressions in the newest run (compared with ${earlier} earlier runs, floor ${formatDuration(minDeltaMs)})`);
  else out.push(c.red(`${regressions} node${regressions === 1 ? "" : "s"} regressed in the newest run (compared with ${earlier} earlier runs, floor ${formatDuration(minDeltaMs)})`));
  return `${out.join("\n")}\n`;
}
