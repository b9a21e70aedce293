// Child process: N concurrent executions of a 10-node composite (root → 8 → join) in one
// process. Prints { ms, startRssMb, peakRssMb } as JSON. Run alone so its peak RSS is its own.
// Usage: node bench/concurrent.js <dist index.js URL> <count> <silent|eventLog>
import noopSpec from "./noop-node.js";
import { fanOut, toYaml } from "./shapes.js";
import { msSince } from "./stats.js";

const [distUrl, countText, mode] = process.argv.slice(2);
const count = Number(countText);
const api = await import(distUrl);
const noop = api.defineNode(noopSpec);
const catalog = api.createBuiltinCatalog([{ definition: noop, source: "bench" }]);
const loaded = api.loadCompositeFromText(toYaml(fanOut(8)), { catalog });
if (!loaded.ok) throw new Error(loaded.problems[0]?.message);
const composite = loaded.composite;
const storage = mode === "eventLog" ? api.createStorage({ type: "memory" }) : undefined;
const conductor = api.createConductor({ nodes: [noop], ...(storage ? { storage } : {}) });
const options = { composite, record: mode === "eventLog" };

for (let i = 0; i < 20; i++) await conductor.execute(options); // warm up
const startRssMb = process.memoryUsage().rss / 2 ** 20;
let sampledPeak = startRssMb;
const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss / 2 ** 20)), 2);
const start = process.hrtime.bigint();
const results = await Promise.all(Array.from({ length: count }, () => conductor.execute(options)));
const ms = msSince(start);
clearInterval(sampler);
const failed = results.filter((r) => r.status !== "succeeded").length;
if (failed > 0) throw new Error(`${failed} of ${count} runs did not succeed`);
const ids = new Set(results.map((r) => r.runId));
// maxRSS is the kernel's high-water mark (KiB): exact, unlike sampling.
const peakRssMb = Math.max(sampledPeak, process.resourceUsage().maxRSS / 1024);
process.stdout.write(`${JSON.stringify({ ms, startRssMb, peakRssMb, distinctRunIds: ids.size })}\n`);
