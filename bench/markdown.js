// Print a results file as Markdown (for docs/performance.md): node bench/markdown.js [bench/results.json]
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? new URL("./results.json", import.meta.url);
const { machine, rows, totalSeconds, dist } = JSON.parse(readFileSync(file, "utf8"));
const fmt = (v) => (typeof v === "number" ? v.toLocaleString("en-US", { maximumFractionDigits: 3 }) : v);
console.log(`- CPU: ${machine.cpu}, ${machine.cores} cores (\`nproc\`), ${machine.memoryGb} GiB`);
console.log(`- Node ${machine.node}, ${machine.platform}`);
console.log(`- ${machine.date}, load average at start ${machine.loadAverage?.join(" / ") ?? "?"} (1 / 5 / 15 min); the whole bench took ${Math.round(totalSeconds)} s`);
console.log(`- build: \`${dist}\`\n`);
console.log("| measurement | value | unit | target | |");
console.log("| --- | ---: | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.target ?? ""} | ${r.pass === undefined ? "" : r.pass ? "✔" : "✖"} |`);
