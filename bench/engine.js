// In-process measurements. Each (shapes, concurrency, mode) runs in a fresh child process
// (bench/engine-child.js), so no run inherits another's garbage or heap growth. The two largest
// chains share one child (one after the other, each from a collected heap): the scaling rows compare
// sizes measured in the same process (separate processes differ by up to 1.8x on a shared machine,
// which swamps a 10x-vs-12x question).
//   mode "silent":   the bare baseline and createConductor with no listeners, interleaved
//                    in one process (same heap, same loaded composite);
//   mode "eventLog": createConductor with memory storage and record: true.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./stats.js";

const CHILD = fileURLToPath(new URL("./engine-child.js", import.meta.url));

/**
 * Shapes (by builder name and arguments, see shapes.js; several alternate in one child), runs of
 * each per round (`repeat`), concurrencies, rounds. Infinity = unlimited.
 */
export function plan(quick) {
  if (quick) {
    return [
      { shapes: [["chain", 100], ["chain", 1000]], repeat: [3, 1], concurrency: [16], runs: 3, warmup: 1 },
      { shapes: [["fanOut", 100]], concurrency: [16, Infinity], runs: 3, warmup: 1 },
      { shapes: [["grid", 10, 10]], concurrency: [Infinity], runs: 3, warmup: 1 },
    ];
  }
  // The 1k shapes warm up for 60 runs: their rows are the conductor's steady cost per node, and V8
  // needs 10 to 45 runs of 1,000 nodes to finish tiering up, varying with the build (minified or
  // not) and the machine (docs/performance.md, "7 December 2026, midday"). A run's cold cost is in
  // the end-to-end and cold-start rows.
  return [
    { shapes: [["chain", 1000]], concurrency: [16], runs: 31, warmup: 60 },
    { shapes: [["chain", 10_000], ["chain", 100_000]], repeat: [2, 1], concurrency: [16], runs: 9, warmup: 3 },
    { shapes: [["fanOut", 1000]], concurrency: [16, Infinity], runs: 31, warmup: 60 },
    { shapes: [["grid", 100, 100]], concurrency: [Infinity], runs: 15, warmup: 5 },
  ];
}

export function benchEngine({ distIndex, quick, progress }) {
  const results = [];
  for (const { shapes, repeat, concurrency, runs, warmup } of plan(quick)) {
    for (const c of concurrency) {
      const spec = { distIndex, shapes, repeat, concurrency: c === Infinity ? "Infinity" : c, runs, warmup };
      progress(`${shapes.map((shape) => shape.join(" ")).join(" and ")} (concurrency ${c === Infinity ? "∞" : c})`);
      const silent = child({ ...spec, mode: "silent" });
      const eventLog = child({ ...spec, mode: "eventLog" });
      silent.forEach((s, k) => {
        const e = eventLog[k];
        const perNode = (xs) => (median(xs) * 1000) / s.nodes;
        results.push({
          shape: s.name,
          nodes: s.nodes,
          edges: s.edges,
          concurrency: c === Infinity ? "unlimited" : c,
          runs: runs * (repeat?.[k] ?? 1),
          warmup,
          // Measured alongside these shapes in the same child processes.
          together: shapes.length > 1 ? silent.map((x) => x.name) : undefined,
          loadMs: s.loadMs,
          medianMs: { baseline: median(s.samples.baseline), silent: median(s.samples.silent), eventLog: median(e.samples.eventLog) },
          usPerNode: { baseline: perNode(s.samples.baseline), silent: perNode(s.samples.silent), eventLog: perNode(e.samples.eventLog) },
          cpuMedianMs: { baseline: median(s.cpuSamples.baseline), silent: median(s.cpuSamples.silent), eventLog: median(e.cpuSamples.eventLog) },
          samplesMs: { ...s.samples, ...e.samples },
        });
      });
    }
  }
  return results;
}

// ATOMITON_BENCH_NODE_FLAGS: extra Node flags for the children, such as a fixed young generation
// (`--min-semi-space-size=16 --max-semi-space-size=16`) so an A/B compares code, not where V8's heap
// sizing left the young generation's pages (docs/performance.md, "A/B").
const NODE_FLAGS = (process.env.ATOMITON_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);

function child(spec) {
  const r = spawnSync(process.execPath, [...NODE_FLAGS, "--expose-gc", CHILD, JSON.stringify(spec)], { encoding: "utf8", timeout: 240_000, maxBuffer: 16 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${path.basename(CHILD)} ${spec.shapes.map((s) => s.join(" ")).join(", ")} ${spec.mode} failed: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout);
}
