// The built CLI: JavaScript and template syntax errors stop a run before anything runs (SPEC
// §4.3), and nothing in a code body or template reaches the CLI process.
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d));

/** A shell node that leaves a marker file runs first; `broken` (a node after it) holds the error. */
const withMarker = (broken: string) => `name: side-effects
variables: { who: { type: string, default: world } }
nodes:
  - id: touch
    type: shell-command
    parameters: { command: "touch marker.txt" }
${broken}
edges: [touch -> broken]
`;

const WRAPPER = /async \(\) =>|return \(|with \(\$scope\)|\(async function|atomiton:check/;

describe("syntax errors are found before anything runs", () => {
  test.each([
    {
      name: "a code body",
      node: `  - id: broken
    type: code
    parameters:
      code: |
        const greeting = "hello " + data;
        return greeting.toUpperCase(;
`,
      at: "flow.yaml:12:37",
      message: /node "broken": syntax error in `code`: Unexpected token ';'/,
    },
    {
      name: "a template",
      node: `  - id: broken
    type: log
    parameters: { message: "hello {{ $vars.who + }}" }
`,
      at: "flow.yaml:9:50",
      message: /node "broken": syntax error in the template of `message`: the expression ends too early/,
    },
    {
      name: "an unterminated template",
      node: `  - id: broken
    type: log
    parameters: { message: "hello {{ $vars.who " }
`,
      at: "flow.yaml:9:35",
      message: /unterminated template/,
    },
  ])("$name: run exits 2 at $at and the upstream shell node never runs", async ({ node, at, message }) => {
    await writeFile(path.join(dir, "flow.yaml"), withMarker(node));
    const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(existsSync(path.join(dir, "marker.txt"))).toBe(false);
    expect(r.stderr).toContain(`E_PARAM ${at}`);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^\s*> +\d+ \|/m); // a code frame
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // no stack trace
    expect(r.stderr).not.toMatch(WRAPPER);

    const v = await atomiton(["validate", "flow.yaml", "--format", "json"], { cwd: dir });
    expect(v.exitCode).toBe(2);
    const [, line, col] = at.split(":");
    expect(v.stdout).toContain('"code": "E_PARAM"');
    expect(JSON.parse(v.stdout)).toMatchObject([{ problems: [{ code: "E_PARAM", line: Number(line), col: Number(col) }] }]);
  });
});

describe("nothing reaches the CLI process", () => {
  test.each(["vm", "worker"])("a code body and a template find no process (isolation: %s)", async (isolation) => {
    const escape = (expr: string) => `(() => { try { return ${expr}.constructor.constructor('return process')().pid; } catch (e) { try { return e.constructor.constructor('return process')().pid; } catch { return 'contained'; } } })()`;
    await writeFile(
      path.join(dir, "escape.yaml"),
      `nodes:
  - id: code
    type: code
    isolation: ${isolation}
    parameters: { code: ${JSON.stringify(`return ${escape("data")};`)} }
  - id: template
    type: edit-fields
    parameters: { keepOnlySet: true, values: { pid: ${JSON.stringify(`{{ ${escape("$env")} }}`)} } }
edges: [code -> template]
`,
    );
    const subprocess = execa("node", [BIN, "run", "escape.yaml", "--reporter", "plain", "--output", "-", "--storage", "memory"], { cwd: dir, reject: false, env: { NO_COLOR: "1", CI: "true" } });
    const pid = subprocess.pid;
    const child = await subprocess;
    expect(child.exitCode).toBe(0);
    expect(JSON.parse(String(child.stdout))).toEqual({ pid: "contained" });
    expect(String(child.stdout)).not.toContain(String(pid));
  });
});

describe("templates and `if:` run under the node's timeout", () => {
  test("an endless template or `if:` fails with E_TIMEOUT at the node's timeout, not the 5 s default", async () => {
    await writeFile(
      path.join(dir, "loops.yaml"),
      `nodes:
  - id: template
    type: log
    timeout: 300ms
    onError: continue
    parameters: { message: "{{ (() => { while (true) {} })() }}" }
  - id: condition
    type: log
    timeout: 400ms
    if: "(() => { for (;;) {} })()"
    parameters: { message: never }
edges: [template -> condition]
`,
    );
    const r = await atomiton(["run", "loops.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/template +failed .*E_TIMEOUT: JavaScript ran longer than 300ms/);
    expect(r.stderr).toMatch(/condition +failed .*E_TIMEOUT: JavaScript ran longer than 400ms/);
  });
});

test("a node with a timeout whose template fails is recorded as failed, not cancelled by a sibling's later failure", async () => {
  await writeFile(
    path.join(dir, "order.yaml"),
    `nodes:
  - id: first
    type: log
    onError: continue
    timeout: 1s
    parameters: { message: "{{ $input.nope.x }}" }
  - id: second
    type: log
    if: "$input.nope.y"
    parameters: { message: hi }
`,
  );
  const r = await atomiton(["run", "order.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toMatch(/first +failed .*E_TEMPLATE.*\(onError: continue, passing null on\)/);
  expect(r.stderr).not.toMatch(/first +cancelled/);
  expect(r.stderr).toMatch(/2 failed \(1 continued\)/);
});
