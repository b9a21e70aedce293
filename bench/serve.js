// `atomiton serve` (issue 13): events/s delivered to 1 and to 50 clients, emit-to-client latency
// (p50/p99), and what a subscribed client (reading, and one that never reads) costs a 10k-node run
// as a ratio to the same run with nobody subscribed (SPEC §8: ≤ 1.2×). The server is the built CLI
// in its own process; the clients are `ws` sockets in this one. Loopback only.
//
//   node bench/serve.js [--quick] [--cli path/to/cli.js]
//
// Exported as `benchServe` for bench/run.js.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { median, round } from "./stats.js";

const TOKEN = "bench-token";

function chain(name, n, node) {
  const lines = [`name: ${name}`, "nodes:"];
  for (let i = 0; i < n; i++) lines.push(node(i));
  lines.push("edges:");
  for (let i = 1; i < n; i++) lines.push(`  - n${i - 1} -> n${i}`);
  return `${lines.join("\n")}\n`;
}

async function startServer(cli, dir) {
  const child = spawn(process.execPath, [...cli, "serve", "--port", "0", "--storage", "memory"], { cwd: dir, env: { ...process.env, ATOMITON_TOKEN: TOKEN, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  const port = await new Promise((resolve, reject) => {
    child.stderr.on("data", (d) => {
      err += d;
      const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, url: `ws://127.0.0.1:${port}/`, stop: () => new Promise((r) => (child.once("exit", r), child.kill("SIGTERM"))) };
}

/** A client that counts events per run and resolves `finished(runId)` at run:finish. */
async function client(url, { onEvent } = {}) {
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${TOKEN}` }, perMessageDeflate: false });
  await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
  let id = 0;
  const pending = new Map();
  const done = new Map();
  const counts = new Map();
  ws.on("message", (data) => {
    const m = JSON.parse(data);
    if (m.method === "run.event") {
      const { runId, event } = m.params;
      counts.set(runId, (counts.get(runId) ?? 0) + 1);
      onEvent?.(event);
      if (event.type === "run:finish") done.get(runId)?.(event);
      return;
    }
    pending.get(m.id)?.(m);
  });
  return {
    ws,
    counts,
    request: (method, params) =>
      new Promise((resolve, reject) => {
        const n = ++id;
        pending.set(n, (m) => (m.error ? reject(new Error(m.error.message)) : resolve(m.result)));
        ws.send(JSON.stringify({ jsonrpc: "2.0", id: n, method, params }));
      }),
    finished: (runId) => new Promise((resolve) => done.set(runId, resolve)),
    close: () => ws.close(),
  };
}

/** Events/s delivered in total when `clients` sockets follow one run of `file` (first event to last). */
async function eventsPerSecond(url, file, clients) {
  let t0;
  const followers = await Promise.all(Array.from({ length: clients }, () => client(url, { onEvent: (e) => e.type === "run:start" && (t0 ??= performance.now()) })));
  const starter = followers[0];
  const watch = await Promise.all(followers.slice(1).map((c) => c.request("events.subscribe", { all: true }).then(() => c)));
  const { runId } = await starter.request("run.start", { path: file });
  await Promise.all([starter, ...watch].map((c) => c.finished(runId)));
  const ms = performance.now() - t0;
  const total = followers.reduce((sum, c) => sum + (c.counts.get(runId) ?? 0), 0);
  for (const c of followers) c.close();
  return { eventsPerSecond: (total / ms) * 1000, total, ms };
}

export async function benchServe({ cli, quick = false, progress = () => {} }) {
  const dir = mkdtempSync(path.join(tmpdir(), "atomiton-bench-serve-"));
  const nodes = quick ? 2_000 : 10_000;
  writeFileSync(path.join(dir, "chain.yaml"), chain("chain", nodes, (i) => `  - { id: n${i}, type: edit-fields, parameters: { values: { i: ${i} } } }`));
  writeFileSync(path.join(dir, "spaced.yaml"), chain("spaced", quick ? 50 : 300, (i) => `  - { id: n${i}, type: delay, parameters: { duration: 2ms } }`));
  const server = await startServer(cli, dir);
  try {
    const out = { nodes };
    progress(`serve: events/s to 1 and 50 clients (${nodes}-node chain)`);
    await eventsPerSecond(server.url, "chain.yaml", 1); // warm-up
    out.oneClient = await eventsPerSecond(server.url, "chain.yaml", 1);
    out.fiftyClients = await eventsPerSecond(server.url, "chain.yaml", 50);

    progress("serve: emit-to-client latency");
    const lat = [];
    const c = await client(server.url, { onEvent: (e) => lat.push(Date.now() - e.ts) });
    const { runId } = await c.request("run.start", { path: "spaced.yaml" });
    await c.finished(runId);
    c.close();
    lat.sort((a, b) => a - b);
    out.latency = { p50: lat[Math.floor(lat.length * 0.5)], p99: lat[Math.floor(lat.length * 0.99)], samples: lat.length };

    progress(`serve: a subscribed client's cost at ${nodes} nodes vs silent`);
    const runs = quick ? 3 : 11;
    const silent = [];
    const reading = [];
    const stalled = [];
    const ctl = await client(server.url);
    for (let i = 0; i < runs; i++) {
      const s = await ctl.request("run.start", { path: "chain.yaml", subscribe: false });
      silent.push((await ctl.request("run.wait", { runId: s.runId })).durationMs);
      const r = await client(server.url);
      const started = await r.request("run.start", { path: "chain.yaml" });
      reading.push((await r.finished(started.runId)).durationMs);
      r.close();
      const slow = await client(server.url);
      const st = await slow.request("run.start", { path: "chain.yaml" });
      slow.ws.pause();
      stalled.push((await ctl.request("run.wait", { runId: st.runId })).durationMs);
      slow.ws.terminate();
    }
    ctl.close();
    out.cost = { silentMs: median(silent), readingMs: median(reading), stalledMs: median(stalled), runs };
    // Each round's ratio to the silent run just before it, then the median: the machine's slow and
    // fast phases (run times here swing by ±30% from one round to the next) cancel out within a round.
    out.cost.readingRatio = median(reading.map((ms, i) => ms / silent[i]));
    out.cost.stalledRatio = median(stalled.map((ms, i) => ms / silent[i]));
    return out;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows bench/run.js prints. */
export function serveRows(r, row) {
  row(`serve · events/s to 1 client (${r.nodes}-node chain)`, r.oneClient.eventsPerSecond, "events/s");
  row(`serve · events/s to 50 clients, in total`, r.fiftyClients.eventsPerSecond, "events/s");
  row("serve · emit-to-client latency p50", r.latency.p50, "ms");
  row("serve · emit-to-client latency p99", r.latency.p99, "ms");
  row(`serve · ${r.nodes}-node run, silent`, r.cost.silentMs, "ms");
  row(`serve · ${r.nodes}-node run, 1 reading client ÷ silent`, r.cost.readingRatio, "×", ["≤", 1.2]);
  row(`serve · ${r.nodes}-node run, 1 client that never reads ÷ silent`, r.cost.stalledRatio, "×", ["≤", 1.2]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const cliArg = args.indexOf("--cli");
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const cli = cliArg >= 0 ? [path.resolve(args[cliArg + 1])] : [path.join(root, "bin", "atomiton.js")];
  const result = await benchServe({ cli, quick, progress: (w) => process.stderr.write(`  … ${w}\n`) });
  const rows = [];
  serveRows(result, (name, value, unit, target) => rows.push({ name, value: round(value, 3), unit, ...(target && !quick ? { target: `${target[0]} ${target[1]}`, pass: value <= target[1] } : {}) }));
  for (const r of rows) process.stdout.write(`${r.name.padEnd(58)} ${String(r.value).padStart(10)} ${r.unit}${r.target ? `  (target ${r.target}: ${r.pass ? "✔" : "✖"})` : ""}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
