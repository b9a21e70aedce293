import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// The per-node profile in the run record (SPEC §11), through the built CLI: `run --profile` measures
// every node; the record keeps queue wait, wall time, CPU time, heap growth and output size.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-node-profile-");

// One slot: `wait` is ready at the start but waits while `burn` runs. `burn` spends CPU in its
// synchronous part; `keep` allocates and keeps an array; `double` runs once per item of a loop.
const COMPOSITE = `id: profiled
settings: { concurrency: 1 }
nodes:
  - id: burn
    type: code
    parameters:
      code: |
        let x = 0;
        for (let i = 0; i < 3e6; i++) x += Math.sqrt(i);
        return Math.round(x);
  - id: wait
    type: code
    parameters: { code: "return 'waited'" }
  - id: keep
    type: code
    parameters:
      code: |
        globalThis.kept = new Array(100000).fill(1.5);
        return { kept: globalThis.kept.length, label: "héllo" };
  - id: items
    type: code
    parameters: { code: "return [1, 22, 333]" }
  - id: each
    type: loop
    nodes:
      - id: double
        type: code
        parameters: { code: "return $item * 2" }
edges:
  - burn -> keep
  - items -> each
`;

interface Profile {
  queueWaitMs: number;
  wallTimeMs: number;
  cpuTimeMs: number;
  heapGrowthBytes: number;
  outputBytes: number;
}
interface NodeRecord {
  status: string;
  durationMs?: number;
  output?: unknown;
  profile?: Profile;
}

async function runAndRead(args: string[]): Promise<Record<string, NodeRecord>> {
  await writeFile(path.join(dir, "flow.yaml"), COMPOSITE);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "silent", "--data-dir", "data", ...args], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(0);
  const files = (await readdir(path.join(dir, "data/runs"))).filter((f) => f.endsWith(".json"));
  expect(files).toHaveLength(1);
  return (JSON.parse(await readFile(path.join(dir, "data/runs", files[0]!), "utf8")) as { nodes: Record<string, NodeRecord> }).nodes;
}

async function onlyRunId(): Promise<string> {
  const files = (await readdir(path.join(dir, "data/runs"))).filter((f) => f.endsWith(".json"));
  return files[0]!.slice(0, -5);
}

describe("the per-node profile in the run record", () => {
  test("run --profile: every node that ran has queue wait, wall time, CPU time, heap growth and output size", async () => {
    const nodes = await runAndRead(["--profile", "run.trace.json"]);
    for (const [id, n] of Object.entries(nodes)) {
      expect(n.status, id).toBe("succeeded");
      const p = n.profile!;
      expect(Object.keys(p ?? {}).sort(), id).toEqual(["cpuTimeMs", "heapGrowthBytes", "outputBytes", "queueWaitMs", "wallTimeMs"]);
      // Wall time is the record's own durationMs (loop-body nodes: summed over iterations, as durationMs is).
      expect(p.wallTimeMs, id).toBeCloseTo(n.durationMs!, 2);
      expect(p.queueWaitMs, id).toBeGreaterThanOrEqual(0);
      expect(p.cpuTimeMs, id).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(p.heapGrowthBytes), id).toBe(true);
    }
    // Output size: the UTF-8 bytes of the output's JSON (é is two bytes); the loop body's add up.
    expect(nodes.keep!.profile!.outputBytes).toBe(Buffer.byteLength(JSON.stringify(nodes.keep!.output)));
    expect(nodes.keep!.profile!.outputBytes).toBe(Buffer.byteLength('{"kept":100000,"label":"héllo"}'));
    expect(nodes.double!.profile!.outputBytes).toBe("2".length + "44".length + "666".length);
    // 3 million square roots in burn's synchronous part cost CPU.
    expect(nodes.burn!.profile!.cpuTimeMs).toBeGreaterThan(0);
    // One slot: wait was ready when the run started and started only when burn finished, so it
    // waited at least as long as burn ran (both measured on the conductor's one clock).
    expect(nodes.wait!.profile!.queueWaitMs).toBeGreaterThanOrEqual(nodes.burn!.durationMs! - 0.002);
    // keep started in the pump that burn's finish released it in: no wait of its own.
    expect(nodes.keep!.profile!.queueWaitMs).toBeLessThan(nodes.wait!.profile!.queueWaitMs);

    // The trace --profile wrote carries the same CPU time and heap growth in the node's span args.
    const trace = JSON.parse(await readFile(path.join(dir, "run.trace.json"), "utf8")) as { traceEvents: { name: string; cat?: string; args?: Record<string, unknown> }[] };
    for (const id of ["burn", "keep"]) {
      const args = trace.traceEvents.find((e) => e.cat === "node" && e.name === id && e.args?.wallMs !== undefined)?.args;
      expect(args?.cpuTimeMs, id).toBe(nodes[id]!.profile!.cpuTimeMs);
      expect(args?.heapGrowthBytes, id).toBe(nodes[id]!.profile!.heapGrowthBytes);
    }
  });

  test("the run's events carry the measurements: node:finish has profile, the stored event log too", async () => {
    await runAndRead(["--profile", "run.trace.json"]);
    const logs = (await readdir(path.join(dir, "data/runs"))).filter((f) => f.endsWith(".ndjson"));
    const finishes = (await readFile(path.join(dir, "data/runs", logs[0]!), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; nodeId?: string; profile?: Record<string, number> })
      .filter((e) => e.type === "node:finish");
    expect(finishes.length).toBe(5 + 3); // the five top-level nodes, and double once per item
    for (const e of finishes) expect(Object.keys(e.profile ?? {}).sort(), e.nodeId).toEqual(["cpuTimeMs", "heapGrowthBytes", "queueWaitMs"]);
  });

  test("without --profile nothing is measured: no profile in the record, no profile columns in runs show", async () => {
    const nodes = await runAndRead([]);
    for (const [id, n] of Object.entries(nodes)) expect(n.profile, id).toBeUndefined();
    const shown = await atomiton(["runs", "show", await onlyRunId(), "--data-dir", "data"], { cwd: dir, env: { COLUMNS: "200" } });
    expect(shown.stdout).toMatch(/^NODE +TYPE +STATUS +DURATION +ATTEMPTS +OUTPUT/m);
  });

  test("runs show of a profiled run has each node's queue wait, CPU time and heap growth, as the record has them", async () => {
    const nodes = await runAndRead(["--profile", "run.trace.json"]);
    const shown = await atomiton(["runs", "show", await onlyRunId(), "--data-dir", "data"], { cwd: dir, env: { COLUMNS: "200" } });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^NODE +TYPE +STATUS +DURATION +QUEUE +CPU +HEAP +ATTEMPTS +OUTPUT/m);
    // As runs show formats them: one decimal under 10 ms, whole ms under 1 s, else seconds.
    const ms = (v: number) => (v < 10 ? `${(Math.round(v * 10) / 10).toFixed(1)}ms` : v < 1000 ? `${Math.round(v)}ms` : `${(Math.floor(v / 10) / 100).toFixed(2)}s`);
    const burn = nodes.burn!.profile!;
    const row = new RegExp(`^burn +code +\\S+ succeeded +\\S+ +${ms(burn.queueWaitMs)} +${ms(burn.cpuTimeMs)} +[+-][\\d.]+ (?:B|kB|MB) +1 `, "m");
    expect(shown.stdout).toMatch(row);
    const keepRow = shown.stdout.split("\n").find((l) => l.startsWith("keep "))!;
    expect(keepRow).toContain(`${nodes.keep!.profile!.heapGrowthBytes < 0 ? "-" : "+"}`);
  });
});
