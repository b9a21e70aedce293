import { execa, type ResultPromise } from "execa";
import WebSocket from "ws";
import { BIN, ROOT } from "./cli.js";

export interface ServeProcess {
  child: ResultPromise;
  url: string;
  port: number;
  token: string;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | undefined>;
}

/** Spawns the built `atomiton serve --port 0` and resolves once it listens. */
export async function startServe(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; token?: string } = {}): Promise<ServeProcess> {
  const token = options.token ?? "test-token";
  const child = execa("node", [BIN, "serve", "--port", "0", ...args], {
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", CI: "true", ATOMITON_TOKEN: token, ...(options.env ?? {}) },
    reject: false,
    stdin: "ignore",
    all: false,
    timeout: 300_000,
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
      if (m) {
        child.stderr!.off("data", check);
        resolve(Number(m[1]));
      }
    };
    child.stderr!.on("data", check);
    void child.then((r) => reject(new Error(`serve exited (${r.exitCode}) before listening:\n${err}`)));
  });
  return {
    child,
    port,
    url: `ws://127.0.0.1:${port}/`,
    token,
    stderr: () => err,
    async stop() {
      child.kill("SIGTERM");
      return (await child).exitCode;
    },
  };
}

export interface Message {
  jsonrpc: "2.0";
  id?: number | string | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: any };
}

/** A test client on a real `ws` socket: keeps every message, answers requests by id. */
export class TestClient {
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { test: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  private nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as Message;
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => (w.test(m) ? (w.resolve(m), false) : true));
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("error", () => undefined);
  }

  /** How long `next` (and so `call`/`request`) waits by default. */
  defaultTimeoutMs = 20_000;

  /** `timeoutMs`: the default wait for a response; the load tests raise it (1,000 runs starting at once on 2 busy cores). */
  static async open(url: string, options: { token?: string | undefined; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<TestClient> {
    const headers = { ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}), ...(options.headers ?? {}) };
    const ws = new WebSocket(url, { headers });
    const client = new TestClient(ws);
    if (options.timeoutMs !== undefined) client.defaultTimeoutMs = options.timeoutMs;
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return client;
  }

  /** The next (or an already received) message that passes `test`. */
  next(test: (m: Message) => boolean, timeoutMs = this.defaultTimeoutMs): Promise<Message> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got ${this.messages.length}: ${JSON.stringify(this.messages.slice(-3))}`)), timeoutMs);
      this.waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** Sends a request and resolves with the whole response (result or error). */
  async call(method: string, params?: unknown): Promise<Message> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) }));
    return this.next((m) => m.id === id && m.method === undefined);
  }

  /** Like `call`, but the result (throws on an error response). */
  async request(method: string, params?: unknown): Promise<any> {
    const m = await this.call(method, params);
    if (m.error) throw new Error(`${method}: ${m.error.code} ${m.error.message}`);
    return m.result;
  }

  /** The run.event notifications of a run, in arrival order. */
  events(runId: string): { seq: number; event: any }[] {
    return this.messages.filter((m) => m.method === "run.event" && m.params.runId === runId).map((m) => ({ seq: m.params.seq, event: m.params.event }));
  }

  /** Resolves once the run's run:finish arrived. */
  finished(runId: string, timeoutMs = 60_000): Promise<Message> {
    return this.next((m) => m.method === "run.event" && m.params.runId === runId && m.params.event.type === "run:finish", timeoutMs);
  }

  close(): void {
    this.ws.close();
  }
}

/** Seconds of a whole chain of `n` nodes of `type` as YAML (bench and load composites). */
export function chainYaml(name: string, n: number, node: (i: number) => string): string {
  const lines = [`name: ${name}`, "nodes:"];
  for (let i = 0; i < n; i++) lines.push(node(i));
  lines.push("edges:");
  for (let i = 1; i < n; i++) lines.push(`  - n${i - 1} -> n${i}`);
  return `${lines.join("\n")}\n`;
}

/**
 * A spawned `atomiton serve --stdio` and a JSON-RPC client over its stdin/stdout: `call` sends a
 * request and waits for its answer, `next` waits for a message (one already seen counts), `send`
 * writes a raw line, `raw` holds every stdout line as it came.
 */
export function spawnStdioServe(args: readonly string[], options: { cwd: string; env?: Record<string, string> }) {
  const child = execa("node", [BIN, "serve", "--stdio", ...args], { cwd: options.cwd, env: { NO_COLOR: "1", CI: "true", ...options.env }, reject: false, stdin: "pipe", timeout: 60_000 });
  const messages: Message[] = [];
  const raw: string[] = [];
  let waiters: { test: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  let buffer = "";
  child.stdout!.on("data", (d: Buffer) => {
    buffer += d.toString();
    for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      raw.push(line);
      const m = JSON.parse(line) as Message; // stdout carries nothing but JSON messages
      messages.push(m);
      waiters = waiters.filter((w) => (w.test(m) ? (w.resolve(m), false) : true));
    }
  });
  const next = (test: (m: Message) => boolean) =>
    new Promise<Message>((resolve, reject) => {
      const seen = messages.find(test);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no such message; got ${JSON.stringify(messages.slice(-3))}`)), 20_000);
      waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  let id = 0;
  const call = (method: string, params?: unknown) => {
    const n = ++id;
    child.stdin!.write(`${JSON.stringify({ jsonrpc: "2.0", id: n, method, params })}\n`);
    return next((m) => m.id === n);
  };
  return { child, messages, raw, next, call, send: (line: string) => child.stdin!.write(`${line}\n`) };
}
