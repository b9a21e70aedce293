// Idle CPU of `atomiton run --watch`: scaffold a project with `atomiton init` (a composite, a
// TypeScript custom node, atomiton.config.json), start watch mode, wait for the first run to
// finish, then sample the process's CPU time (utime + stime from /proc/<pid>/stat) over a quiet
// window. SPEC §8 / issue 5: under 1 % over 10 s. Linux only (reads /proc).
//
//   node bench/watch-idle.js [--seconds 10] [--cli path/to/cli.js]
//
// Exported as `benchWatchIdle` for bench/run.js.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; fields after its closing paren are space-separated.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of the full line
}

function clockTicksPerSecond() {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

/**
 * Start watch mode on a scaffolded project and measure its CPU use while idle.
 * Resolves with the steady window `{ cpuPercent, seconds, cpuMs }` plus `afterFirstRun` (the window
 * right after the first run), `watchedFiles` and `tickMs` (the /proc resolution).
 */
export async function benchWatchIdle({ cli, seconds = 10 }) {
  if (process.platform !== "linux") return { skipped: "needs /proc (Linux)" };
  const dir = mkdtempSync(path.join(tmpdir(), "atomiton-watch-idle-"));
  const env = { ...process.env, NO_COLOR: "1", CI: "true" };
  const node = process.execPath;
  let child;
  try {
    const init = spawnSync(node, [...cli, "init"], { cwd: dir, env, encoding: "utf8" });
    if (init.status !== 0) throw new Error(`atomiton init failed: ${init.stderr}`);
    child = spawn(node, [...cli, "run", "flow.yaml", "--watch", "--reporter", "plain", "--storage", "memory"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const firstRun = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no first run within 30 s:\n${output}`)), 30_000);
      const onData = (chunk) => {
        output += chunk;
        const m = /\[watch\] run \w+ \(exit \d+\); watching (\d+) files?/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => reject(new Error(`watch mode exited (${code}) before its first run finished:\n${output}`)));
    });
    const watchedFiles = await firstRun;
    await new Promise((r) => setTimeout(r, 1000));
    const hz = clockTicksPerSecond();
    const window = async (length = seconds) => {
      const t0 = process.hrtime.bigint();
      const c0 = cpuTicks(child.pid);
      await new Promise((r) => setTimeout(r, length * 1000));
      const cpuMs = ((cpuTicks(child.pid) - c0) / hz) * 1000;
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      return { cpuPercent: Math.round((cpuMs / 1000 / wallS) * 100 * 1000) / 1000, seconds: Math.round(wallS * 100) / 100, cpuMs };
    };
    // Two windows back to back: the first (1 s after the first run, 1.5× as long) includes V8's
    // one-off heap shrink ("Mark-Compact (reduce)", 8 to 12 s after start-up, about 120 ms of CPU);
    // the second is steady idle. With two equal windows the shrink sometimes fell in the second.
    const afterFirstRun = await window(seconds * 1.5);
    const steady = await window();
    return { ...steady, afterFirstRun, watchedFiles, tickMs: 1000 / hz };
  } finally {
    if (child && child.exitCode === null) {
      child.kill("SIGINT");
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill("SIGKILL");
          r();
        }, 5000);
        child.once("exit", () => {
          clearTimeout(t);
          r();
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? fallback : process.argv[i + 1];
  };
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const cliArg = arg("--cli", undefined);
  const cli = cliArg ? [path.resolve(cliArg)] : [path.join(repoRoot, "bin", "atomiton.js")];
  const seconds = Number(arg("--seconds", "10"));
  const result = await benchWatchIdle({ cli, seconds });
  if (result.skipped) {
    console.log(`watch idle CPU: skipped (${result.skipped})`);
  } else {
    const verdict = (r) => (r.cpuPercent < 1 ? "ok (< 1 %)" : "OVER the 1 % bar");
    const a = result.afterFirstRun;
    console.log(`watch idle CPU (${result.watchedFiles} files watched, /proc tick ${result.tickMs} ms):`);
    console.log(`  first ${a.seconds} s after the first run: ${a.cpuPercent} % (${a.cpuMs} ms CPU, includes V8's one-off heap shrink) — ${verdict(a)}`);
    console.log(`  next ${result.seconds} s, steady idle:        ${result.cpuPercent} % (${result.cpuMs} ms CPU) — ${verdict(result)}`);
  }
}
