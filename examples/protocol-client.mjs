// node examples/protocol-client.mjs <ws-url> <token> <path> [--cancel]
// Written from docs/protocol.md alone, by a newcomer who read no source (the issue-13 trial); kept
// as an example and run by test/e2e/serve-docs-client.test.ts so the docs stay enough.
import WebSocket from "ws";
const [url, token, path] = process.argv.slice(2);
const cancelMode = process.argv.includes("--cancel");
const ws = new WebSocket(url);               // no header: authenticate with the `auth` message
const pending = new Map();
let nextId = 1, runId, nodeStarts = 0;
const call = (method, params = {}) => new Promise((resolve, reject) => {
  const id = nextId++;
  pending.set(id, { resolve, reject });
  ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
});
ws.on("message", async (data) => {
  const msg = JSON.parse(data);
  if (msg.id != null && pending.has(msg.id)) {
    const p = pending.get(msg.id); pending.delete(msg.id);
    return msg.error ? p.reject(Object.assign(new Error(msg.error.message), msg.error)) : p.resolve(msg.result);
  }
  if (msg.method !== "run.event") return console.log("other:", JSON.stringify(msg));
  const { seq, event } = msg.params;
  console.log(`seq=${seq} ${event.type} ${event.nodeId ?? ""} ${event.status ?? ""}`.trimEnd());
  if (event.type === "node:start" && ++nodeStarts === 2 && cancelMode)
    call("run.cancel", { runId }).then((r) => console.log("run.cancel ->", JSON.stringify(r)));
  if (event.type === "run:finish") {
    const fin = await call("run.wait", { runId });
    const rec = await call("runs.get", { runId });
    console.log(`run.wait -> status=${fin.status} counts=${JSON.stringify(fin.counts)}`);
    console.log(`runs.get -> status=${rec.status} nodes=${JSON.stringify(Object.fromEntries(
      Object.entries(rec.nodes ?? {}).map(([id, n]) => [id, n.status])))}`);
    if (!cancelMode) console.log("output:", JSON.stringify(fin.output));
    process.exitCode = fin.status === (cancelMode ? "cancelled" : "succeeded") ? 0 : 1;
    ws.close(1000);
  }
});
ws.on("open", async () => {
  console.log("auth ->", JSON.stringify(await call("auth", { token })));
  const init = await call("initialize", { client: { name: "newcomer", version: "0.0.1" } });
  console.log(`initialize -> server ${init.server.name} ${init.server.version}, protocol ${init.protocol}`);
  runId = (await call("run.start", { path })).runId;
  console.log("run.start -> runId", runId);
});
ws.on("close", (code, reason) => console.log(`closed ${code} ${reason}`));
ws.on("error", (e) => { console.error("ws error:", e.message); process.exitCode = 2; });
