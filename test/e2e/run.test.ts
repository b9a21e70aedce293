import { existsSync } from "node:fs";
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, COMPAT, EXAMPLES, ROOT, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d));

describe("atomiton run", () => {
  test("runs examples/hello.yaml, prints progress and output, saves the run record", async () => {
    const r = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe("HELLO, WORLD! ... hello, world!");
    expect(r.stderr).toMatch(/greet\s+started/);
    expect(r.stderr).toMatch(/join\s+succeeded/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack
    const runs = (await readdir(path.join(dir, ".atomiton/runs"))).sort();
    expect(runs.filter((f) => f.endsWith(".json"))).toHaveLength(1);
    const record = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", runs.find((f) => f.endsWith(".json"))!), "utf8"));
    expect(record).toMatchObject({ status: "succeeded", composite: { name: "hello" }, counts: { succeeded: 4 } });
    expect(Object.keys(record.nodes)).toEqual(["greet", "shout", "whisper", "join"]);
    const log = await readFile(path.join(dir, ".atomiton/runs", runs.find((f) => f.endsWith(".ndjson"))!), "utf8");
    const types = log.trim().split("\n").map((l) => JSON.parse(l).type);
    expect(types[0]).toBe("run:start");
    expect(types.at(-1)).toBe("run:finish");
  });

  test("--var overrides a variable and --reporter json prints NDJSON on stdout", async () => {
    const r = await atomiton(["run", path.join(EXAMPLES, "hello.yaml"), "--var", "name=Ada", "--reporter", "json", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ type: "run:finish", status: "succeeded", output: "HELLO, ADA! ... hello, ada!" });
    expect(existsSync(path.join(dir, ".atomiton"))).toBe(false);
  });

  test("--var gives a string variable the text as typed, and a boolean takes 1 and 0", async () => {
    const file = path.join(dir, "typed.yaml");
    await writeFile(file, ["variables:", '  version: { type: string, default: "1.0" }', "  big: { type: string }", "  count: { type: number }", "  flag: { type: boolean, default: false }", "  any: {}", "nodes:", "  - id: out", "    type: code", '    parameters: { code: "return [$vars.version, $vars.big, $vars.count, $vars.flag, $vars.any]" }', ""].join("\n"));
    const run = (...vars: string[]) => atomiton(["run", file, ...vars.flatMap((v) => ["--var", v]), "--reporter", "json", "--storage", "memory"], { cwd: dir });
    const r = await run("version=1.10", "big=12345678901234567890", "count=2.50", "flag=1", "any=2.0");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").at(-1)!).output).toEqual(["1.10", "12345678901234567890", 2.5, true, 2]);
    const off = await run("flag=0", "version=2.0");
    expect(JSON.parse(off.stdout.trim().split("\n").at(-1)!).output).toEqual(["2.0", null, null, false, null]);
  });

  test("a failing node exits 1 and the record says failed", async () => {
    await writeFile(path.join(dir, "fail.yaml"), "nodes:\n  - id: boom\n    type: code\n    parameters: { code: \"throw new Error('kaput')\" }\n");
    const r = await atomiton(["run", "fail.yaml", "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("kaput");
    const files = await readdir(path.join(dir, ".atomiton/runs"));
    const record = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", files.find((f) => f.endsWith(".json"))!), "utf8"));
    expect(record.status).toBe("failed");
    expect(record.nodes.boom.error.message).toContain("kaput");
  });

  test("an invalid composite exits 2 with located errors and starts no node", async () => {
    const fixture = path.join(ROOT, "test/fixtures/composite/five-mistakes.yaml");
    const r = await atomiton(["run", fixture, "--reporter", "json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe(""); // no event at all: nothing started
    expect(r.stderr).toMatch(/five-mistakes\.yaml:\d+:\d+/);
    expect(r.stderr).toContain("no node was started");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(dir, ".atomiton/runs"))).toBe(false);
  });

  test("a missing file is named as it was typed, not by its absolute path", async () => {
    const r = await atomiton(["run", "missing.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_NOT_FOUND missing.yaml:1:1 file not found: missing.yaml");
    expect(r.stderr).not.toContain(dir);
  });

  test.each([
    [["run", "missing.yaml"], /E_NOT_FOUND .*missing\.yaml/],
    [["run", "x.yaml", "--reporter", "fancy"], /E_USAGE unknown reporter "fancy"/],
    [["run", "x.yaml", "--var", "novalue"], /E_USAGE --var "novalue": expected key=value/],
    [["frobnicate"], /E_USAGE unknown command 'frobnicate'/],
    [["rnu", "x.yaml"], /E_USAGE unknown command 'rnu'\n {2}hint: did you mean run\?/],
    [["run", "x.yaml", "--reportr", "plain"], /E_USAGE unknown option '--reportr'\n {2}hint: did you mean --reporter\?/],
    [["run", "x.yaml", "y.yaml"], /E_USAGE too many arguments for 'run'.*\n {2}hint: atomiton --help lists the commands/],
  ])("bad usage %j exits 2 without a stack", async (args, message) => {
    await writeFile(path.join(dir, "x.yaml"), "nodes: [{ id: a, type: log }]\n");
    const r = await atomiton(args, { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});

describe("atomiton validate", () => {
  test("reports all five mistakes with codes and locations, exit 2", async () => {
    const fixture = path.join(ROOT, "test/fixtures/composite/five-mistakes.yaml");
    const r = await atomiton(["validate", fixture, "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    const [report] = JSON.parse(r.stdout);
    const errors = report.problems.filter((p: { severity: string }) => p.severity === "error");
    expect(new Set(errors.map((p: { code: string }) => p.code)).size).toBeGreaterThanOrEqual(5);
    for (const p of errors) expect(p.line).toBeGreaterThan(1);
    const text = await atomiton(["validate", fixture], { cwd: dir });
    expect(text.exitCode).toBe(2);
    expect(text.stderr).toMatch(/hint:/);
    expect(text.stderr).not.toMatch(/^\s+at /m);
  });

  test("examples are valid", async () => {
    const r = await atomiton(["validate", path.join(EXAMPLES, "hello.yaml")]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("is valid");
  });
});

describe.skipIf(!existsSync(COMPAT))("Atomiton editor files (../shared/compat)", () => {
  test("composite-era hello-world outputs HELLO, WORLD!", async () => {
    const r = await atomiton(["run", path.join(COMPAT, "atomiton/composite-era/hello-world.yaml"), "--reporter", "json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const finish = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    expect(finish).toMatchObject({ type: "run:finish", status: "succeeded", output: "HELLO, WORLD!" });
  });
});

if (!existsSync(COMPAT)) console.warn(`skipping compat e2e tests: ${COMPAT} is absent`);
