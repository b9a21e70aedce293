import path from "node:path";
import { onStrayNodeErrors } from "../../conductor/stray-errors.js";
import { createRedactor } from "../../events/redact.js";
import type { Command } from "commander";
import { AtomitonError, ErrorCode } from "../../errors.js";
import { ExitCode } from "../exit-codes.js";
import { onInterruptTwice, stopAtOnceHint, type SignalSource } from "../interrupt-signals.js";
import { stderrStyle, type CliIO } from "../io.js";
import { loadCatalogForCli } from "../load-catalog.js";
import { openStorage } from "../open-storage.js";
import { collect, parseRedisUrl } from "../parse-flags.js";
import { DEFAULT_QUEUE_TIMEOUT_MS } from "../../queue/names.js";
import { queueNamespace } from "./worker.js";
import { escapeControlCharacters } from "../../terminal-text.js";
import type { RunServerOptions } from "../../serve/create-run-server.js";

export interface ServeFlags {
  port: string;
  host: string;
  token?: string;
  stdio?: boolean;
  redis?: string;
  queue?: string;
  queueName?: string;
  storage: string;
  dataDir?: string;
  nodes?: string[];
  workdir?: string;
  allowOrigin?: string[];
  secret?: string[];
  color?: boolean;
}

/** What the command needs from the process (tests and the e2e CLI use the real one). */
export interface ServeHost {
  stdin: NodeJS.ReadableStream & { setEncoding(e: BufferEncoding): unknown; pause(): unknown };
  signals: SignalSource;
  /** Second Ctrl-C: exit at once. */
  forceExit(code: number): void;
}

export function registerServe(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("serve")
    .description("Drive and watch runs from outside the process: JSON-RPC 2.0 over WebSocket, or over stdio (docs/protocol.md)")
    .option("-p, --port <port>", "port to listen on (0 picks a free one)", "7437")
    .option("--host <host>", "address to bind (anything but loopback needs --token)", "127.0.0.1")
    .option("--token <token>", "the token clients present (default: $ATOMITON_TOKEN, else one is generated and printed once)")
    .option("--stdio", "one JSON message per line on stdin/stdout instead of a socket (no token: the spawning process owns the pipe)")
    .option("--allow-origin <origin>", "let browser pages from this origin connect (repeatable); other Origin headers are refused", collect)
    .option("--storage <type>", "filesystem or memory", "filesystem")
    .option("--data-dir <dir>", "run records and event logs (default: $ATOMITON_DATA_DIR or ./.atomiton)")
    .option("--workdir <dir>", "relative paths resolve here, and `path` params cannot leave it (default: the cwd)")
    .option("--nodes <path>", "load custom node modules (repeatable)", collect)
    .option("--secret <ENV_NAME>", "redact this env var's value in every event and record (repeatable)", collect)
    .option("--redis <url>", "queue the runs on Redis for `atomiton worker`s instead of running them here; records come from Redis too (docs/queue.md)")
    .option("--queue <name>", "with --redis: the queue's namespace (default: $ATOMITON_QUEUE or atomiton)")
    .option("--queue-name <name>", "the same as --queue (the spelling of run, runs and replay)")
    .addHelpText(
      "after",
      `
Examples:
  $ atomiton serve
  $ ATOMITON_TOKEN=s3cret atomiton serve --port 7437 --allow-origin http://localhost:5173
  $ atomiton serve --stdio --data-dir ./.atomiton
  $ atomiton serve --redis redis://127.0.0.1:6379        # runs go to \`atomiton worker\`s
  $ atomiton run flow.yaml --remote ws://127.0.0.1:7437

SIGINT/SIGTERM/SIGHUP: stop accepting, cancel runs in flight (records saved as cancelled), close sockets with 1001, exit 130.`,
    )
    .action(async (flags: ServeFlags) => {
      setExit(await serveCommand(flags, io, { stdin: process.stdin, signals: process, forceExit: (code) => process.exit(code) }));
    });
}

