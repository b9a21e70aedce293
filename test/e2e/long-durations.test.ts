import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// setTimeout fires at once for any delay of 2^31 ms (about 24.8 days) or more. Every duration —
// `delay`, a node's `timeout`, `--timeout`/settings.timeout, retry backoff — chains timers instead,
// and 0 as a timeout means "no timeout" (issue 12, item 4).

let dir = "";
useTempDir((d) => (dir = d), "atomiton-long-");

async function run(yaml: string, args: string[] = []): Promise<{ exitCode: number | undefined; stderr: string; record: { status: string; nodes: Record<string, { status?: string; attempts?: number; error?: { code?: string } }>; error?: { code?: string } } }> {
  const file = path.join(dir, "flow.yaml");
  await writeFile(file, yaml);
  const r = await atomiton(["run", file, "--reporter", "plain", ...args], { cwd: dir });
  const runs = (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"));
  expect(runs).toHaveLength(1);
  const record = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", runs[0]!), "utf8"));
  return { exitCode: r.exitCode, stderr: r.stderr, record };
}

const delay = (duration: string | number, extra = "") => `name: long
nodes:
  - id: wait
    type: delay
    parameters: { duration: ${JSON.stringify(duration)} }${extra}
`;

describe("durations of 2^31 ms and more", () => {
  test("a delay of 1e12 ms waits (here until the 1s run timeout), it does not finish at once", async () => {
    const { exitCode, stderr, record } = await run(delay(1e12), ["--timeout", "1s"]);
    expect(record.status).toBe("failed");
    expect(record.nodes.wait!.status).not.toBe("succeeded");
    expect(stderr).toMatch(/timed out after/);
    expect(exitCode).toBe(1);
  });

  test("--timeout 600h does not time out a short run", async () => {
    const { exitCode, record } = await run(delay("50ms"), ["--timeout", "600h"]);
    expect(record.status).toBe("succeeded");
    expect(exitCode).toBe(0);
  });

  test("settings.timeout of 600h does not time out a short run", async () => {
    const { exitCode, record } = await run(`settings: { timeout: 600h }\n${delay("50ms")}`);
    expect(record.status).toBe("succeeded");
    expect(exitCode).toBe(0);
  });

  test("a node timeout of 600h does not time out a short node", async () => {
    const { exitCode, record } = await run(delay("50ms", "\n    timeout: 600h"));
    expect(record.nodes.wait).toMatchObject({ status: "succeeded" });
    expect(exitCode).toBe(0);
  });

  test("a retry delay of 600h waits before the second attempt (here until the 1s run timeout)", async () => {
    const yaml = `name: retry
nodes:
  - id: flaky
    type: shell-command
    parameters: { command: "if [ -f marker ]; then echo second; else touch marker; exit 3; fi" }
    retry: { attempts: 2, delay: 600h }
`;
    const { exitCode, record } = await run(yaml, ["--timeout", "1s"]);
    expect(record.nodes.flaky!.attempts).toBe(1);
    expect(record.status).toBe("failed");
    expect(exitCode).toBe(1);
  });
});

describe("a timeout of 0 is no timeout", () => {
  test("--timeout 0", async () => {
    const { exitCode, record } = await run(delay("50ms"), ["--timeout", "0"]);
    expect(record.status).toBe("succeeded");
    expect(exitCode).toBe(0);
  });

  test("node timeout: 0 and settings.timeout: 0", async () => {
    const { exitCode, record } = await run(`settings: { timeout: 0 }\n${delay("50ms", "\n    timeout: 0")}`);
    expect(record.status).toBe("succeeded");
    expect(exitCode).toBe(0);
  });

  test("--dry-run shows no timeout for --timeout 0", async () => {
    await writeFile(path.join(dir, "flow.yaml"), delay("50ms"));
    const r = await atomiton(["run", "flow.yaml", "--dry-run", "--timeout", "0"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toMatch(/timeout/i);
  });
});
