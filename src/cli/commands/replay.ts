import path from "node:path";
import type { Command } from "commander";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { createReporter, parseReporterName, REPORTER_NAMES } from "../../reporters/create-reporter.js";
import { report } from "../../reporters/types.js";
import { ExitCode } from "../exit-codes.js";
import { stderrStyle, type CliIO } from "../io.js";
import { openStorage } from "../open-storage.js";
import { collect } from "../parse-flags.js";
import { loadRunPredecessors } from "../timeline/dependencies.js";
import { addStorageOptions, loadEventLog, loadRun, resolveRunId } from "./runs.js";

interface ReplayFlags {
  reporter: string;
  output?: string;
  storage: string;
  dataDir?: string;
  redis?: string;
  queueName?: string;
  color?: boolean;
  from?: string;
  nodes?: string[];
  pin?: string[];
  input?: string[];
  var?: string[];
  secret?: string[];
}

export function registerReplay(program: Command, io: CliIO, setExit: (code: number) => void): void {
  addStorageOptions(
    program
      .command("replay")
      .description("Re-render a recorded run from its event log through any reporter, or re-run it from a node (--from)")
      .argument("<runId>", "a stored run id (a unique prefix is enough)")
      .option("-r, --reporter <name>", `how to render it: ${REPORTER_NAMES.join("|")}`, "auto")
      .option("-o, --output <file>", "junit: write the XML to this file; with --from: the run's output")
      .option("--from <nodeId>", "re-run the composite from this node: every node upstream of it takes its recorded output and does not start; the new record points at the old one")
      .option("--nodes <path>", "with --from: custom node modules (repeatable)", collect)
      .option("--pin <id=json|@file>", "with --from: the node returns this value without running (repeatable)", collect)
      .option("-i, --input <value>", "with --from: run input instead of the recorded one (as for run; repeatable)", collect)
      .option("--var <k=v>", "with --from: variables instead of the recorded ones (repeatable)", collect)
      .option("--secret <ENV_NAME>", "with --from: redact this env var's value everywhere (repeatable)", collect),
  )
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton replay 20260501T120304-3f9a2c
  $ atomiton replay 20260501T120304 --reporter plain
  $ atomiton replay 20260501T120304-3f9a2c --reporter junit -o junit.xml
  $ atomiton replay 20260501T120304-3f9a2c --from summarize   # a new run; upstream outputs come from the record

Exit codes: the recorded run's: 0 succeeded, 1 failed, 130 cancelled; 2 unknown run id.
With --from: the new run's, as for \`atomiton run\`.`,
    )
    .action(async (runId: string, flags: ReplayFlags) => {
      setExit(await replayCommand(runId, flags, io));
    });
}

export async function replayCommand(given: string, flags: ReplayFlags, io: CliIO): Promise<number> {
  const reporterName = parseReporterName(flags.reporter);
  const storage = openStorage(flags.storage, flags.dataDir, io, flags.redis, flags.queueName);
  const runId = await resolveRunId(storage, given);
  if (flags.from !== undefined) {
    const { runCommand } = await import("./run.js");
    const { from, nodes, pin, input, var: vars, secret, reporter, output, storage: storageType, dataDir, redis, queueName, color } = flags;
    // The new run goes where the old one is: run opens its storage by --redis and $ATOMITON_QUEUE.
    const runIo = queueName === undefined ? io : { ...io, env: { ...io.env, ATOMITON_QUEUE: queueName } };
    return runCommand(undefined, { reporter, storage: storageType, replayOf: runId, from, ...(nodes ? { nodes } : {}), ...(pin ? { pin } : {}), ...(input ? { input } : {}), ...(vars ? { var: vars } : {}), ...(secret ? { secret } : {}), ...(output !== undefined ? { output } : {}), ...(dataDir !== undefined ? { dataDir } : {}), ...(redis !== undefined ? { redis } : {}), ...(color !== undefined ? { color } : {}) }, runIo);
  }
  const withFromOnly = (["nodes", "pin", "input", "var", "secret"] as const).find((k) => flags[k] !== undefined);
  if (withFromOnly !== undefined) {
    throw new AtomitonError(ErrorCode.USAGE, `replay: --${withFromOnly} only applies with --from (a plain replay re-renders the log and runs nothing)`, { retryable: false, hint: `atomiton replay ${given} --from <nodeId>` });
  }
  const events = await loadEventLog(storage, runId);
  if (events.length === 0) {
    throw new AtomitonError(ErrorCode.NOT_FOUND, `run "${runId}" has no event log to replay`, { retryable: false, hint: "its runs/<id>.ndjson is missing or empty" });
  }
  // The composite's edges (its file or stored copy, when it still has the recorded plan): the
  // summary's critical path is then the one the live run printed, not one guessed from event times.
  const runStart = events.find((e) => e.type === "run:start");
  const edges = await loadRunPredecessors(runStart?.type === "run:start" ? runStart : undefined, storage);
  const reporter = await createReporter(reporterName, {
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    ...(edges === undefined ? {} : { predecessors: (id: string) => edges.get(id) }),
    ...(flags.color === false ? { color: false } : {}),
    ...(flags.output && flags.reporter === "junit" ? { output: path.resolve(io.cwd, flags.output) } : {}),
  });
  try {
    for (const event of events) report(reporter, event);
  } finally {
    await reporter.close?.();
  }
  const finish = events.findLast((e) => e.type === "run:finish");
  const stored = (await loadRun(storage, runId))?.status;
  const status = finish?.type === "run:finish" ? finish.status : stored;
  const style = stderrStyle(io, flags.color);
  const warn = (what: string): void => void io.stderr.write(`${style.chalk.yellow(`${style.symbols.warning} ${what}`)}\n`);
  if (finish === undefined) {
    // No run:finish: say what became of the run rather than let "run did not finish" stand alone.
    warn(
      status === "running"
        ? `run ${runId} is still running; these are its events so far`
        : `run ${runId} was ${status === "abandoned" ? "abandoned" : "not finished"}: its process died before the run finished (killed, or the machine went down); these are all the events it recorded`,
    );
  } else if (stored === "abandoned") {
    // The log is written before the record: a kill between the two leaves a finished log and a record
    // that `runs` lists as abandoned. Say so rather than let the two disagree without a word.
    warn(`run ${runId} finished, but its process died before saving its final record: \`atomiton runs\` lists it as abandoned`);
  }
  return status === "succeeded" ? ExitCode.ok : status === "cancelled" ? ExitCode.interrupted : ExitCode.runFailed;
}
