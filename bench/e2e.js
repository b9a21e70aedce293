// End to end through the CLI (issue 17): `atomiton run chain.yaml --reporter silent --storage memory`
// on chains of `edit-fields` nodes, in the concise form and in both editor dialects, from process
// start to exit. The figure per node subtracts the `run hello` cold start (same rounds, same
// interleaving), so it is what each node adds: reading, parsing, validating, compiling, running.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { median, msSince } from "./stats.js";

/** A chain of `n` edit-fields nodes as YAML in one of the three dialects. */
export function editFieldsChain(n, dialect) {
  const lines = [];
  if (dialect === "concise") {
    lines.push(`name: chain-${n}`, "nodes:");
    for (let i = 0; i < n; i++) lines.push(`  - { id: n${i}, type: edit-fields, parameters: { values: { step: ${i} } } }`);
    lines.push("edges:");
    for (let i = 1; i < n; i++) lines.push(`  - n${i - 1} -> n${i}`);
  } else if (dialect === "composite-era") {
    // The Atomiton editor's composite files: data: holds the values, position:, edges with handles.
    lines.push(`id: "chain-${n}"`, `name: "Chain ${n}"`, 'type: "composite"', 'version: "1.0.0"', "nodes:");
    for (let i = 0; i < n; i++) {
      lines.push(`  - id: "n${i}"`, '    type: "edit-fields"', `    name: "Step ${i}"`, "    data:", "      values:", `        step: ${i}`, "      keepOnlySet: false", "    position:", `      x: ${i * 200}`, "      y: 100");
    }
    lines.push("edges:");
    for (let i = 1; i < n; i++) {
      lines.push(`  - id: "e${i}"`, `    source: "n${i - 1}"`, `    target: "n${i}"`, '    sourceHandle: "output"', '    targetHandle: "input"');
    }
  } else if (dialect === "flow-era") {
    lines.push(`id: "chain-${n}"`, `name: "Chain ${n}"`, 'type: "group"', 'version: "1.0.0"', "nodes:");
    for (let i = 0; i < n; i++) {
      lines.push(`  - id: "n${i}"`, '    type: "edit-fields"', `    name: "Step ${i}"`, "    parameters:", "      values:", `        step: ${i}`, "      keepOnlySet: false", "    position:", `      x: ${i * 200}`, "      y: 200");
    }
    lines.push("edges:");
    for (let i = 1; i < n; i++) {
      lines.push(`  - id: "edge-${i}"`, `    source: "n${i - 1}"`, `    target: "n${i}"`, '    sourceHandle: "output"', '    targetHandle: "input"');
    }
  } else {
    throw new Error(`unknown dialect ${dialect}`);
  }
  return `${lines.join("\n")}\n`;
}

export const DIALECTS = ["concise", "composite-era", "flow-era"];

function timeRun(argv, cwd) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { cwd, encoding: "utf8", maxBuffer: 64 * 2 ** 20, env: { ...process.env, NO_COLOR: "1" } });
  const ms = msSince(start);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${argv.slice(1).join(" ")} exited ${r.status}: ${(r.stderr || r.stdout || "").slice(-500)}`);
  return ms;
}

/**
 * For each size and dialect: median wall time of the whole process, and µs per node after the
 * `run hello` cold start is subtracted. Rounds interleave every file with `run hello`.
 */
export function benchEndToEnd({ cli, repoRoot, sizes, runs, warmup, progress }) {
  const dir = mkdtempSync(path.join(tmpdir(), "atomiton-e2e-"));
  try {
    const hello = [...cli, "run", path.join(repoRoot, "examples/hello.yaml"), "--reporter", "plain", "--storage", "memory"];
    const out = [];
    for (const size of sizes) {
      progress?.(`end to end, ${size}-node chains`);
      const cases = DIALECTS.map((dialect) => {
        const file = path.join(dir, `chain-${size}-${dialect}.yaml`);
        writeFileSync(file, editFieldsChain(size, dialect));
        return { dialect, argv: [...cli, "run", file, "--reporter", "silent", "--storage", "memory"] };
      });
      // Fewer rounds for the largest files: each takes seconds.
      const rounds = size >= 100_000 ? Math.max(3, Math.ceil(runs / 3)) : runs;
      const samples = cases.map(() => []);
      const helloSamples = [];
      for (let r = 0; r < warmup + rounds; r++) {
        const h = timeRun(hello, repoRoot);
        if (r >= warmup) helloSamples.push(h);
        cases.forEach((c, k) => {
          const ms = timeRun(c.argv, dir);
          if (r >= warmup) samples[k].push(ms);
        });
      }
      const helloMs = median(helloSamples);
      cases.forEach((c, k) => {
        const ms = median(samples[k]);
        out.push({ nodes: size, dialect: c.dialect, medianMs: ms, helloMs, usPerNode: ((ms - helloMs) * 1000) / size, samplesMs: samples[k], helloSamplesMs: helloSamples });
      });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
