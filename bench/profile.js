// Profile the executions (not the loading) of one shape:
//   node bench/profile.js [chain|fanout|grid] [size] [silent|eventLog] [runs] [out.cpuprofile]
//   node bench/profile-top.js out.cpuprofile
// The first run is a warm-up and is not profiled.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import noopSpec from "./noop-node.js";
import { chain, fanOut, grid, toYaml } from "./shapes.js";
import { msSince } from "./stats.js";

const [kind = "chain", sizeText = "100000", mode = "silent", runsText = "5", out] = process.argv.slice(2);
const size = Number(sizeText);
const dist = process.env.ATOMITON_BENCH_DIST ?? path.join(import.meta.dirname, "..", "dist");
const api = await import(pathToFileURL(path.join(dist, "index.js")).href);
const shape = kind === "grid" ? grid(Math.round(Math.sqrt(size)), Math.round(Math.sqrt(size))) : kind === "fanout" ? fanOut(size) : chain(size);
const noop = api.defineNode(noopSpec);
let start = process.hrtime.bigint();
const loaded = api.loadCompositeFromText(toYaml(shape), { catalog: api.createBuiltinCatalog([{ definition: noop, source: "bench" }]) });
if (!loaded.ok) throw new Error(loaded.problems[0]?.message);
console.error(`load+validate ${shape.name}: ${msSince(start).toFixed(1)} ms`);
const session = new Session();
session.connect();
await session.post("Profiler.enable");
for (let r = 0; r < Number(runsText); r++) {
  if (r === 1 && out) await session.post("Profiler.start");
  const storage = mode === "eventLog" ? api.createStorage({ type: "memory" }) : undefined;
  const conductor = api.createConductor({ nodes: [noop], ...(storage ? { storage } : {}) });
  start = process.hrtime.bigint();
  const result = await conductor.execute({ composite: loaded.composite, record: mode === "eventLog", concurrency: Infinity });
  console.error(`execute ${mode} #${r + 1}: ${msSince(start).toFixed(1)} ms (${result.status})`);
}
if (out) {
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(out, JSON.stringify(profile));
  console.error(`wrote ${out}`);
}
