import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// Promises made by user JavaScript, through the built CLI. A rejected one nobody awaited reached the
// host as an unhandled rejection and ended the process (a V8 stack trace, the record left
// `running`); one returned where nothing waits crossed out as `{}`; an async body that never settled
// left nothing to keep the process alive (exit 13, no message).

let dir = "";
useTempDir((d) => (dir = d), "atomiton-promises-");

async function run(yaml: string, args: string[] = []) {
  await writeFile(path.join(dir, "flow.yaml"), yaml);
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", ...args], { cwd: dir });
  const runs = path.join(dir, ".atomiton/runs");
  const records = (await readdir(runs).catch(() => [] as string[])).filter((f) => f.endsWith(".json"));
  const record = records.length === 1 ? (JSON.parse(await readFile(path.join(runs, records[0]!), "utf8")) as { status: string; output?: unknown }) : undefined;
  return { ...r, record };
}

const code = (body: string, extra = "") => `nodes:\n  - id: c\n    type: code\n${extra}    parameters: { code: ${JSON.stringify(body)} }\n`;

describe("promises from user JavaScript", () => {
  test("a code node that returns a rejected promise fails with its message: exit 1, the record saved, no stack trace", async () => {
    const r = await run(code('return Promise.reject(new Error("nope"))'));
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/c E_NODE: nope/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.record?.status).toBe("failed");
  });

  test("a code node that returns Promise.resolve(5) without await outputs 5, not {}", async () => {
    const r = await run(code("return Promise.resolve(5)"), ["--output", "out.json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(await readFile(path.join(dir, "out.json"), "utf8"))).toBe(5);
  });

  test.each([
    ["a code node", code('Promise.reject(new Error("floating")); return 2')],
    ["a transform filter whose function returns rejected promises", 'nodes:\n  - id: c\n    type: transform\n    parameters: { operation: filter, transformFunction: "x => Promise.reject(new Error(\'no\'))" }\n'],
  ])("%s that leaves a rejection unhandled does not end the process: the run finishes and its record is saved", async (_name, yaml) => {
    const r = await run(yaml, ["--input", "[1, 2]"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at |Node\.js v/);
    expect(r.record?.status).toBe("succeeded");
  });

  test.each([
    ["a template", 'nodes:\n  - id: c\n    type: log\n    parameters: { message: "{{ Promise.reject(new Error(\'no\')) }}" }\n'],
    ["a condition", 'nodes:\n  - id: c\n    type: condition\n    parameters: { expression: "Promise.resolve(true)" }\n'],
  ])("%s that returns a promise fails saying it is not awaited there: exit 1, no crash", async (_name, yaml) => {
    const r = await run(yaml);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain("returned a Promise, which is not awaited here");
    expect(r.stderr).not.toMatch(/\n\s+at |Node\.js v/);
    expect(r.record?.status).toBe("failed");
  });

  test("an async body whose promise never settles fails with E_TIMEOUT after the JavaScript time limit (exit 1), not exit 13", async () => {
    const r = await run(code("return new Promise(() => {})"));
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/E_TIMEOUT: JavaScript's promise did not settle within \d+ms/);
    expect(r.record?.status).toBe("failed");
  });
});
