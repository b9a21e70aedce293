// Spawn timings: CLI cold start against `node -e 0`, and the tty reporter against silent
// under a real pseudo-terminal (`script`).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chain, toYaml } from "./shapes.js";
import { median, msSince } from "./stats.js";

const NOOP_NODE = fileURLToPath(new URL("./noop-node.js", import.meta.url));

/** Spawn once, synchronously; returns wall milliseconds. Throws when the command fails. */
function timeSpawn(command, args, options) {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 256 * 2 ** 20, ...options });
  const ms = msSince(start);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.stdout || "").slice(-500)}`);
  return ms;
}

/** Medians of interleaved rounds (so drift affects every command alike) after `warmup` rounds. */
function medians(commands, runs, warmup, options) {
  const samples = commands.map(() => []);
  for (let r = 0; r < warmup + runs; r++) {
    commands.forEach(([cmd, args], k) => {
      const ms = timeSpawn(cmd, args, options);
      if (r >= warmup) samples[k].push(ms);
    });
  }
  return samples.map((xs) => ({ medianMs: median(xs), samplesMs: xs }));
}

/** `node -e 0` and three CLI commands; ratios are against `node -e 0`. */
export function benchColdStart({ cli, repoRoot, runs, warmup }) {
  const node = process.execPath;
  const cases = [
    ["node -e 0", [node, ["-e", "0"]]],
    ["atomiton --version", [node, [...cli, "--version"]]],
    ["atomiton validate hello", [node, [...cli, "validate", "examples/hello.yaml"]]],
    ["atomiton run hello --reporter plain", [node, [...cli, "run", "examples/hello.yaml", "--reporter", "plain", "--storage", "memory"]]],
  ];
  const env = { ...process.env, NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  const measured = medians(
    cases.map(([, c]) => c),
    runs,
    warmup,
    { cwd: repoRoot, env },
  );
  // The first start after an install or a build has no compile cache yet (src/cli/compile-cache.ts):
  // measured on its own, with the cache turned off.
  const [uncached] = medians([cases[3][1]], runs, warmup, { cwd: repoRoot, env: { ...env, ATOMITON_DISABLE_COMPILE_CACHE: "1" } });
  const floor = measured[0].medianMs;
  return [...cases.map(([name], k) => ({ name, ...measured[k], ratio: measured[k].medianMs / floor })), { name: "atomiton run hello --reporter plain, no compile cache", ...uncached, ratio: uncached.medianMs / floor }];
}

/** The tty reporter vs silent on chains of noop nodes, both in a real pty of 120×40. */
export function benchTty({ cli, sizes, runs, warmup }) {
  const dir = mkdtempSync(path.join(tmpdir(), "atomiton-bench-"));
  try {
    const env = { ...process.env, TERM: "xterm-256color" };
    delete env.CI; // CI=… makes the tty reporter fall back to plain
    delete env.NO_COLOR;
    const out = [];
    for (const size of sizes) {
      const file = path.join(dir, `chain-${size}.yaml`);
      writeFileSync(file, toYaml(chain(size)));
      const command = (reporter) => {
        const argv = [process.execPath, ...cli, "run", file, "--nodes", NOOP_NODE, "--reporter", reporter, "--storage", "memory"];
        return ["script", ["-qefc", `stty cols 120 rows 40 2>/dev/null; exec ${argv.map(quote).join(" ")}`, "/dev/null"]];
      };
      const [tty, silent] = medians([command("tty"), command("silent")], runs, warmup, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      out.push({ nodes: size, ttyMs: tty.medianMs, silentMs: silent.medianMs, ratio: tty.medianMs / silent.medianMs, samplesMs: { tty: tty.samplesMs, silent: silent.samplesMs } });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** True when `script` (util-linux) can give a child a pseudo-terminal here. */
export function hasScript() {
  const r = spawnSync("script", ["-qefc", "true", "/dev/null"], { stdio: "ignore" });
  return !r.error && r.status === 0;
}

function quote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}
