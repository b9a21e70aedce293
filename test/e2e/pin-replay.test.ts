import { existsSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// `--pin id=value` and `atomiton replay <runId> --from <id>` through the built CLI. "Did not start"
// is checked twice: no node:start event, and a shell node's side effect (a file) never happens.

interface Event {
  type: string;
  nodeId?: string;
  status?: string;
  reused?: boolean;
  reason?: string;
  output?: unknown;
}

let dir: string;
useTempDir((d) => (dir = d), "atomiton-pin-");

/** fetch (a shell that leaves a marker file and prints JSON) → double → report. */
const FLOW = `name: pinned
nodes:
  - id: fetch
    type: shell-command
    parameters: { command: "touch fetched.marker && echo 2", logOutput: false }
  - { id: double, type: code, parameters: { code: "return { n: Number(data.stdout) * 2 }" } }
  - { id: report, type: code, parameters: { code: "return 'n=' + data.n" } }
edges: [fetch -> double, double -> report]
`;

function parseEvents(stdout: string): Event[] {
  return stdout.trim().split("\n").map((l) => JSON.parse(l) as Event);
}

async function records(): Promise<string[]> {
  return (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}

describe("run --pin", () => {
  test.each([
    { name: "inline JSON", pin: (): string => `fetch={"stdout": "21"}`, output: "n=42" },
    { name: "@file (YAML)", pin: (): string => "fetch=@fetch.yaml", output: "n=14" },
  ])("$name: the pinned node does not start and downstream nodes see its value", async ({ pin, output }) => {
    await writeFile(path.join(dir, "flow.yaml"), FLOW);
    await writeFile(path.join(dir, "fetch.yaml"), "stdout: '7'\n");
    const r = await atomiton(["run", "flow.yaml", "--reporter", "json", "--pin", pin()], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const events = parseEvents(r.stdout);
    expect(events.filter((e) => e.type === "node:start").map((e) => e.nodeId)).toEqual(["double", "report"]);
    expect(events.find((e) => e.type === "node:finish" && e.nodeId === "fetch")).toMatchObject({ status: "succeeded", reused: true, reason: "pinned" });
    expect(events.at(-1)).toMatchObject({ type: "run:finish", status: "succeeded", output });
    expect(existsSync(path.join(dir, "fetched.marker"))).toBe(false);
  });

  test("without the pin the shell node does run (the marker proves the check above can fail)", async () => {
    await writeFile(path.join(dir, "flow.yaml"), FLOW);
    const r = await atomiton(["run", "flow.yaml", "--reporter", "silent", "--output", "-"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("n=4");
    expect(existsSync(path.join(dir, "fetched.marker"))).toBe(true);
  });

  test.each([
    { name: "an unknown node", pin: "fech=1", message: /--pin fech: the composite has no node "fech"/, hint: /did you mean "fetch"/ },
    { name: "no value", pin: "fetch", message: /--pin "fetch": expected <nodeId>=<json\|@file>/, hint: /--pin fetch=/ },
    { name: "broken JSON", pin: "fetch={n:1", message: /--pin fetch=…: not valid JSON/, hint: /quote JSON/ },
    { name: "a missing file", pin: "fetch=@nope.json", message: /--pin fetch=@nope.json: cannot read the file \(ENOENT\)/, hint: /./ },
  ])("$name is a usage error (exit 2) and nothing runs", async ({ pin, message, hint }) => {
    await writeFile(path.join(dir, "flow.yaml"), FLOW);
    const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", "--pin", pin], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(dir, "fetched.marker"))).toBe(false);
  });
});

test("the same node pinned twice is a usage error (the second value silently replaced the first)", async () => {
  await writeFile(path.join(dir, "flow.yaml"), FLOW);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", "--pin", "fetch=1", "--pin", "fetch=2"], { cwd: dir });
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain("E_USAGE --pin fetch is given twice");
  expect(existsSync(path.join(dir, "fetched.marker"))).toBe(false);
});

describe("replay --from", () => {
  test("upstream nodes take their recorded outputs and do not start; the new record points at the old one", async () => {
    await writeFile(path.join(dir, "flow.yaml"), FLOW);
    const first = await atomiton(["run", "flow.yaml", "--reporter", "silent"], { cwd: dir });
    expect(first.exitCode, first.stderr).toBe(0);
    const [oldId] = await records();
    await readFile(path.join(dir, "fetched.marker"));
    await import("node:fs/promises").then((fs) => fs.rm(path.join(dir, "fetched.marker")));
    // Change the downstream node: the replay runs the new version on the recorded upstream values.
    await writeFile(path.join(dir, "flow.yaml"), FLOW.replace("return 'n=' + data.n", "return 'n is ' + data.n"));

    const r = await atomiton(["replay", oldId!, "--from", "report", "--reporter", "json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const events = parseEvents(r.stdout);
    expect(events.filter((e) => e.type === "node:start").map((e) => e.nodeId)).toEqual(["report"]);
    for (const id of ["fetch", "double"]) {
      expect(events.find((e) => e.type === "node:finish" && e.nodeId === id), id).toMatchObject({ status: "succeeded", reused: true, reason: `recorded output of run ${oldId}` });
    }
    expect(events.at(-1)).toMatchObject({ type: "run:finish", status: "succeeded", output: "n is 4" });
    expect(existsSync(path.join(dir, "fetched.marker"))).toBe(false);

    const ids = await records();
    expect(ids).toHaveLength(2);
    const newId = ids.find((id) => id !== oldId)!;
    const record = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", `${newId}.json`), "utf8"));
    expect(record).toMatchObject({ status: "succeeded", replayOf: { runId: oldId, from: "report" }, output: "n is 4" });
  });

  test("from a node whose upstream failed: exit 2, says which node to start from", async () => {
    await writeFile(path.join(dir, "flow.yaml"), FLOW.replace("return { n: Number(data.stdout) * 2 }", "throw new Error('boom')"));
    const first = await atomiton(["run", "flow.yaml", "--reporter", "silent"], { cwd: dir });
    expect(first.exitCode).toBe(1);
    const [oldId] = await records();
    const r = await atomiton(["replay", oldId!, "--from", "report", "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--from report: upstream node "double" was failed in run/);
    expect(r.stderr).toMatch(/hint: replay from "double"/);
    // Replaying from the failed node itself works once it is fixed.
    await writeFile(path.join(dir, "flow.yaml"), FLOW);
    const fixed = await atomiton(["replay", oldId!, "--from", "double", "--reporter", "plain", "--output", "-"], { cwd: dir });
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect(fixed.stdout.trim()).toBe("n=4");
    expect(fixed.stderr).toMatch(/fetch\s+succeeded \(recorded output of run/);
  });

  test.each([
    { name: "an unknown node", from: "reprt", message: /--from reprt: the composite has no node "reprt"/ },
  ])("$name is a usage error", async ({ from, message }) => {
    await writeFile(path.join(dir, "flow.yaml"), FLOW);
    await atomiton(["run", "flow.yaml", "--reporter", "silent"], { cwd: dir });
    const [oldId] = await records();
    const r = await atomiton(["replay", oldId!, "--from", from], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/did you mean "report"/);
  });
});
