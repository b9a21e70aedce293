// Top self-time functions of a V8 .cpuprofile: node bench/profile-top.js file.cpuprofile [count]
import { readFileSync } from "node:fs";

const [file, countText = "25"] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let k = 0; k < profile.samples.length; k++) {
  const n = byId.get(profile.samples[k]);
  const f = n.callFrame;
  const key = `${f.functionName || "(anonymous)"}  ${f.url.split("/").slice(-1)[0]}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (dt[k] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(countText));
for (const [key, us] of top) console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${key}`);
console.log(`total ${(total / 1000).toFixed(1)} ms`);
