import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { expect, test } from "vitest";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";

// Node code's own mistakes around a run (src/cli/run-guards.ts, src/cli/main.ts): the run ends with
// an honest exit code and a saved record, never a hang, a stack trace or Node's silent exit 13.

let dir = "";
useTempDir((d) => (dir = d), "atomiton-node-faults-");

/** A custom node module of type `fault` whose execute body is `body`. */
async function faultNode(body: string): Promise<void> {
  await writeFile(path.join(dir, "fault.ts"), `import { defineNode } from "atomiton";\nexport default defineNode({ type: "fault", execute: () => { ${body} } });\n`);
  // A second node keeps the run in flight for a moment after the fault node returned.
  await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - { id: f, type: fault }\n  - { id: after, type: delay, parameters: { duration: 300ms } }\nedges: [f -> after]\n");
}

async function storedStatus(): Promise<string> {
  const runs = path.join(dir, ".atomiton", "runs");
  const name = (await readdir(runs)).find((n) => n.endsWith(".json"))!;
  return (JSON.parse(await readFile(path.join(runs, name), "utf8")) as { status: string }).status;
}

test("a timer a node leaves running does not keep the process: the run exits 0 once it is done", async () => {
  await faultNode('setInterval(() => {}, 1000); return "done";');
  const r = await atomiton(["run", "flow.yaml", "--nodes", "./fault.ts", "--reporter", "plain"], { cwd: dir, timeout: 15_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toContain("run succeeded");
  expect(await storedStatus()).toBe("succeeded");
});

test("a promise that can never settle fails the run (exit 1, named), instead of Node's silent exit 13", async () => {
  await faultNode("return new Promise(() => {});");
  const r = await atomiton(["run", "flow.yaml", "--nodes", "./fault.ts", "--reporter", "plain"], { cwd: dir, timeout: 15_000 });
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toContain("the run cannot finish: a node is waiting for a promise that nothing can settle any more");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(await storedStatus()).toBe("failed");
});

test.each([
  ["an exception thrown from a timer", 'setTimeout(() => { throw new Error("late boom"); }, 10); return "ok";', "node code threw outside a node's execute: Error: late boom"],
  ["a rejection nobody handles", 'Promise.reject(new Error("floating")); return "ok";', "a promise of node code rejected with no handler: Error: floating"],
])("%s fails the run with a message and a saved record, no stack trace", async (_name, body, message) => {
  await faultNode(body);
  const r = await atomiton(["run", "flow.yaml", "--nodes", "./fault.ts", "--reporter", "plain"], { cwd: dir, timeout: 15_000 });
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(await storedStatus()).toBe("failed");
});

test.each([
  ["throws", 'setTimeout(() => { throw new Error("after the end"); }, 400); return "ok";', "node code threw outside a node's execute after its run ended (ignored): Error: after the end"],
  ["rejects", 'setTimeout(() => { Promise.reject(new Error("after the end")); }, 400); return "ok";', "a promise of node code rejected with no handler after its run ended (ignored): Error: after the end"],
])("a timer that %s after the run ended is a warning: the succeeded run still exits 0", async (_name, body, warning) => {
  await writeFile(path.join(dir, "fault.ts"), `import { defineNode } from "atomiton";\nexport default defineNode({ type: "fault", execute: () => { ${body} } });\n`);
  await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - { id: f, type: fault }\n");
  const r = await atomiton(["run", "flow.yaml", "--nodes", "./fault.ts", "--reporter", "plain"], { cwd: dir, timeout: 15_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stderr).toContain("run succeeded");
  expect(r.stderr).toContain(warning);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(await storedStatus()).toBe("succeeded");
});

test("a reader slower than the output gets all of it before the process exits", async () => {
  // 2 MB of output into a pipe whose reader waits a second and a half: the pipe fills, the rest is
  // queued, and exiting before it drained cut the output at 64 KiB (with exit 0).
  await writeFile(path.join(dir, "big.yaml"), 'nodes:\n  - { id: big, type: code, parameters: { code: "return \\"x\\".repeat(2000000)" } }\n');
  const r = await execa("bash", ["-c", `node ${JSON.stringify(BIN)} run big.yaml --reporter silent --storage memory | (sleep 1.5; wc -c); exit \${PIPESTATUS[0]}`], { cwd: dir, reject: false, stdin: "ignore", env: { NO_COLOR: "1", CI: "true" } });
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  expect(r.stdout.trim()).toBe("2000001");
});

test.each([
  ["a custom node module", "never.mjs", ["--nodes", "./never.mjs"], "E_CUSTOM_NODE never.mjs: the custom node module threw while loading: its default export (a promise) never settles"],
  ["a config file", "atomiton.config.mjs", [], "E_USAGE atomiton.config.mjs: the config file threw while loading: the default export (a promise) never settles"],
])("%s whose default export is a promise that never settles is a located error, not Node's silent exit 13", async (_what, file, args, message) => {
  await writeFile(path.join(dir, file), "export default new Promise(() => {});\n");
  await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - { id: a, type: log, parameters: { message: hi } }\n");
  const r = await atomiton(["validate", "flow.yaml", ...args], { cwd: dir, timeout: 15_000 });
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

test("--nodes names only module files: another extension, none, an empty path and a link to nothing are clear errors; a directory named like a module is skipped", async () => {
  const node = 'import { defineNode } from "atomiton";\nexport default defineNode({ type: "aa", execute: () => 1 });\n';
  await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - { id: x, type: aa }\n");
  await writeFile(path.join(dir, "n.txt"), 'export default { type: "weird", execute() { return 1; } };\n');
  await writeFile(path.join(dir, "noext"), "not javascript at all\n");
  await mkdir(path.join(dir, "dx", "weird.ts"), { recursive: true });
  await writeFile(path.join(dir, "dx", "a.mjs"), node);
  await mkdir(path.join(dir, "dy"));
  await writeFile(path.join(dir, "dy", "a.mjs"), node);
  await symlink(path.join(dir, "nothing-here.mjs"), path.join(dir, "dy", "broken.mjs"));
  const run = (spec: string) => atomiton(["run", "flow.yaml", "--nodes", spec, "--reporter", "plain", "--storage", "memory"], { cwd: dir });
  for (const [spec, message] of [
    ["./n.txt", 'E_CUSTOM_NODE --nodes ./n.txt: not a module file (".txt")'],
    ["./noext", "E_CUSTOM_NODE --nodes ./noext: not a module file (no extension)"],
    ["", "E_CUSTOM_NODE --nodes : an empty path"],
    ["./dy", "E_CUSTOM_NODE --nodes ./dy: broken.mjs is a symbolic link to nothing"],
  ]) {
    const r = await run(spec!);
    expect(r.exitCode, spec).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
  const skipped = await run("./dx");
  expect(skipped.exitCode, skipped.stderr).toBe(0);
});

test("ctx.log and ctx.progress with values of other types: the message as text, an unknown level as info, a progress that is no number dropped", async () => {
  await writeFile(
    path.join(dir, "odd.ts"),
    `import { defineNode } from "atomiton";\nexport default defineNode({ type: "odd", execute: (ctx) => { const c = ctx as any; c.log("info", { a: 1 }); c.log("info", 5); c.log("info", null); c.log("weird", "odd level"); c.progress(NaN); c.progress(0.5, 7); return 1; } });\n`,
  );
  await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - { id: o, type: odd }\n");
  const plain = await atomiton(["run", "flow.yaml", "--nodes", "./odd.ts", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
  expect(plain.exitCode, plain.stderr).toBe(0);
  expect(plain.stderr).not.toContain("reporter error");
  for (const text of ['| {"a":1}', "| 5", "| null", "| odd level"]) expect(plain.stderr).toContain(text);
  const json = await atomiton(["run", "flow.yaml", "--nodes", "./odd.ts", "--reporter", "json", "--storage", "memory"], { cwd: dir });
  const events = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; level?: string; message?: unknown; progress?: unknown });
  expect(events.filter((e) => e.type === "node:log").map((e) => [e.level, e.message])).toEqual([["info", '{"a":1}'], ["info", "5"], ["info", "null"], ["info", "odd level"]]);
  expect(events.filter((e) => e.type === "node:progress").map((e) => [e.progress, e.message])).toEqual([[0.5, "7"]]);
});

