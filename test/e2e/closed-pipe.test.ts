import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { BIN, ROOT, useTempDir } from "../helpers/cli.js";

// `atomiton run x.yaml | head -2`: the reader goes away while the run still has nodes to run. The
// run must not notice beyond stopping its writes: it finishes, saves its record and exits with the
// run's own code (issue 12, item 1).

const GATED = path.join(ROOT, "test/fixtures/promises/gated.yaml");
let dir = "";
useTempDir((d) => (dir = d), "atomiton-pipe-");

/**
 * `(atomiton run … ; echo $? > code) | (head -2 > head.txt; touch go)`: the gate node waits for `go`,
 * which exists only once `head` has exited, so every later write hits a closed pipe.
 */
async function runIntoHead(args: string[], merge: boolean): Promise<{ code: number; head: string; record: Record<string, unknown> }> {
  const cli = ["node", BIN, "run", GATED, ...args].map((a) => `'${a}'`).join(" ");
  const script = `(${cli} ${merge ? "2>&1" : "2>/dev/null"}; echo $? > code) | (head -2 > head.txt; touch go)`;
  await execa("bash", ["-c", script], { cwd: dir, env: { NO_COLOR: "1", CI: "true" }, timeout: 30_000 });
  const code = Number((await readFile(path.join(dir, "code"), "utf8")).trim());
  const head = await readFile(path.join(dir, "head.txt"), "utf8");
  const runs = (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"));
  expect(runs).toHaveLength(1);
  const record = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", runs[0]!), "utf8")) as Record<string, unknown>;
  return { code, head, record };
}

function statuses(record: Record<string, unknown>): Record<string, unknown> {
  const nodes = record.nodes as Record<string, { status?: string }>;
  return Object.fromEntries(Object.entries(nodes).map(([id, n]) => [id, n.status]));
}

describe("a closed stdout or stderr (EPIPE)", () => {
  test.each([
    ["plain, stderr merged into the pipe", ["--reporter", "plain"], true],
    ["json on stdout", ["--reporter", "json"], false],
  ] as const)("%s: the run finishes, is saved and exits 0", async (_name, args, merge) => {
    const { code, head, record } = await runIntoHead([...args], merge);
    expect(head.split("\n").filter(Boolean)).toHaveLength(2);
    expect(record.status).toBe("succeeded");
    expect(statuses(record)).toEqual({ first: "succeeded", gate: "succeeded", after: "succeeded", last: "succeeded" });
    expect(record.output).toBe("finished");
    expect(code).toBe(0);
  });

  test.each([
    ["plain", ["--reporter", "plain"], true],
    ["json", ["--reporter", "json"], false],
  ] as const)("%s: a run that fails after the reader left exits 1, with its record", async (_name, args, merge) => {
    const { code, record } = await runIntoHead([...args, "--var", "fail=true"], merge);
    expect(record.status).toBe("failed");
    expect(statuses(record)).toMatchObject({ after: "succeeded", last: "failed" });
    expect(code).toBe(1);
  });
});

describe("a full disk on stdout or stderr (ENOSPC, /dev/full)", () => {
  const HELLO = path.join(ROOT, "examples/hello.yaml");
  const recordOf = async (): Promise<Record<string, unknown>> => {
    const runs = (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"));
    expect(runs).toHaveLength(1);
    return JSON.parse(await readFile(path.join(dir, ".atomiton/runs", runs[0]!), "utf8")) as Record<string, unknown>;
  };

  test.each([
    ["stdout", "> /dev/full", /✖ E_IO cannot write to stdout: ENOSPC/],
    ["stderr", "2> /dev/full", undefined],
  ] as const)("%s: no crash, the record is saved as succeeded, and the exit is 1 (output was lost)", async (_name, redirect, told) => {
    const out = await execa("bash", ["-c", `node '${BIN}' run '${HELLO}' --reporter plain ${redirect}`], { cwd: dir, env: { NO_COLOR: "1", CI: "true" }, reject: false, timeout: 30_000 });
    expect(out.exitCode, out.stderr).toBe(1);
    expect(out.stderr).not.toMatch(/^\s+at /m);
    if (told) expect(out.stderr).toMatch(told);
    expect((await recordOf()).status).toBe("succeeded");
  });

  test("atomiton nodes > /dev/full exits 1 with one line, not a stack trace", async () => {
    const out = await execa("bash", ["-c", `node '${BIN}' nodes > /dev/full`], { cwd: dir, env: { NO_COLOR: "1" }, reject: false, timeout: 30_000 });
    expect(out.exitCode).toBe(1);
    expect(out.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^✖ E_IO cannot write to stdout: ENOSPC/)]);
  });
});
