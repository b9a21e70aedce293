// The built CLI: problems a careless or hostile user writes are all reported at their exact
// file:line:col, with exit 2, before any node runs (SPEC §2.3, §4.3).
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { execa } from "execa";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d));

/** A shell node that leaves a marker file runs first; the nodes after it hold the problems. */
const withMarker = (rest: string) => `name: careless
variables: { who: { type: string, default: world } }
nodes:
  - id: touch
    type: shell-command
    parameters: { command: "touch marker.txt" }
${rest}`;

/** `validate --format json`'s problems as code, line, col. */
async function problemsOf(file: string): Promise<{ code: string; line: number; col: number; message: string; hint?: string }[]> {
  const v = await atomiton(["validate", file, "--format", "json"], { cwd: dir });
  expect(v.exitCode).toBe(2);
  return (JSON.parse(v.stdout) as { problems: { code: string; line: number; col: number; message: string; hint?: string }[] }[])[0]!.problems;
}

describe("a `$` name templates do not have", () => {
  test("`$node` for `$nodes` in a template and `$var` in an `if:` are E_REF at the name, and the upstream node never runs", async () => {
    await writeFile(
      path.join(dir, "flow.yaml"),
      withMarker(`  - id: show
    type: log
    parameters: { message: "status {{ $node.touch.exitCode }}" }
  - id: maybe
    type: log
    if: "$var.who === 'world'"
    parameters: { message: hi }
edges: [touch -> show, show -> maybe]
`),
    );
    const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(existsSync(path.join(dir, "marker.txt"))).toBe(false);
    expect(r.stderr).toContain('E_REF flow.yaml:9:39 node "show": $node is not defined');
    expect(r.stderr).toContain('did you mean "$nodes"?');
    expect(r.stderr).toContain('E_REF flow.yaml:12:10 node "maybe": $var is not defined');
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect((await problemsOf("flow.yaml")).map((p) => [p.code, p.line, p.col])).toEqual([
      ["E_REF", 9, 39],
      ["E_REF", 12, 10],
    ]);
  });

  test("names a template declares, object keys, strings and escaped regular expressions are not reads: the run succeeds", async () => {
    await writeFile(
      path.join(dir, "fine.yaml"),
      `nodes:
  - id: show
    type: log
    if: "[1].some($x => $x === 1)"
    parameters:
      message: "{{ [1, 2].map(($a, i) => $a + i).join(',') }} {{ JSON.stringify({ $key: '$notaname' }) }} {{ 'a$b'.replace(/\\\\$b/, 'c') }} {{ $vars.who ?? \`$x\` }}"
variables: { who: { type: string, default: w } }
`,
    );
    const r = await atomiton(["run", "fine.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(r.stderr).toContain('1,3 {"$key":"$notaname"} ac w');
    expect(r.exitCode).toBe(0);
  });

  test("a while loop's `condition` and a condition node's `expression` are checked too (the loop failed with '$idx is not defined' when it started); `$last` is the loop's own", async () => {
    await writeFile(
      path.join(dir, "flow.yaml"),
      withMarker(`  - id: again
    type: loop
    parameters: { mode: while, condition: "$idx < 3 && $last !== 'x'", maxIterations: 5 }
    nodes:
      - id: say
        type: log
        parameters: { message: "{{ $index }}" }
  - id: check
    type: condition
    parameters: { expression: "{{ $inptu.length > 0 }}" }
edges: [touch -> again, again -> check]
`),
    );
    const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(existsSync(path.join(dir, "marker.txt"))).toBe(false);
    expect(r.stderr).toContain('E_REF flow.yaml:9:44 node "again": $idx is not defined: `condition` has no such name');
    expect(r.stderr).toContain("`condition` can use $input, $inputs, $vars, $env, $nodes, $now, $run, $item, $index and $last");
    expect(r.stderr).toContain('E_REF flow.yaml:16:35 node "check": $inptu is not defined: `expression` has no such name');
    expect(r.stderr).toContain('did you mean "$input"?');
    expect((await problemsOf("flow.yaml")).map((p) => [p.code, p.line, p.col])).toEqual([
      ["E_REF", 9, 44],
      ["E_REF", 16, 35],
    ]);
    await writeFile(path.join(dir, "fine.yaml"), "nodes:\n  - id: again\n    type: loop\n    parameters: { mode: while, condition: \"{{ $index < 3 && $last !== 'x' }}\" }\n    nodes: [{ id: say, type: log, parameters: { message: \"n{{ $index }}\" } }]\n");
    const fine = await atomiton(["run", "fine.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(fine.stderr).toContain("| n2");
    expect(fine.exitCode).toBe(0);
  });
});

test("a node of an unknown type still has its `if:` checked: both problems at once", async () => {
  await writeFile(
    path.join(dir, "flow.yaml"),
    `nodes:
  - id: f
    type: lgo
    if: "$input ==="
`,
  );
  expect((await problemsOf("flow.yaml")).map((p) => [p.code, p.line, p.col])).toEqual([
    ["E_UNKNOWN_TYPE", 3, 11],
    ["E_PARAM", 4, 20],
  ]);
});

test("a node with a wrong control field keeps its others: its `if:` and its `ref:` file are checked, and a group with a ref is not told it has none", async () => {
  await writeFile(path.join(dir, "child.yaml"), "nodes:\n  - id: inner\n    type: lgo\n");
  await writeFile(
    path.join(dir, "flow.yaml"),
    `nodes:
  - id: e
    type: log
    parameters: { message: hi }
    if: "$input ==="
    onError: explode
  - id: g
    type: group
    timeout: fast
    ref: ./child.yaml
`,
  );
  const problems = await problemsOf("flow.yaml");
  expect(problems.map((p) => [p.code, p.line, p.col])).toEqual([
    ["E_UNKNOWN_TYPE", 3, 11],
    ["E_PARAM", 5, 20],
    ["E_SCHEMA", 6, 14],
    ["E_SCHEMA", 9, 14],
  ]);
  expect(problems.map((p) => p.message).join("\n")).not.toContain("needs nested");
});

test("a variable's default of 1e400 or .nan is named as read (not `null`), and a misspelt variable type gets a variable's hint", async () => {
  await writeFile(path.join(dir, "flow.yaml"), "variables:\n  big: { type: number, default: 1e400 }\n  odd: { type: number, default: .nan }\n  t: { type: nmber }\nnodes: []\n");
  const problems = await problemsOf("flow.yaml");
  expect(problems.map((p) => [p.code, p.line, p.col])).toEqual([
    ["E_SCHEMA", 2, 33],
    ["E_SCHEMA", 3, 33],
    ["E_SCHEMA", 4, 14],
  ]);
  expect(problems[0]!.message).toMatch(/^variables\.big\.default: Infinity is not a number, .*1e400, reads as Infinity/);
  expect(problems[1]!.message).toMatch(/^variables\.odd\.default: NaN is not a number/);
  expect(problems[2]!.hint).toBe("a variable's type is string, number, boolean, object, array or any");
});

test("an edge port that is not a name is an error at it, not dropped for the primary port", async () => {
  await writeFile(
    path.join(dir, "flow.yaml"),
    `nodes:
  - { id: a, type: log }
  - { id: b, type: log }
edges:
  - { source: a, target: b, sourceHandle: 5, targetPort: [x] }
  - { source: a, target: b, sourceHandle: null }
  - { source: 7, target: b }
`,
  );
  const problems = await problemsOf("flow.yaml");
  expect(problems.filter((p) => p.code.startsWith("E_")).map((p) => [p.code, p.line, p.col, p.message])).toEqual([
    ["E_SCHEMA", 5, 43, "edges[0].sourceHandle: expected a port name, got 5"],
    ["E_SCHEMA", 5, 58, "edges[0].targetPort: expected a port name, got a list"],
    ["E_SCHEMA", 7, 15, "edges[2]: edge needs a `source` node id, got 7"],
  ]);
});

test("a while loop without a `condition` is an error at its mode before anything runs (it failed when the loop started)", async () => {
  await writeFile(
    path.join(dir, "flow.yaml"),
    withMarker(`  - id: again
    type: loop
    parameters: { mode: while }
    nodes:
      - { id: step, type: log }
edges: [touch -> again]
`),
  );
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
  expect(r.exitCode).toBe(2);
  expect(existsSync(path.join(dir, "marker.txt"))).toBe(false);
  expect(r.stderr).toContain('E_PARAM flow.yaml:9:25 node "again": mode: a while loop needs a `condition` expression');
});

test.each([
  { what: "a text file", file: "note.txt", bytes: Buffer.from("hello world\n"), says: "E_SCHEMA note.txt:1:1 a composite must be a YAML mapping with at least `nodes:`" },
  { what: "a JSON array", file: "list.json", bytes: Buffer.from("[1, 2]\n"), says: "E_SCHEMA list.json:1:1 a composite must be a YAML mapping with at least `nodes:`" },
  { what: "a UTF-16 file", file: "wide.yaml", bytes: Buffer.from("\ufeffnodes: []\n", "utf16le"), says: "E_ENCODING wide.yaml:1:1 the file is UTF-16 text" },
  { what: "broken YAML", file: "broken.yaml", bytes: Buffer.from("nodes: [\n"), says: "E_YAML broken.yaml:" },
])("a ref: to $what says which node's `ref:` read it (only the file was named)", async ({ file, bytes, says }) => {
  await writeFile(path.join(dir, file), bytes);
  await writeFile(path.join(dir, "flow.yaml"), withMarker(`  - id: inner\n    type: group\n    ref: ./${file}\nedges: [touch -> inner]\n`));
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
  expect(r.exitCode).toBe(2);
  expect(existsSync(path.join(dir, "marker.txt"))).toBe(false);
  const line = r.stderr.split("\n").find((l) => l.includes(says));
  expect(line).toMatch(/ \(read for the `ref:` of node "inner" at flow\.yaml:9:10\)$/);
});

describe("what a ref: file holds besides its nodes", () => {
  test("its `secrets` are redacted as the including file's are (its token was printed in clear)", async () => {
    await writeFile(path.join(dir, "child.yaml"), `secrets: [MY_TOKEN]\nnodes:\n  - id: inner\n    type: log\n    parameters: { message: "token is {{ $env.MY_TOKEN }}" }\n`);
    await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - id: g\n    type: group\n    ref: ./child.yaml\n");
    const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", "--output", "-"], { cwd: dir, env: { MY_TOKEN: "s3cr3t-value-42" } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("token is ***");
    expect(r.stderr + r.stdout).not.toContain("s3cr3t-value-42");
  });

  test("its `variables` and `settings` are warnings at their keys: they are not used", async () => {
    await writeFile(path.join(dir, "child.yaml"), `variables:\n  greeting: { type: string, default: hello }\nsettings:\n  timeout: 1s\nnodes:\n  - id: inner\n    type: log\n    parameters: { message: "{{ $vars.greeting }}" }\n`);
    await writeFile(path.join(dir, "flow.yaml"), "nodes:\n  - id: g\n    type: group\n    ref: ./child.yaml\n");
    const problems = await problemsOf("flow.yaml");
    expect(problems.map((p) => [p.code, p.line, p.col])).toEqual([
      ["W_REF", 1, 1],
      ["W_REF", 3, 1],
      ["E_REF", 8, 32],
    ]);
    expect(problems[0]!.hint).toBe("declare these variables in flow.yaml");
  });
});

test.each([
  { what: "a UTF-16 JSON file (PowerShell's `>`)", flag: ["--input", "@in.json"], file: "in.json", bytes: Buffer.from('\ufeff{"a": 1}', "utf16le"), says: "--input @in.json: in.json:1:1 the file is UTF-16 text; input files are read as UTF-8" },
  { what: "a binary .yaml file", flag: ["--input", "@in.yaml"], file: "in.yaml", bytes: Buffer.from([0x61, 0x3a, 0x20, 0xbe, 0xef, 0x0a]), says: "--input @in.yaml: in.yaml:1:4 the file is not UTF-8 text: byte 0xBE" },
  { what: "a file of NUL bytes as a pin", flag: ["--pin", "show=@pin.json"], file: "pin.json", bytes: Buffer.alloc(8), says: "--pin show=@pin.json: pin.json:1:1 this is a binary file, not JSON or YAML text" },
  // It was "Maximum call stack size exceeded", as composites were before they said it plainly.
  { what: "input YAML nested 20000 deep", flag: ["--input", "@deep.yaml"], file: "deep.yaml", bytes: Buffer.from(`a: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`), says: "--input @deep.yaml: deep.yaml:1:" },
  { what: "pin YAML nested 20000 deep", flag: ["--pin", "show=@deep.yml"], file: "deep.yml", bytes: Buffer.from(`a:\n  b: ${"{c: ".repeat(20_000)}1${"}".repeat(20_000)}\n`), says: "--pin show=@deep.yml: deep.yml:2:" },
])("$what: exit 2 at its first bad byte, before anything runs (it was garbage input, or `Unexpected token '�'`)", async ({ flag, file, bytes, says }) => {
  await writeFile(path.join(dir, file), bytes);
  await writeFile(path.join(dir, "flow.yaml"), withMarker("  - id: show\n    type: log\n    parameters: { message: hi }\nedges: [touch -> show]\n"));
  const r = await atomiton(["run", "flow.yaml", ...flag, "--reporter", "plain"], { cwd: dir });
  expect(r.exitCode).toBe(2);
  expect(existsSync(path.join(dir, "marker.txt"))).toBe(false);
  expect(r.stderr.split("\n")[0]).toContain(`✖ E_USAGE ${says}`);
  if (file.startsWith("deep")) expect(r.stderr).toMatch(/deep\.ya?ml:\d+:\d+ the YAML nests too deeply to be read/);
  expect(r.stderr).not.toContain("call stack");
});

test("a config file nested thousands deep says so, with a config file's hint (it spoke of composites)", async () => {
  await writeFile(path.join(dir, "atomiton.config.yaml"), `reporter: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`);
  await writeFile(path.join(dir, "flow.yaml"), withMarker(""));
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
  expect(r.exitCode).toBe(2);
  expect(existsSync(path.join(dir, "marker.txt"))).toBe(false);
  expect(r.stderr).toMatch(/^✖ E_YAML atomiton\.config\.yaml:1:\d+: the YAML nests too deeply to be read/);
  expect(r.stderr).toContain("hint: a config file holds settings a level or two deep");
  expect(r.stderr).not.toContain("composite");
});

test("a YAML bomb is an E_YAML at its first alias, and YAML nested thousands deep says so (the library's words at 1:1, and 'Maximum call stack size exceeded')", async () => {
  const levels = (name: string, of: string) => `${name}: &${name} [${Array(9).fill(`*${of}`).join(",")}]\n`;
  await writeFile(path.join(dir, "bomb.yaml"), `a: &a [x, x, x, x, x, x, x, x, x]\n${levels("b", "a")}${levels("c", "b")}${levels("d", "c")}${levels("e", "d")}nodes: []\n`);
  await writeFile(path.join(dir, "deep.yaml"), `nodes:\n  - id: a\n    type: log\n    parameters: { message: ${"[".repeat(20_000)}${"]".repeat(20_000)} }\n`);
  const [bomb] = await problemsOf("bomb.yaml");
  expect(bomb).toMatchObject({ code: "E_YAML", line: 2, col: 8 });
  expect(bomb!.message).toContain("YAML bomb");
  const [deep] = await problemsOf("deep.yaml");
  expect(deep).toMatchObject({ code: "E_YAML", line: 4 });
  expect(deep!.message).toMatch(/^the YAML nests too deeply to be read/);
});

test("/dev/stdin through a shell's pipe is read as the composite", async () => {
  const piped = await execa("sh", ["-c", `printf 'nodes: []\\n' | node "${BIN}" validate /dev/stdin`], { cwd: dir, reject: false, env: { NO_COLOR: "1" } });
  expect(`${piped.stdout}${piped.stderr}`).toContain("✔ /dev/stdin is valid (0 nodes; 0 errors, 0 warnings)");
  expect(piped.exitCode).toBe(0);
});

test.each([
  { type: "compsite", hint: 'did you mean "composite"?' },
  { type: "Group", hint: 'did you mean "group"?' },
  { type: "workflow", hint: "write `type: composite` or `type: group` for a file of the editor, or remove `type:`" },
])("a root `type: $type` is a W_ROOT_TYPE warning at its value with a hint (it was silently ignored); --strict makes it an error", async ({ type, hint }) => {
  await writeFile(path.join(dir, "flow.yaml"), `type: ${type}\nnodes:\n  - { id: a, type: log, parameters: { message: hi } }\n`);
  const v = await atomiton(["validate", "flow.yaml", "--format", "json"], { cwd: dir });
  expect(v.exitCode).toBe(0);
  const [problem, ...rest] = (JSON.parse(v.stdout) as { problems: { code: string; severity: string; line: number; col: number; message: string; hint?: string }[] }[])[0]!.problems;
  expect(rest).toEqual([]);
  expect(problem).toMatchObject({ code: "W_ROOT_TYPE", severity: "warning", line: 1, col: 7, hint });
  expect(problem!.message).toContain(`root \`type: "${type}"\` is not a type composites use (composite, group)`);
  const strict = await atomiton(["validate", "flow.yaml", "--strict"], { cwd: dir });
  expect(strict.exitCode).toBe(2);
  expect(strict.stderr).toContain("W_ROOT_TYPE flow.yaml:1:7");
});