/** `atomiton serve`: returns the exit code once the server has shut down. */
export async function serveCommand(flags: ServeFlags, io: CliIO, host: ServeHost): Promise<number> {
  if (flags.redis !== undefined) parseRedisUrl("--redis", flags.redis);
  const port = Number(flags.port);
  if (!flags.stdio && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new AtomitonError(ErrorCode.USAGE, `--port must be a whole number from 0 to 65535, got ${flags.port}`, { retryable: false });
  }
  const { createRunServer } = await import("../../serve/create-run-server.js");
  const { resolveToken } = await import("../../serve/auth.js");
  const token = flags.stdio ? undefined : resolveToken({ token: flags.token, env: io.env, host: flags.host });
  // --redis: records, event logs and stored composites are the queue's shared store.
  const namespace = queueNamespace(flags, io);
  const storage = flags.redis !== undefined ? openStorage("redis", undefined, io, flags.redis, namespace) : openStorage(flags.storage, flags.dataDir, io, flags.redis);
  if (flags.storage === "filesystem" || flags.redis !== undefined) await storage.assertWritable();
  let executor: RunServerOptions["executor"];
  let queueClient: { close(): Promise<void> } | undefined;
  if (flags.redis !== undefined) {
    const { QueueClient } = await import("../../queue/client.js");
    const { createQueueExecutor } = await import("../../queue/queue-executor.js");
    const client = new QueueClient({ url: flags.redis, namespace, timeoutMs: DEFAULT_QUEUE_TIMEOUT_MS });
    await client.connect();
    queueClient = client;
    executor = createQueueExecutor(client, { workdir: path.resolve(io.cwd, flags.workdir ?? "."), submitter: `serve ${QueueClient.submitter()}` });
  }
  const catalog = await loadCatalogForCli(flags.nodes ?? [], io);
  const workdir = path.resolve(io.cwd, flags.workdir ?? ".");
  const secretValues = (flags.secret ?? []).map((n) => io.env[n]).filter((v): v is string => typeof v === "string" && v.length > 0);
  const server = createRunServer({ storage, catalog, workdir, env: io.env, secretValues, ...(executor ? { executor } : {}) });
  const style = stderrStyle(io, flags.color);
  // Lines quote what clients send (an Origin header, an error message): shown, never obeyed.
  const log = (line: string) => io.stderr.write(`${style.chalk.dim(`[serve] ${escapeControlCharacters(line)}`)}\n`);
  // Node code failing outside a node (a timer's throw): the one run in flight fails, the server goes on.
  const stopStray = onStrayNodeErrors((error) => {
    if (server.runs.failTheOnlyRun(error)) return;
    // Redacted with the secrets of every run in flight too (their composites' secrets:), not only --secret.
    const redact = createRedactor([...secretValues, ...server.runs.secretValuesInFlight()]);
    const line = `${error.message} (ignored: no one run to fail)`;
    log(redact ? redact(line) : line);
  });

  let stopping: Promise<number> | undefined;
  let closeTransport: () => Promise<void> = async () => undefined;
  let signalled = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  // A signal cancels the runs in flight even when a drain (stdin closed) is already under way: the
  // drain then ends as the cancelled runs end, and the exit code is the signal's.
  let cancelling: Promise<unknown> | undefined;
  // The exit code of the first stop that cancelled (a signal's 130, a stdio parent that stopped reading's 1).
  let cancelCode: number | undefined;
  const stop = (code: number, cancel: boolean): Promise<number> => {
    if (cancel && cancelling === undefined) {
      if (server.running > 0) log(`cancelling ${server.running} run(s) in flight`);
      cancelling = server.cancelAll("the server is shutting down");
      cancelCode = code;
    }
    stopping ??= (async () => {
      await (cancelling ?? server.drain());
      await cancelling;
      // The answers the runs' end settles (a run.wait in flight) are a few promise steps behind:
      // one turn of the event loop lets them reach the sockets, which close after what they hold.
      await new Promise((resolve) => setImmediate(resolve));
      await closeTransport();
      server.close();
      await queueClient?.close();
      const final = cancelCode ?? code;
      resolveDone(final);
      return final;
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signalled++;
    log(`${signal}: shutting down (${stopAtOnceHint(signal)})`);
    void stop(ExitCode.interrupted, true);
  };
  const stopSignals = onInterruptTwice(onSignal, () => host.forceExit(ExitCode.interrupted), host.signals);

  try {
    if (flags.stdio) {
      const { serveStdio } = await import("../../serve/stdio-server.js");
      log(`serving JSON-RPC on stdio (workdir ${workdir}, data ${storage.location})`);
      closeTransport = async () => {
        host.stdin.pause();
        (host.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      };
      void serveStdio({ server, input: host.stdin as never, output: io.stdout as never }).then((end) => {
        if (end.reason === "slow-reader") {
          // A pipe has no close code: say it on stderr, shut down as a signal does, exit 1.
          io.stderr.write(`atomiton serve --stdio: stdout was not read (${end.message.split(":")[0]}); output ended, cancelling the runs in flight and exiting 1\n`);
          // What is queued for a parent that does not read would never drain: exit without waiting for it.
          void stop(ExitCode.runFailed, true).then((code) => host.forceExit(code));
          return;
        }
        // stdin closed: the runs in flight finish (the server owns them), then the process ends.
        if (server.running > 0) log(`stdin closed: waiting for ${server.running} run(s) to finish`);
        void stop(ExitCode.ok, false);
      });
    } else {
      const { listenWebSocket } = await import("../../serve/ws-server.js");
      const listener = await listenWebSocket({ server, host: flags.host, port, token: token!.token, allowOrigins: flags.allowOrigin ?? [], log }).catch((error: NodeJS.ErrnoException) => {
        throw new AtomitonError(ErrorCode.USAGE, `cannot listen on ${flags.host}:${port}: ${error.code ?? error.message}`, {
          retryable: false,
          hint: error.code === "EADDRINUSE" ? "another process uses the port: pick one with --port (0 picks a free one)" : "check --host and --port",
        });
      });
      closeTransport = () => listener.close();
      // One write, so a reader that sees the address sees the generated token too.
      const tokenLine = token!.generated ? `token: ${token!.token}  (generated; choose one with --token or ATOMITON_TOKEN)\n` : "";
      io.stderr.write(`atomiton serve listening on ${listener.url} (workdir ${workdir}, data ${storage.location})\n${tokenLine}`);
    }
    return await done;
  } catch (error) {
    server.close();
    throw error;
  } finally {
    stopStray();
    if (signalled === 0) {
      stopSignals();
    }
  }
}
