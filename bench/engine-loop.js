// One shape, many executions in one process, per-run time in µs (median of blocks of runs/30):
//   node [--min-semi-space-size=16 --max-semi-space-size=16] bench/engine-loop.js <dist dir> [chain|fanout|grid] [size] [runs] [silent|eventLog] [concurrency]
// For A/B of two builds where bench/engine.js's rows are too coarse (a fixed per-run cost).
import path from "node:path";
import { pathToFileURL } from "node:url";
import noopSpec from "./noop-node.js";
import { chain, fanOut, grid, toYaml } from "./shapes.js";
import { median } from "./stats.js";

const [dist, kind = "chain", sizeText = "1000", runsText = "3000", mode = "silent", concurrencyText = "16"] = process.argv.slice(2);
const concurrency = concurrencyText === "Infinity" ? Infinity : Number(concurrencyText);
const size = Number(sizeText);
const api = await import(pathToFileURL(path.join(path.resolve(dist), "index.js")).href);
const shape = kind === "grid" ? grid(Math.round(Math.sqrt(size)), Math.round(Math.sqrt(size))) : kind === "fanout" ? fanOut(size) : chain(size);
const noop = api.defineNode(noopSpec);
const loaded = api.loadCompositeFromText(toYaml(shape), { catalog: api.createBuiltinCatalog([{ definition: noop, source: "bench" }]) });
if (!loaded.ok) throw new Error(loaded.problems[0]?.message);
// eventLog: memory storage and a record per run (the full path, where the debugger's checks are).
const execute =
  mode === "eventLog"
    ? () => api.createConductor({ nodes: [noop], storage: api.createStorage({ type: "memory" }) }).execute({ composite: loaded.composite, concurrency, record: true })
    : ((conductor) => () => conductor.execute({ composite: loaded.composite, concurrency }))(api.createConductor({ nodes: [noop] }));
const blocks = [];
const runs = Number(runsText);
const block = Math.max(1, Math.round(runs / 30));
for (let r = 0; r < runs; r += block) {
  const start = process.hrtime.bigint();
  for (let k = 0; k < block; k++) await execute();
  blocks.push(Number(process.hrtime.bigint() - start) / 1e3 / block);
}
const steady = blocks.slice(Math.floor(blocks.length / 3));
process.stdout.write(`${JSON.stringify({ kind, size, mode, concurrency: String(concurrency), usPerRun: median(steady), blocks: steady.map((b) => Math.round(b)) })}\n`);
