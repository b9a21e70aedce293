// Child process of engine.js: load one shape, warm up, time N executions. Prints JSON.
// Usage: node bench/engine-child.js '{"distIndex":"file:…/index.js","shape":["chain",1000],"concurrency":16,"runs":9,"warmup":3,"mode":"silent"}'
import { compileBaseline, runBaseline } from "./baseline.js";
import noopSpec from "./noop-node.js";
import * as shapes from "./shapes.js";
import { msSince, round, timeAsync } from "./stats.js";

const spec = JSON.parse(process.argv[2]);
const [builder, ...args] = spec.shape;
const shape = shapes[builder](...args);
const concurrency = spec.concurrency === "Infinity" ? Infinity : spec.concurrency;
const api = await import(spec.distIndex);
const noop = api.defineNode(noopSpec);
const catalog = api.createBuiltinCatalog([{ definition: noop, source: "bench" }]);

// Load + validate: the YAML text → a validated composite (timed apart from execution).
const text = shapes.toYaml(shape);
const start = process.hrtime.bigint();
const loaded = api.loadCompositeFromText(text, { catalog });
const loadMs = msSince(start);
if (!loaded.ok) throw new Error(`${shape.name}: invalid composite: ${loaded.problems[0]?.message}`);
const composite = loaded.composite;

async function check(promise) {
  const result = await promise;
  if (result.status !== "succeeded") throw new Error(`${shape.name}: run ${result.status}: ${result.error?.message}`);
}

let engines;
if (spec.mode === "silent") {
  const base = compileBaseline(shape);
  const work = async () => undefined;
  const conductor = api.createConductor({ nodes: [noop] });
  engines = {
    baseline: () => runBaseline(base, concurrency, work),
    silent: () => check(conductor.execute({ composite, concurrency })),
  };
} else {
  engines = {
    // A fresh storage per run, so records of earlier runs do not pile up in memory.
    eventLog: () => {
      const conductor = api.createConductor({ storage: api.createStorage({ type: "memory" }), nodes: [noop] });
      return check(conductor.execute({ composite, concurrency, record: true }));
    },
  };
}

// Warm up, then interleaved rounds so drift and GC debt hit every engine alike.
// CPU time (user + system, all threads) is kept too: on a busy machine it is steadier than wall time.
const samples = Object.fromEntries(Object.keys(engines).map((k) => [k, []]));
const cpuSamples = Object.fromEntries(Object.keys(engines).map((k) => [k, []]));
for (let w = 0; w < spec.warmup; w++) for (const run of Object.values(engines)) await run();
for (let r = 0; r < spec.runs; r++) {
  for (const [name, run] of Object.entries(engines)) {
    const cpu = process.cpuUsage();
    samples[name].push(round(await timeAsync(run), 4));
    const used = process.cpuUsage(cpu);
    cpuSamples[name].push(round((used.user + used.system) / 1000, 4));
  }
}
process.stdout.write(`${JSON.stringify({ name: shape.name, nodes: shape.size, edges: shape.edges.length, loadMs, samples, cpuSamples })}\n`);
