// Child process of engine.js: load one or more shapes, warm up, time rounds of executions. Prints JSON.
// Usage: node bench/engine-child.js '{"distIndex":"file:…/index.js","shapes":[["chain",10000],["chain",100000]],
//   "repeat":[3,1],"concurrency":16,"runs":9,"warmup":3,"mode":"silent"}'
// Several shapes are measured one after another in the same process (same JIT, same memory layout):
// that is how the scaling rows compare sizes. Each shape's block starts from a collected heap
// (run with --expose-gc), so a small shape does not pay for a big one's garbage. `repeat[k]` runs
// shape k that many times per round (more samples for a small shape at little cost).
import { compileBaseline, runBaseline } from "./baseline.js";
import noopSpec from "./noop-node.js";
import * as shapes from "./shapes.js";
import { msSince, round, timeAsync } from "./stats.js";

const spec = JSON.parse(process.argv[2]);
const concurrency = spec.concurrency === "Infinity" ? Infinity : spec.concurrency;
const api = await import(spec.distIndex);
const noop = api.defineNode(noopSpec);
const catalog = api.createBuiltinCatalog([{ definition: noop, source: "bench" }]);

async function check(name, promise) {
  const result = await promise;
  if (result.status !== "succeeded") throw new Error(`${name}: run ${result.status}: ${result.error?.message}`);
}

const subjects = spec.shapes.map(([builder, ...args], k) => {
  const shape = shapes[builder](...args);
  // Load + validate: the YAML text → a validated composite (timed apart from execution).
  const text = shapes.toYaml(shape);
  const start = process.hrtime.bigint();
  const loaded = api.loadCompositeFromText(text, { catalog });
  const loadMs = msSince(start);
  if (!loaded.ok) throw new Error(`${shape.name}: invalid composite: ${loaded.problems[0]?.message}`);
  const composite = loaded.composite;
  let engines;
  if (spec.mode === "silent") {
    const base = compileBaseline(shape);
    const work = async () => undefined;
    const conductor = api.createConductor({ nodes: [noop] });
    engines = {
      baseline: () => runBaseline(base, concurrency, work),
      silent: () => check(shape.name, conductor.execute({ composite, concurrency })),
    };
  } else {
    engines = {
      // A fresh storage per run, so records of earlier runs do not pile up in memory.
      eventLog: () => {
        const conductor = api.createConductor({ storage: api.createStorage({ type: "memory" }), nodes: [noop] });
        return check(shape.name, conductor.execute({ composite, concurrency, record: true }));
      },
    };
  }
  const names = Object.keys(engines);
  return {
    shape,
    loadMs,
    engines,
    repeat: spec.repeat?.[k] ?? 1,
    samples: Object.fromEntries(names.map((n) => [n, []])),
    cpuSamples: Object.fromEntries(names.map((n) => [n, []])),
  };
});

// Per shape: collect, warm up, then rounds in which the engines alternate, so drift and GC debt hit
// baseline and conductor alike. No collection between rounds: gc() shrinks the young generation and
// the next run pays for regrowing it. CPU time (user + system, all threads) is kept too: on a busy
// machine it is steadier than wall time.
for (const s of subjects) {
  globalThis.gc?.();
  for (let w = 0; w < spec.warmup; w++) for (let k = 0; k < s.repeat; k++) for (const run of Object.values(s.engines)) await run();
  for (let r = 0; r < spec.runs; r++) {
    for (let k = 0; k < s.repeat; k++) {
      for (const [name, run] of Object.entries(s.engines)) {
        const cpu = process.cpuUsage();
        s.samples[name].push(round(await timeAsync(run), 4));
        const used = process.cpuUsage(cpu);
        s.cpuSamples[name].push(round((used.user + used.system) / 1000, 4));
      }
    }
  }
}
const out = subjects.map((s) => ({ name: s.shape.name, nodes: s.shape.size, edges: s.shape.edges.length, loadMs: s.loadMs, samples: s.samples, cpuSamples: s.cpuSamples }));
process.stdout.write(`${JSON.stringify(out)}\n`);
