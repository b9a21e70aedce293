import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, symlinkSync } from "node:fs";
import { appendFile, mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { atomiton, EXAMPLES, ROOT, useTempDir } from "../helpers/cli.js";
import { checkMermaidFlowchart } from "../unit/cli/mermaid-grammar.js";

let dir: string;
useTempDir((d) => (dir = d));

const HELLO = path.join(EXAMPLES, "hello.yaml");

/** `atomiton init` in the temp dir, with `atomiton` and `zod` resolvable as in a real project. */
async function scaffold(): Promise<void> {
  const r = await atomiton(["init"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  await mkdir(path.join(dir, "node_modules"), { recursive: true });
  await symlink(ROOT, path.join(dir, "node_modules/atomiton"), "dir");
  await symlink(path.join(ROOT, "node_modules/zod"), path.join(dir, "node_modules/zod"), "dir");
}

async function runIds(dataDir: string): Promise<string[]> {
  return (await readdir(path.join(dataDir, "runs"))).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
}

describe("atomiton nodes", () => {
  test("prints the catalog as a table", async () => {
    const r = await atomiton(["nodes"]);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TYPE +CATEGORY +DESCRIPTION$/);
    for (const type of ["http-request", "transform", "loop", "condition", "shell-command"]) expect(r.stdout).toMatch(new RegExp(`^${type} `, "m"));
  });

  test("nodes <type> documents parameters, ports and the example", async () => {
    const r = await atomiton(["nodes", "http-request"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^http-request — /);
    expect(r.stdout).toMatch(/\n {2}url +string, required\n/);
    expect(r.stdout).toMatch(/\n {2}method +"GET" \| "POST"[^\n]*default "GET"\n/);
    expect(r.stdout).toContain("\nInputs\n");
    expect(r.stdout).toContain("\nOutputs\n");
    expect(r.stdout).toContain("\nExample\n");
  });

  test("--json gives parseable docs", async () => {
    const r = await atomiton(["nodes", "log", "--json"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: "log", parameters: [{ name: "message" }, { name: "level", default: "info" }] });
  });

  test("an unknown type exits 2 with did-you-mean", async () => {
    const r = await atomiton(["nodes", "htp-request"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('E_UNKNOWN_TYPE unknown node type "htp-request": did you mean "http-request"?');
    expect(r.stdout).toBe("");
  });

  test("--nodes adds custom nodes to the list and docs", async () => {
    await scaffold();
    const list = await atomiton(["nodes", "--nodes", "./nodes"], { cwd: dir });
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(/\ngreet +custom +nodes\/greet\.ts +Build a greeting/);
    const doc = await atomiton(["nodes", "greet", "--nodes", "./nodes"], { cwd: dir });
    expect(doc.stdout).toMatch(/\n {2}punctuation +"!" \| "\." \| "\?", default "!"\n/);
  });
});

describe("atomiton graph", () => {
  test("--format mermaid on examples/hello.yaml is valid flowchart syntax", async () => {
    const r = await atomiton(["graph", HELLO, "--format", "mermaid"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.startsWith("flowchart TD\n")).toBe(true);
    expect(checkMermaidFlowchart(r.stdout)).toEqual([]);
    expect(r.stdout).toContain("n_greet --> n_shout");
  });

  test.each([
    ["ascii", /^level 1 {2}shout \(transform\) {2}whisper \(transform\)$/m],
    ["dot", /^ {2}"shout" -> "join";$/m],
  ])("--format %s", async (format, pattern) => {
    const r = await atomiton(["graph", HELLO, "--format", format]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(pattern);
  });

  test("an invalid composite prints located problems and exits 2", async () => {
    await writeFile(path.join(dir, "bad.yaml"), "nodes:\n  - id: a\n    type: htp-request\n");
    const r = await atomiton(["graph", "bad.yaml", "--format", "mermaid"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/E_UNKNOWN_TYPE bad\.yaml:3:11/);
  });

  test("an unknown format is a usage error", async () => {
    const r = await atomiton(["graph", HELLO, "--format", "svg"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('E_USAGE unknown --format "svg"');
  });
});

describe("atomiton schema", () => {
  test("prints the JSON Schema, the same as schema/composite.json", async () => {
    const r = await atomiton(["schema"]);
    expect(r.exitCode).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.required).toEqual(["nodes"]);
    expect(r.stdout).toBe((await readFile(path.join(ROOT, "schema/composite.json"), "utf8")).trimEnd()); // execa strips the final newline
  });

  test("-o naming a directory is a usage error (exit 2) with a file to name, as for run --output", async () => {
    const r = await atomiton(["schema", "-o", dir], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`E_USAGE --output ${dir}: ${dir} is a directory`);
    expect(r.stderr).toContain(`hint: name a file, e.g. --output ${path.join(dir, "composite.json")}`);
    expect(r.stderr).not.toContain("run record");
  });
});

describe("atomiton init", () => {
  test("scaffolds a project whose flow validates and runs with its custom node, and whose test passes", async () => {
    await scaffold();
    for (const f of ["flow.yaml", "nodes/greet.ts", "nodes/greet.test.ts", "atomiton.config.json"]) expect(existsSync(path.join(dir, f))).toBe(true);
    expect(JSON.parse(await readFile(path.join(dir, "atomiton.config.json"), "utf8"))).toEqual({ nodes: ["./nodes"] });
    const valid = await atomiton(["validate", "flow.yaml", "--nodes", "./nodes"], { cwd: dir });
    expect(valid.exitCode).toBe(0);
    const run = await atomiton(["run", "flow.yaml", "--nodes", "./nodes", "--reporter", "plain", "--var", "name=Ada"], { cwd: dir });
    expect(run.stderr).not.toMatch(/E_/);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe("HELLO, ADA!");
    expect(run.stderr).toMatch(/greet\s+\| Hello, Ada!/);
    // The scaffolded atomiton.config.json is found from the project dir: no --nodes needed.
    const configured = await atomiton(["run", "flow.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(configured.exitCode, configured.stderr).toBe(0);
    expect(configured.stdout.trim()).toBe("HELLO, WORLD!");

    await symlink(path.join(ROOT, "node_modules/vitest"), path.join(dir, "node_modules/vitest"), "dir");
    const tests = await execa("node", [path.join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "nodes"], { cwd: dir, reject: false, env: { CI: "true", NO_COLOR: "1" } });
    expect(tests.stdout).toMatch(/3 passed/);
    expect(tests.exitCode).toBe(0);
  });

  test("inside another npm and vitest project (a repository, the atomiton checkout), init makes a project of its own: the printed npm install goes there, vitest runs its test", async () => {
    await writeFile(path.join(dir, "package.json"), '{ "name": "outer", "private": true }\n');
    await writeFile(path.join(dir, "vitest.config.mjs"), 'export default { test: { include: ["test/**/*.test.ts"] } };\n');
    const r = await atomiton(["init", "demo"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const demo = path.join(dir, "demo");
    expect(r.stdout).toMatch(/\n {2}package\.json +makes this directory its own npm project/);
    // Where `npm install --save-dev …` (the next step printed) installs and writes: demo, not the project above.
    expect((await execa("npm", ["prefix"], { cwd: demo })).stdout.trim()).toBe(demo);
    expect(JSON.parse(await readFile(path.join(demo, "package.json"), "utf8"))).toMatchObject({ name: "demo", private: true, scripts: { test: "vitest run" } });
    // node_modules as that install leaves them.
    await mkdir(path.join(demo, "node_modules"));
    for (const name of ["zod", "vitest"]) await symlink(path.join(ROOT, "node_modules", name), path.join(demo, "node_modules", name), "dir");
    await symlink(ROOT, path.join(demo, "node_modules/atomiton"), "dir");
    const tests = await execa("node", [path.join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "nodes"], { cwd: demo, reject: false, env: { CI: "true", NO_COLOR: "1" } });
    expect(tests.stdout, tests.stderr).toMatch(/3 passed/);
    expect(tests.exitCode).toBe(0);
    // A package.json that is there is the user's: left alone, --force or not.
    await writeFile(path.join(demo, "package.json"), '{ "name": "mine" }\n');
    const again = await atomiton(["init", ".", "--force"], { cwd: demo });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(await readFile(path.join(demo, "package.json"), "utf8")).toBe('{ "name": "mine" }\n');
    expect(again.stdout).not.toContain("package.json");
  });

  test("prints next steps", async () => {
    const r = await atomiton(["init", "my-flow"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("cd my-flow\n");
    expect(r.stdout).toContain("atomiton run flow.yaml --watch");
  });

  test("refuses to overwrite files unless --force", async () => {
    await writeFile(path.join(dir, "flow.yaml"), "mine\n");
    const r = await atomiton(["init"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_USAGE init would overwrite flow.yaml in .");
    expect(await readFile(path.join(dir, "flow.yaml"), "utf8")).toBe("mine\n");
    expect(existsSync(path.join(dir, "nodes"))).toBe(false);
    const forced = await atomiton(["init", "--force"], { cwd: dir });
    expect(forced.exitCode).toBe(0);
    expect(await readFile(path.join(dir, "flow.yaml"), "utf8")).toContain("name: starter");
  });

  test("a path that is a file is a usage error, not a crash", async () => {
    await writeFile(path.join(dir, "taken.txt"), "mine\n");
    const r = await atomiton(["init", "taken.txt"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_USAGE init needs a directory, and taken.txt is a file");
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  test.each(["flow.yaml", "flows/nightly/Job.YML"])("init %s writes that one composite (not a directory named so), and it runs as it is", async (name) => {
    const r = await atomiton(["init", name], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lstatSync(path.join(dir, name)).isFile()).toBe(true);
    expect(r.stdout).toContain(`created ${name}`);
    expect(r.stdout).toContain(`atomiton run ${name}`);
    // Only the file: no project around it (its custom node would make the composite unrunnable alone).
    expect(existsSync(path.join(dir, "nodes"))).toBe(false);
    const run = await atomiton(["run", name, "--var", "name=Ada", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe("HELLO, ADA!");
  });

  // yaml-language-server resolves $schema against the file's directory: flows/x.yaml needs
  // ../node_modules/… (it got ./node_modules/…, which is flows/node_modules/…, so no completion).
  test.each([["flow.yaml"], ["flows/x.yaml"], ["flows/deep/y.yml"]])("init %s points $schema at the project's node_modules from the file", async (name) => {
    await mkdir(path.join(dir, "node_modules"), { recursive: true });
    await symlink(ROOT, path.join(dir, "node_modules/atomiton"));
    const r = await atomiton(["init", name], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const text = await readFile(path.join(dir, name), "utf8");
    const schema = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)?.[1];
    expect(schema, text).toMatch(/^\.{1,2}\/.*node_modules\/atomiton\/schema\/composite\.json$/);
    const target = path.resolve(path.dirname(path.join(dir, name)), schema!);
    expect(target).toBe(path.join(dir, "node_modules/atomiton/schema/composite.json"));
    expect(JSON.parse(await readFile(target, "utf8"))).toHaveProperty("$schema");
  });

  test("init flow.yaml never writes over a file without --force", async () => {
    await writeFile(path.join(dir, "flow.yaml"), "mine\n");
    const r = await atomiton(["init", "flow.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_USAGE init would overwrite flow.yaml");
    expect(await readFile(path.join(dir, "flow.yaml"), "utf8")).toBe("mine\n");
    const forced = await atomiton(["init", "flow.yaml", "--force"], { cwd: dir });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(await readFile(path.join(dir, "flow.yaml"), "utf8")).toContain('name: "flow"');
  });
});

describe("atomiton validate --format", () => {
  test("a format other than text or json is a usage error (it printed nothing and exited 0)", async () => {
    const r = await atomiton(["validate", HELLO, "--format", "yaml"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('E_USAGE unknown --format "yaml"');
  });
});

describe("run --output", () => {
  test("--reporter junit --output - writes the XML to stdout, not to a file named -", async () => {
    const r = await atomiton(["run", HELLO, "--reporter", "junit", "--output", "-", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml[^]*<testsuite[^]*<\/testsuites>\s*$/);
    expect(existsSync(path.join(dir, "-"))).toBe(false);
  });

  test("an --output below a file is a usage error before any node runs, not an error after the run", async () => {
    const out = path.join(HELLO, "out.json");
    const r = await atomiton(["run", HELLO, "--reporter", "plain", "--output", out, "--data-dir", path.join(dir, "data")], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`E_USAGE --output ${out}: ${HELLO} is a file, not a directory`);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    // Checked before the run: no node started, no record.
    expect(r.stderr).not.toContain("succeeded");
    expect(existsSync(path.join(dir, "data/runs"))).toBe(false);
  });

  test("an --output that is a directory, or a --profile below a file, says so before the run: no temp file beside it", async () => {
    await mkdir(path.join(dir, "outdir"));
    const toDir = await atomiton(["run", HELLO, "--reporter", "silent", "--storage", "memory", "--output", "outdir"], { cwd: dir });
    expect(toDir.exitCode).toBe(2);
    expect(toDir.stderr).toContain(`E_USAGE --output outdir: ${path.join(dir, "outdir")} is a directory`);
    expect(toDir.stderr).toContain("hint: name a file, e.g. --output outdir/output.json");
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
    await writeFile(path.join(dir, "afile"), "x");
    const belowFile = await atomiton(["run", HELLO, "--reporter", "silent", "--storage", "memory", "--profile", "afile/trace.json"], { cwd: dir });
    expect(belowFile.exitCode).toBe(2);
    expect(belowFile.stderr).toContain(`E_USAGE --profile afile/trace.json: ${path.join(dir, "afile")} is a file, not a directory`);
  });

  test("an invalid composite's JUnit report to a directory, and an --output ending in a slash, are usage errors", async () => {
    await mkdir(path.join(dir, "adir"));
    await writeFile(path.join(dir, "bad.yaml"), "nodes:\n  - { id: a, type: nope }\n");
    const junit = await atomiton(["run", "bad.yaml", "--reporter", "junit", "--output", "adir"], { cwd: dir });
    expect(junit.exitCode).toBe(2);
    expect(junit.stderr).toContain(`E_USAGE --output adir: ${path.join(dir, "adir")} is a directory`);
    expect(junit.stderr).toContain("hint: name a file, e.g. --output adir/junit.xml");
    expect(junit.stderr).not.toContain("internal error");
    await writeFile(path.join(dir, "afile"), "keep me");
    // As for a run sent elsewhere: refused before any connection is tried (no server listens here).
    const remote = await atomiton(["run", HELLO, "--remote", "ws://127.0.0.1:9", "--output", "adir"], { cwd: dir });
    expect(remote.exitCode).toBe(2);
    expect(remote.stderr).toContain(`E_USAGE --output adir: ${path.join(dir, "adir")} is a directory`);
    const slash = await atomiton(["run", HELLO, "--reporter", "silent", "--storage", "memory", "--output", "afile/"], { cwd: dir });
    expect(slash.exitCode).toBe(2);
    expect(slash.stderr).toContain("E_USAGE --output afile/: a file name cannot end with a slash");
    expect(await readFile(path.join(dir, "afile"), "utf8")).toBe("keep me");
  });

  test("--input __proto__=x is data like any other key", async () => {
    await writeFile(path.join(dir, "keys.yaml"), 'nodes:\n  - { id: a, type: code, parameters: { code: "return Object.keys(data)" } }\n');
    const r = await atomiton(["run", "keys.yaml", "--input", "__proto__=x", "--input", "b=1", "--reporter", "silent", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["__proto__", "b"]);
  });

  test("an output that is bytes is written as those bytes, to a file and to a pipe", async () => {
    await writeFile(path.join(dir, "bytes.yaml"), `name: bytes
nodes:
  - id: b
    type: code
    parameters: { code: "return new Uint8Array([0, 255, 1, 2])" }
`);
    const r = await atomiton(["run", "bytes.yaml", "--reporter", "silent", "--storage", "memory", "--output", "out.bin"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect([...(await readFile(path.join(dir, "out.bin")))]).toEqual([0, 255, 1, 2]);
    const piped = await execa("node", [path.join(ROOT, "bin/atomiton.js"), "run", "bytes.yaml", "--reporter", "silent", "--storage", "memory", "--output", "-"], { cwd: dir, encoding: "buffer", reject: false, stdin: "ignore" });
    expect(piped.exitCode).toBe(0);
    expect([...piped.stdout]).toEqual([0, 255, 1, 2]);
  });

  test("a run with no output (failed, or nothing returned) removes the file an earlier run left at --output", async () => {
    const out = path.join(dir, "out.json");
    await writeFile(path.join(dir, "fail.yaml"), "nodes:\n  - id: boom\n    type: code\n    parameters: { code: \"throw new Error('kaput')\" }\n");
    await writeFile(path.join(dir, "none.yaml"), "nodes:\n  - id: quiet\n    type: code\n    parameters: { code: \"const x = 1;\" }\n");
    const ok = await atomiton(["run", HELLO, "--reporter", "silent", "--storage", "memory", "--output", "out.json"], { cwd: dir });
    expect(ok.exitCode).toBe(0);
    expect(await readFile(out, "utf8")).toBe("HELLO, WORLD! ... hello, world!\n");
    const failed = await atomiton(["run", "fail.yaml", "--reporter", "silent", "--storage", "memory", "--output", "out.json"], { cwd: dir });
    expect(failed.exitCode).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(failed.stderr).toContain("no output: removed out.json, an earlier run's");
    await writeFile(out, '"stale"\n');
    const none = await atomiton(["run", "none.yaml", "--reporter", "silent", "--storage", "memory", "--output", "out.json"], { cwd: dir });
    expect(none.exitCode).toBe(0);
    expect(existsSync(out)).toBe(false);
    // Nothing there before: nothing said.
    const again = await atomiton(["run", "none.yaml", "--reporter", "silent", "--storage", "memory", "--output", "out.json"], { cwd: dir });
    expect(again.stderr).not.toContain("removed");
  });

  // `--output /dev/null` of a failed run unlinked /dev/null itself (as root: the machine's device
  // was gone, and the next `> /dev/null` made it a regular file). Only an earlier run's regular file
  // is removed; a pipe or a device is left alone, and through a symlink the file it points to goes
  // (the output was written through the link).
  test("a run with no output leaves a named pipe at --output in place, and removes the file a symlink points to", async () => {
    await writeFile(path.join(dir, "fail.yaml"), "nodes:\n  - id: boom\n    type: code\n    parameters: { code: \"throw new Error('kaput')\" }\n");
    const pipe = path.join(dir, "out.pipe");
    execFileSync("mkfifo", [pipe]);
    const failed = await atomiton(["run", "fail.yaml", "--reporter", "silent", "--storage", "memory", "--output", "out.pipe"], { cwd: dir });
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).not.toContain("removed");
    expect(lstatSync(pipe).isFIFO()).toBe(true);

    await writeFile(path.join(dir, "real.json"), '"stale"\n');
    symlinkSync("real.json", path.join(dir, "link.json"));
    const linked = await atomiton(["run", "fail.yaml", "--reporter", "silent", "--storage", "memory", "--output", "link.json"], { cwd: dir });
    expect(linked.exitCode).toBe(1);
    expect(linked.stderr).toContain("no output: removed link.json, an earlier run's");
    expect(existsSync(path.join(dir, "real.json"))).toBe(false);
    expect(lstatSync(path.join(dir, "link.json")).isSymbolicLink()).toBe(true);
  });
});

describe("atomiton runs, runs show and replay", () => {
  test("replay's critical path follows the composite's edges, as the live run's did", async () => {
    // With one slot, b runs between a and c although c waits only for a: times alone say b → c.
    const yaml = `name: cp
nodes:
  - { id: a, type: delay, parameters: { duration: 100 } }
  - { id: b, type: delay, parameters: { duration: 150 } }
  - { id: c, type: delay, parameters: { duration: 20 } }
edges:
  - a -> c
`;
    await writeFile(path.join(dir, "cp.yaml"), yaml);
    const live = await atomiton(["run", "cp.yaml", "--concurrency", "1", "--reporter", "plain"], { cwd: dir });
    expect(live.exitCode, live.stderr).toBe(0);
    expect(live.stderr).toMatch(/Critical path: a → c /);
    const [id] = await runIds(path.join(dir, ".atomiton"));
    const replay = await atomiton(["replay", id!, "--reporter", "plain"], { cwd: dir });
    expect(replay.exitCode, replay.stderr).toBe(0);
    expect(replay.stderr).toMatch(/Critical path: a → c /);
  });

  test("list, show with a timeline, and replay after real runs", async () => {
    const dataDir = path.join(dir, "data");
    await writeFile(path.join(dir, "fail.yaml"), "name: failing\nnodes:\n  - id: boom\n    type: code\n    parameters: { code: \"throw new Error('kaput')\" }\n");
    expect((await atomiton(["run", HELLO, "--reporter", "silent", "--data-dir", dataDir], { cwd: dir })).exitCode).toBe(0);
    expect((await atomiton(["run", "fail.yaml", "--reporter", "silent", "--data-dir", dataDir], { cwd: dir })).exitCode).toBe(1);
    const ids = await runIds(dataDir);
    expect(ids).toHaveLength(2);

    const list = await atomiton(["runs", "--data-dir", dataDir], { cwd: dir });
    expect(list.exitCode).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RUN +STATUS +COMPOSITE +STARTED +DURATION +NODES$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/failed +failing .* 1 failed$/); // newest first
    expect(lines[2]).toMatch(/succeeded +hello .* 4 succeeded$/);

    const failedOnly = await atomiton(["runs", "--status", "failed", "--json", "--data-dir", dataDir], { cwd: dir });
    expect(JSON.parse(failedOnly.stdout)).toMatchObject([{ status: "failed", composite: { name: "failing" }, counts: { failed: 1 } }]);

    const records = await Promise.all(ids.map(async (id) => ({ id, r: JSON.parse(await readFile(path.join(dataDir, "runs", `${id}.json`), "utf8")) })));
    const ok = records.find((x) => x.r.status === "succeeded")!.id;
    const bad = records.find((x) => x.r.status === "failed")!.id;

    const show = await atomiton(["runs", "show", ok, "--timeline", "--data-dir", dataDir], { cwd: dir });
    expect(show.exitCode).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^run ${ok} +✔ succeeded\n`));
    expect(show.stdout).toMatch(/\nshout +transform +✔ succeeded +\d+ms +1 +"HELLO, WORLD!"\n/);
    expect(show.stdout).toContain('\noutput\n  "HELLO, WORLD! ... hello, world!"\n');
    const timeline = show.stdout.slice(show.stdout.indexOf("\ntimeline\n"));
    for (const id of ["greet", "shout", "whisper", "join"]) expect(timeline).toMatch(new RegExp(`\\n${id} +█+ +\\d+ms`));

    const failed = await atomiton(["runs", "show", bad.slice(0, -2), "--data-dir", dataDir], { cwd: dir });
    expect(failed.exitCode).toBe(0);
    expect(failed.stdout).toMatch(/boom +code +✖ failed .*kaput/);

    const missing = await atomiton(["runs", "show", `${ok.slice(0, -1)}x`, "--data-dir", dataDir], { cwd: dir });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`E_NOT_FOUND no run "${ok.slice(0, -1)}x"`);
    expect(missing.stderr).toContain(`did you mean "${ok}"?`);

    const replay = await atomiton(["replay", ok, "--reporter", "plain", "--data-dir", dataDir], { cwd: dir });
    expect(replay.exitCode).toBe(0);
    expect(replay.stderr).toMatch(/run hello started/);
    expect(replay.stderr).toMatch(/join\s+succeeded/);
    expect(replay.stderr).toMatch(/run succeeded in/);

    // A torn last line (a crash mid-append) is skipped; the exit code is the recorded run's.
    await appendFile(path.join(dataDir, "runs", `${bad}.ndjson`), '{"type":"node:sta');
    const replayBad = await atomiton(["replay", bad, "--reporter", "json", "--data-dir", dataDir], { cwd: dir });
    expect(replayBad.exitCode).toBe(1);
    const events = replayBad.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ type: "run:finish", status: "failed" });
  });

  test("a loop-body node whose iterations ended differently shows them by status, not `failed ×3`", async () => {
    await writeFile(
      path.join(dir, "loopy.yaml"),
      'name: loopy\nnodes:\n  - id: l\n    type: loop\n    parameters: { items: [1, 2, 3] }\n    nodes:\n      - id: w\n        type: code\n        onError: continue\n        parameters: { code: "if ($item === 2) throw new Error(\'two\'); return $item" }\n',
    );
    const r = await atomiton(["run", "loopy.yaml", "--reporter", "plain", "--data-dir", "loopy"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const runId = (await readdir(path.join(dir, "loopy", "runs"))).find((f) => f.endsWith(".json"))!.replace(/\.json$/, "");
    const show = await atomiton(["runs", "show", runId, "--data-dir", "loopy"], { cwd: dir, env: { NO_COLOR: "1" } });
    expect(show.stdout).toMatch(/\nw +code +✖ failed ×3: 2 succeeded, 1 failed +/);
    expect(show.stdout).toMatch(/\nl +loop +✔ succeeded +/);
  });

  test("no runs yet", async () => {
    const r = await atomiton(["runs", "--data-dir", "empty"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("no runs in empty/runs");
    const replay = await atomiton(["replay", "nope", "--data-dir", "empty"], { cwd: dir });
    expect(replay.exitCode).toBe(2);
    expect(replay.stderr).toContain('E_NOT_FOUND no run "nope"');
  });
});

describe("atomiton composites", () => {
  test("add, list, show, run by id, remove", async () => {
    const add = await atomiton(["composites", "add", HELLO], { cwd: dir });
    expect(add.exitCode).toBe(0);
    expect(add.stdout).toBe("stored hello (.atomiton/composites/hello.yaml); run it with: atomiton run hello");
    const again = await atomiton(["composites", "add", HELLO], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('a composite "hello" is already stored');

    const list = await atomiton(["composites"], { cwd: dir });
    expect(list.stdout).toMatch(/^ID +NAME +NODES +DESCRIPTION\nhello +hello +4 +Greet someone/);

    const show = await atomiton(["composites", "show", "hello"], { cwd: dir });
    expect(show.stdout).toBe((await readFile(HELLO, "utf8")).trimEnd());

    const run = await atomiton(["run", "hello", "--reporter", "plain"], { cwd: dir });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe("HELLO, WORLD! ... hello, world!");

    const typo = await atomiton(["composites", "show", "helo"], { cwd: dir });
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('no stored composite "helo": did you mean "hello"?');

    const remove = await atomiton(["composites", "remove", "hello"], { cwd: dir });
    expect(remove.exitCode).toBe(0);
    expect(existsSync(path.join(dir, ".atomiton/composites/hello.yaml"))).toBe(false);
    expect((await atomiton(["composites", "list"], { cwd: dir })).stdout).toContain("no stored composites");
  });

  test("a mistyped command is named as one, with did-you-mean (it read as an argument of the default list)", async () => {
    const typo = await atomiton(["composites", "lsit"], { cwd: dir });
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('E_USAGE unknown composites command "lsit"');
    expect(typo.stderr).toContain('hint: did you mean "list"?');
    expect((await atomiton(["composites"], { cwd: dir })).exitCode).toBe(0);
    expect((await atomiton(["composites", "list", "extra"], { cwd: dir })).stderr).toContain('E_USAGE unknown composites command "extra"');
  });

  test("the help shows list without an argument it does not take (it read `list [options] [command...]`)", async () => {
    const help = await atomiton(["composites", "--help"]);
    expect(help.stdout).toMatch(/\n {2}list \[options\] +List stored composites\n/);
    expect((await atomiton(["composites", "list", "--help"])).stdout).toMatch(/^Usage: atomiton composites list \[options\]\n/);
  });

  test("a composite with ref: files: add says how many it stored with it, in a sentence", async () => {
    await writeFile(path.join(dir, "sub.yaml"), "nodes:\n  - { id: s, type: log, parameters: { message: sub } }\n");
    await writeFile(path.join(dir, "main.yaml"), "nodes:\n  - { id: g, type: group, ref: ./sub.yaml }\n");
    const one = await atomiton(["composites", "add", "main.yaml"], { cwd: dir });
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.stdout).toContain("stored main with its 1 ref: file (");
    await writeFile(path.join(dir, "sub2.yaml"), "nodes:\n  - { id: t, type: log, parameters: { message: sub } }\n");
    await writeFile(path.join(dir, "two.yaml"), "nodes:\n  - { id: g, type: group, ref: ./sub.yaml }\n  - { id: h, type: group, ref: ./sub2.yaml }\n");
    const two = await atomiton(["composites", "add", "two.yaml"], { cwd: dir });
    expect(two.stdout).toContain("stored two with its 2 ref: files (");
  });

  test("an invalid file is not stored; the id falls back to the file name", async () => {
    await writeFile(path.join(dir, "bad.yaml"), "nodes:\n  - { id: a, type: nope }\n");
    const bad = await atomiton(["composites", "add", "bad.yaml"], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/E_UNKNOWN_TYPE bad\.yaml:2/);
    expect(existsSync(path.join(dir, ".atomiton"))).toBe(false);
    await writeFile(path.join(dir, "tiny.yaml"), "name: Tiny Flow\nnodes:\n  - { id: a, type: log }\n");
    const ok = await atomiton(["composites", "add", "tiny.yaml"], { cwd: dir });
    expect(ok.stdout).toContain("stored tiny ");
    // Run by its name: not found, and the hint gives the id it is stored under.
    const byName = await atomiton(["run", "Tiny Flow"], { cwd: dir });
    expect(byName.exitCode).toBe(2);
    expect(byName.stderr).toContain('hint: stored composite "tiny" is named "Tiny Flow": run it by its id, atomiton run tiny');
    const typo = await atomiton(["run", "tiyn"], { cwd: dir });
    expect(typo.stderr).toContain('hint: did you mean the stored composite "tiny"?');
  });
});

describe("atomiton run --dry-run", () => {
  test("prints the plan by levels, runs and saves nothing", async () => {
    const r = await atomiton(["run", HELLO, "--dry-run"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      ["Plan for hello (4 nodes, 3 levels)", "level 0: greet (edit-fields)", "level 1: shout (transform), whisper (transform)", "level 2: join (code)", "dry run: nothing was run or saved"].join("\n"),
    );
    expect(r.stderr).not.toMatch(/started|succeeded/);
    expect(existsSync(path.join(dir, ".atomiton"))).toBe(false);
  });

  test("--reporter json prints the plan as one JSON line (machines read stdout there)", async () => {
    const r = await atomiton(["run", HELLO, "--dry-run", "--reporter", "json", "--timeout", "30s"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({
      type: "plan",
      composite: { id: "hello", name: "hello" },
      timeout: 30_000,
      levels: [[{ id: "greet", type: "edit-fields" }], [{ id: "shout", type: "transform" }, { id: "whisper", type: "transform" }], [{ id: "join", type: "code" }]],
    });
    expect(existsSync(path.join(dir, ".atomiton"))).toBe(false);
  });

  test("an invalid composite still exits 2", async () => {
    await writeFile(path.join(dir, "bad.yaml"), "nodes:\n  - { id: a, type: nope }\n");
    const r = await atomiton(["run", "bad.yaml", "--dry-run"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
  });
});

describe("--help", () => {
  test("help <command> prints that command's help; help with a mistyped command is a usage error with did-you-mean (it printed the general help and exited 0)", async () => {
    const ok = await atomiton(["help", "run"]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/^Usage: atomiton run /);
    const typo = await atomiton(["help", "rnu"]);
    expect(typo.exitCode).toBe(2);
    expect(typo.stdout).toBe("");
    expect(typo.stderr).toBe("✖ E_USAGE unknown command 'rnu'\n  hint: did you mean run?");
    // As the command itself says it.
    expect((await atomiton(["rnu"])).stderr).toBe(typo.stderr);
  });

  test.each([[[]], [["run"]], [["validate"]], [["nodes"]], [["graph"]], [["schema"]], [["init"]], [["runs"]], [["runs", "show"]], [["replay"]], [["composites"]], [["composites", "add"]], [["composites", "list"]], [["composites", "show"]], [["composites", "remove"]], [["serve"]]])(
    "atomiton %j --help has examples",
    async (args) => {
      const r = await atomiton([...args, "--help"]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain("\nExamples:\n  $ atomiton");
    },
  );
});
