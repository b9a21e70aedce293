import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, ROOT, useTempDir } from "../helpers/cli.js";

// Messages a person can use: short code frames, one clear problem for a file that is not text,
// YAML mistakes with the fix in the hint, shell failures with their stderr, counts that agree.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-messages-");

const VALID = `nodes:
  - id: a
    type: code
    parameters: { code: "return 1" }
`;

describe("files that are not plain UTF-8 YAML", () => {
  test("a 300,000-character line prints a code frame cut around the column", async () => {
    const long = "a".repeat(300_000);
    await writeFile(path.join(dir, "long.yaml"), `nodes:\n  - id: a\n    type: code\n    parameters: { code: "return 1", x: ${long} }}\n`);
    const r = await atomiton(["validate", "long.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_YAML long.yaml:4:");
    expect(r.stdout.length + r.stderr.length).toBeLessThan(2000);
    const lines = r.stderr.split("\n");
    const marked = lines.findIndex((l) => l.includes("> 4 | …"));
    expect(marked, r.stderr).toBeGreaterThan(-1);
    // The caret sits under the column it names: the "}" after the long value.
    const caret = lines[marked + 1]!.indexOf("^");
    expect(lines[marked]![caret]).toBe("}");
    expect(lines[marked - 1]).toContain("type: code"); // short context lines stay whole
  });

  test.each([
    { what: "a binary file", bytes: Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00]), Buffer.alloc(2000, 0x9c)]), message: "binary.yaml:1:8 this is a binary file, not a YAML composite (a NUL byte at line 1, column 8)" },
    { what: "a Latin-1 file", bytes: Buffer.from(`name: caf\xe9\n${VALID}`, "latin1"), message: "binary.yaml:1:10 the file is not UTF-8 text: byte 0xE9 at line 1, column 10 is not valid UTF-8" },
    { what: "a UTF-16 file", bytes: Buffer.from(`\ufeff${VALID}`, "utf16le"), message: "binary.yaml:1:1 the file is UTF-16 text; composites are read as UTF-8" },
  ])("$what is one E_ENCODING problem, for validate and run alike", async ({ bytes, message }) => {
    await writeFile(path.join(dir, "binary.yaml"), bytes);
    for (const args of [["validate", "binary.yaml"], ["run", "binary.yaml", "--reporter", "plain", "--storage", "memory"]]) {
      const r = await atomiton(args, { cwd: dir });
      expect(r.exitCode).toBe(2);
      const problems = r.stderr.split("\n").filter((l) => /^✖ error /.test(l));
      expect(problems).toEqual([`✖ error E_ENCODING ${message}`]);
      expect(r.stderr).toContain("hint: ");
      // No raw bytes on the terminal.
      expect(r.stderr + r.stdout).not.toMatch(/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/);
    }
  });

  test("a UTF-8 byte order mark is accepted and not counted as a column", async () => {
    await writeFile(path.join(dir, "bom.yaml"), `\ufeffnme: x\n${VALID}`);
    const v = await atomiton(["validate", "bom.yaml"], { cwd: dir });
    expect(v.exitCode).toBe(0);
    expect(v.stderr).toContain("W_UNKNOWN_KEY bom.yaml:1:1 unknown key `nme`");
    expect(v.stderr).toContain("> 1 | nme: x\n");
    const r = await atomiton(["run", "bom.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("1");
  });
});

describe("YAML mistakes name the fix", () => {
  /** The error lines (code, location, message) and hints of `validate`. */
  async function validate(text: string): Promise<{ exitCode: number | undefined; problems: string[]; hints: string[]; stderr: string }> {
    await writeFile(path.join(dir, "flow.yaml"), text);
    const r = await atomiton(["validate", "flow.yaml"], { cwd: dir });
    const lines = r.stderr.split("\n");
    return { exitCode: r.exitCode, problems: lines.filter((l) => /^[✖⚠] (error|warning) /.test(l)), hints: lines.filter((l) => l.startsWith("  hint: ")).map((l) => l.slice(8)), stderr: r.stderr };
  }

  test.each([
    {
      what: "a key indented one space too many, after a plain value",
      text: 'name: x\nnodes:\n  - id: a\n    type: code\n     parameters: { code: "return 1" }\n',
      problem: "E_YAML flow.yaml:5:6 `parameters:` is indented 1 space more than `type:` on line 4",
      hint: "remove the extra space so `parameters:` lines up with `type:`",
    },
    {
      what: "a key indented one space too many, after a { } value",
      text: 'nodes:\n  - id: a\n    type: code\n    parameters: { code: "return 1" }\n     enabled: true\n',
      problem: "E_YAML flow.yaml:5:6 `enabled:` is indented 1 space more than `parameters:` on line 4",
      hint: "remove the extra space so `enabled:` lines up with `parameters:`",
    },
    {
      what: "a key indented one space too few",
      text: 'nodes:\n  - id: a\n    type: code\n   parameters: { code: "return 1" }\n',
      problem: "E_YAML flow.yaml:4:4 `parameters:` is indented 1 space less than `type:` on line 3, and lines up with no key above it",
      hint: "indent `parameters:` by 4 spaces to line it up with `type:`",
    },
    {
      what: "a code body with `{ a: b }`",
      text: "nodes:\n  - id: a\n    type: code\n    parameters:\n      code: return { a: b }\n",
      problem: "E_YAML flow.yaml:5:13 the value of `code` holds `: `, which YAML reads as a nested mapping",
      hint: 'quote it (code: "return { a: b }") or put it on the next lines after `code: |`',
    },
    {
      what: "a code body with braces inside a { } mapping",
      text: "nodes:\n  - id: a\n    type: code\n    parameters: { code: return { a: 1 } }\n",
      problem: "E_YAML flow.yaml:4:17 this line's { … } mapping cannot be read: a value in it holds `{`, `}`, `[`, `]`, `,` or `: ` without quotes",
      hint: 'quote that value (code: "return { a: 1 }"), or write the mapping as indented `key: value` lines',
    },
  ])("$what: one error at the line to fix, with the fix", async ({ text, problem, hint }) => {
    const r = await validate(text);
    expect(r.exitCode).toBe(2);
    expect(r.problems, r.stderr).toEqual([`✖ error ${problem}`]);
    expect(r.hints[0]).toContain(hint);
  });

  test("an unquoted comma in a { } value is one warning that says to quote it, not an unknown key per piece", async () => {
    const r = await validate(
      "variables:\n  source: { type: string, default: a.csv, description: CSV with order,region,amount }\nnodes:\n  - id: a\n    type: code\n    parameters: { code: 'return $vars.source' }\n",
    );
    expect(r.exitCode).toBe(0);
    expect(r.problems, r.stderr).toEqual(["⚠ warning W_YAML flow.yaml:2:71 `region`, `amount` are keys without a value: the unquoted commas in the value of `description` inside { … } ended it early"]);
    expect(r.hints).toEqual(['quote the value: description: "CSV with order,region,amount"']);
  });

  test("the same inside parameters: next to an unknown parameter, and where any key is taken (it passed without a word)", async () => {
    const unknown = await validate("nodes:\n  - { id: a, type: log, parameters: { message: hello, world } }\n");
    expect(unknown.exitCode).toBe(2);
    expect(unknown.problems, unknown.stderr).toEqual([
      "⚠ warning W_YAML flow.yaml:2:55 `world` is a key without a value: the unquoted comma in the value of `message` inside { … } ended it early",
      '✖ error E_PARAM flow.yaml:2:55 node "a": unknown parameter `world` for log',
    ]);
    expect(unknown.hints[0]).toBe('quote the value: message: "hello, world"');
    const anyKey = await validate("nodes:\n  - { id: a, type: edit-fields, parameters: { values: { greeting: Hello, world } } }\n");
    expect(anyKey.exitCode).toBe(0);
    expect(anyKey.problems, anyKey.stderr).toEqual(["⚠ warning W_YAML flow.yaml:2:74 `world` is a key without a value: the unquoted comma in the value of `greeting` inside { … } ended it early"]);
    expect(anyKey.hints).toEqual(['quote the value: greeting: "Hello, world"']);
  });

  test("a duplicate node id is E_EDGE (SPEC §2.3) at the second id, naming the first and the fix", async () => {
    const r = await validate('nodes:\n  - id: a\n    type: code\n    parameters: { code: "return 1" }\n  - id: a\n    type: code\n    parameters: { code: "return 2" }\n');
    expect(r.problems).toEqual(['✖ error E_EDGE flow.yaml:5:9 duplicate node id "a" (first declared at line 2)']);
    expect(r.hints[0]).toMatch(/^rename one of the two nodes "a"/);
  });
});

describe("custom node and config errors point at the right place", () => {
  test("a custom node module that throws while loading: the column is in the line as written", async () => {
    const line = 'export const helper = { a: 1 }; export default defineNode({ type: "bad", execute: () => 1 }); throw new Error("late");';
    await writeFile(path.join(dir, "bad.ts"), `import { defineNode } from "atomiton";\n${line}\n`);
    await writeFile(path.join(dir, "flow.yaml"), VALID);
    const r = await atomiton(["run", "flow.yaml", "--nodes", "./bad.ts", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    const col = line.indexOf('new Error("late")') + 1;
    expect(r.stderr).toContain(`E_CUSTOM_NODE bad.ts:2:${col}: the custom node module threw while loading: late`);
  });

  test.each([
    { file: "bad.mjs", flags: ["--nodes", "./bad.mjs"], line: 'export default { type: "bad", execute: () => 1 ; };', token: " ;", kind: "E_CUSTOM_NODE" },
    { file: "bad.ts", flags: ["--nodes", "./bad.ts"], line: 'export default { type: "bad", execute: (x: number) => x y: 2 };', token: " y:", kind: "E_CUSTOM_NODE" },
    { file: "atomiton.config.ts", flags: [], line: 'export default { nodes: ["./nodes"] ; };', token: " ;", kind: "E_USAGE" },
  ])("a syntax error in $file: the column is 1-based, as every other file:line:col (it was one to the left)", async ({ file, flags, line, token, kind }) => {
    await writeFile(path.join(dir, file), `// line 1\n${line}\n`);
    await writeFile(path.join(dir, "flow.yaml"), VALID);
    const r = await atomiton(["run", "flow.yaml", ...flags, "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    const col = line.indexOf(token) + 2; // the token after the space, 1-based
    expect(r.stderr).toContain(`${kind} ${file}:2:${col}: syntax error: `);
  });

  test.each([
    { file: "atomiton.config.yaml", text: "# custom nodes\nnodes: [./nodes]\nnodse: [./more]\n", at: "atomiton.config.yaml:3:1" },
    { file: "atomiton.config.json", text: '{\n  "nodes": ["./nodes"],\n  "nodse": ["./more"]\n}\n', at: "atomiton.config.json:3:3" },
    { file: "atomiton.config.mjs", text: 'export default {\n  nodes: ["./nodes"],\n  nodse: ["./more"],\n};\n', at: "atomiton.config.mjs:3:3" },
    // A byte order mark (editors on Windows write one) is not a column.
    { file: "atomiton.config.mjs", text: '\uFEFFexport default { nodse: ["./more"] };\n', at: "atomiton.config.mjs:1:18" },
    { file: "atomiton.config.json", text: '\uFEFF{ "nodse": ["./more"] }\n', at: "atomiton.config.json:1:3" },
    { file: "atomiton.config.yaml", text: "\uFEFFnodse: [./more]\n", at: "atomiton.config.yaml:1:1" },
  ])("a typo in $file is reported at the key, with did-you-mean", async ({ file, text, at }) => {
    await writeFile(path.join(dir, file), text);
    await writeFile(path.join(dir, "flow.yaml"), VALID);
    const r = await atomiton(["run", "flow.yaml", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`E_SCHEMA ${at}: unknown key "nodse"`);
    expect(r.stderr).toContain('hint: did you mean "nodes"?');
  });
});

describe("shell failures keep their stderr", () => {
  const FAILS = `name: build
nodes:
  - id: build
    type: shell-command
    retry: { attempts: 2, delay: 10ms }
    parameters:
      command: "echo compiling; echo 'src/a.ts:3: missing semicolon' >&2; echo 'fatal: 1 error' >&2; exit 3"
`;

  test.each(["plain", "github"])("%s: the node line, the retry line and the summary show the exit code and the last stderr lines", async (reporter) => {
    await writeFile(path.join(dir, "build.yaml"), FAILS);
    const r = await atomiton(["run", "build.yaml", "--reporter", reporter, "--storage", "memory"], { cwd: dir, env: { GITHUB_ACTIONS: reporter === "github" ? "true" : "" } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/build +retry 2\/2 in 10ms: E_COMMAND: command `.*` exited with code 3: fatal: 1 error\n/);
    expect(r.stderr).toMatch(/build +failed \S+ E_COMMAND: command `.*` exited with code 3: fatal: 1 error\n/);
    expect(r.stderr).toMatch(/Failed \(1\):\n {2}✖ build E_COMMAND: command `.*` exited with code 3: fatal: 1 error\n {6}\| src\/a\.ts:3: missing semicolon\n {6}\| fatal: 1 error\n {6}hint: /);
    expect(r.stderr).not.toMatch(/exited with code 3:\n/);
    if (reporter === "github") expect(r.stderr).toMatch(/::error file=.*title=build failed::E_COMMAND: .*exited with code 3: fatal: 1 error%0Asrc\/a\.ts:3: missing semicolon%0Afatal: 1 error%0Ahint: /);
  });

  test("a command that printed nothing says so instead of ending in a colon", async () => {
    await writeFile(path.join(dir, "quiet.yaml"), "nodes:\n  - id: quiet\n    type: shell-command\n    parameters: { command: 'exit 4' }\n");
    const r = await atomiton(["run", "quiet.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/quiet +failed \S+ E_COMMAND: command `exit 4` exited with code 4 and printed nothing\n/);
  });
});

describe("counts agree", () => {
  const WC = `name: wc
nodes:
  - id: files
    type: code
    parameters: { code: "return ['a', 'bb', 'ccc']" }
  - id: each
    type: loop
    nodes:
      - id: measure
        type: code
        parameters: { code: "return $item.length" }
      - id: label
        type: code
        parameters: { code: "return $item + '=' + data" }
    edges: [measure -> label]
  - id: total
    type: code
    parameters: { code: "return data.length" }
  - id: done
    type: log
    parameters: { message: done }
edges: [files -> each, each -> total, total -> done]
`;

  test("validate, the plan and the run say the same number of nodes; 3 items × 2 body nodes are 3 iterations", async () => {
    await writeFile(path.join(dir, "wc.yaml"), WC);
    const v = await atomiton(["validate", "wc.yaml"], { cwd: dir });
    expect(v.stdout).toContain("wc.yaml is valid (4 nodes + 2 in bodies; 0 errors, 0 warnings)");
    const plan = await atomiton(["run", "wc.yaml", "--dry-run"], { cwd: dir });
    expect(plan.stdout).toContain("Plan for wc (4 nodes + 2 in bodies, 4 levels)");
    for (const reporter of ["plain", "github"]) {
      const r = await atomiton(["run", "wc.yaml", "--reporter", reporter, "--storage", "memory"], { cwd: dir, env: { GITHUB_ACTIONS: reporter === "github" ? "true" : "" } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain("run wc started · 4 nodes + 2 in bodies · ");
      expect(r.stderr).toMatch(/run succeeded in \S+ — 4 succeeded, 0 failed, 0 skipped, 3 iterations$/m);
    }
  });

  test.each(["group", "parallel"])("a %s inside a loop body: 3 items are 3 iterations, not 6", async (container) => {
    const text = `name: nested\nnodes:\n  - id: L\n    type: loop\n    parameters: { items: [1, 2, 3] }\n    nodes:\n      - id: G\n        type: ${container}\n        nodes: [{ id: a, type: code, parameters: { code: "return data" } }]\n`;
    await writeFile(path.join(dir, "nested.yaml"), text);
    const r = await atomiton(["run", "nested.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/run succeeded in \S+ — 1 succeeded, 0 failed, 0 skipped, 3 iterations$/m);
  });
});

describe("examples and docs", () => {
  test("every node's example (`atomiton nodes <type>`) is a valid composite fragment", async () => {
    const list = await atomiton(["nodes", "--json"], { cwd: dir });
    const nodes = JSON.parse(list.stdout) as { type: string; example?: string }[];
    // group's example refers to a file next to it.
    await writeFile(path.join(dir, "build-steps.yaml"), VALID);
    for (const node of nodes) {
      expect(node.example, node.type).toBeDefined();
      const shown = await atomiton(["nodes", node.type], { cwd: dir });
      expect(shown.stdout).toContain(node.example!.split("\n").map((l) => `  ${l}`).join("\n"));
      const text = node.example!.startsWith("nodes:") ? node.example! : `nodes:\n${node.example!.split("\n").map((l) => `  ${l}`).join("\n")}`;
      await writeFile(path.join(dir, `${node.type}.yaml`), `${text}\n`);
      const r = await atomiton(["validate", "--strict", `${node.type}.yaml`], { cwd: dir });
      expect(r.exitCode, `${node.type}:\n${text}\n${r.stderr}`).toBe(0);
    }
  });

  test("init says how to install atomiton from this checkout and put it on PATH (it is not on npm)", async () => {
    const r = await atomiton(["init", "demo"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/npm install --save-dev atomiton\b/);
    expect(r.stdout).toContain(`npm install --save-dev ${ROOT} zod vitest`);
    expect(r.stdout).toContain("npx atomiton run flow.yaml");
    expect(r.stdout).toContain(`\`npm link\` (or \`npm install -g .\`) in ${ROOT}`);
  });

  test("the default retry backoff is exponential from the delay, without jitter, and the delay defaults to 1s (as the README says)", async () => {
    await writeFile(
      path.join(dir, "retry.yaml"),
      "nodes:\n  - id: quick\n    type: code\n    onError: continue\n    retry: { attempts: 4, delay: 10ms }\n    parameters: { code: \"throw new Error('no')\" }\n  - id: plain\n    type: code\n    retry: 2\n    parameters: { code: \"throw new Error('no')\" }\n",
    );
    const r = await atomiton(["run", "retry.yaml", "--reporter", "json", "--storage", "memory", "--concurrency", "2"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const retries = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "node:retry");
    expect(retries.filter((e) => e.nodeId === "quick").map((e) => e.delayMs)).toEqual([10, 20, 40]);
    expect(retries.filter((e) => e.nodeId === "plain").map((e) => e.delayMs)).toEqual([1000]);
  });
});

describe("smaller things", () => {
  test.each([
    { file: "in.yaml", text: "a: [1,\n", says: "--input @in.yaml: in.yaml:2:1 Flow sequence in block collection must be sufficiently indented and end with a ]" },
    { file: "in.json", text: '{"a": 1,\n  "b": 2\n', says: "--input @in.json: in.json:3:1 Expected ',' or '}' after property value" },
    { file: "in.json", text: '{"a": 1,\n  "b": }\n', says: "--input @in.json: Unexpected token '}'" },
  ])("--input @$file that does not parse: one line at its line and column (YAML's message was a code frame with blank lines, JSON's had no place)", async ({ file, text, says }) => {
    await writeFile(path.join(dir, file), text);
    await writeFile(path.join(dir, "flow.yaml"), VALID);
    const r = await atomiton(["run", "flow.yaml", "--input", `@${file}`, "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    const [first, second] = r.stderr.split("\n");
    expect(first).toBe(`✖ E_USAGE ${says}`);
    expect(second).toMatch(/^ {2}hint: the file is read as (YAML|JSON)/);
  });

  test("a composite file that is not there: the hint names the YAML file of a close name (validate, graph and composites add said to run a stored composite by its id)", async () => {
    await mkdir(path.join(dir, "flows"));
    await writeFile(path.join(dir, "flows/hello.yaml"), VALID);
    const cases = [
      { args: ["validate", "flows/hello.yml"], hint: "did you mean flows/hello.yaml?" },
      { args: ["graph", "flows/helo.yaml"], hint: "did you mean flows/hello.yaml?" },
      { args: ["run", "flows/hello.yml", "--storage", "memory"], hint: "did you mean flows/hello.yaml?" },
      { args: ["composites", "add", "flows/report.yaml"], hint: "check the path" },
      { args: ["validate", "flow/hello.yaml"], hint: "check the path: there is no directory flow" },
    ];
    for (const { args, hint } of cases) {
      const r = await atomiton(args, { cwd: dir });
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/E_NOT_FOUND \S+:1:1 file not found: /);
      expect(`${r.stderr}\n`, args.join(" ")).toContain(`\n  hint: ${hint}\n`); // a whole line
      expect(r.stderr, args.join(" ")).not.toContain("stored composite");
    }
  });

  test("runs --status with an unknown status is a usage error with the statuses", async () => {
    const r = await atomiton(["runs", "--status", "faild"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('E_USAGE --status "faild" is not a run status');
    expect(r.stderr).toContain('hint: did you mean "failed"? use one of succeeded, failed, cancelled, running, abandoned');
    const broken = await atomiton(["runs", "--status", "broken"], { cwd: dir });
    expect(broken.exitCode).toBe(2);
  });

  test("--set with a node id alone says to name the parameter, not name=value", async () => {
    await writeFile(path.join(dir, "flow.yaml"), VALID);
    const r = await atomiton(["run", "flow.yaml", "--set", "greet"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('E_USAGE --set "greet": expected <nodeId>.<param>=<value>');
    expect(r.stderr).toContain('hint: name the parameter of node "greet" and its value, e.g. --set greet.<param>=<value>');
    expect(r.stderr).not.toContain("name=value");
  });

  test("--resume: reused nodes are marked as reused by every reporter", async () => {
    await writeFile(
      path.join(dir, "resume.yaml"),
      "nodes:\n  - id: first\n    type: code\n    parameters: { code: 'return 1' }\n  - id: second\n    type: code\n    parameters: { code: \"if (!$env.FIXED) throw new Error('broken'); return data + 1\" }\nedges: [first -> second]\n",
    );
    const failed = await atomiton(["run", "resume.yaml", "--reporter", "json"], { cwd: dir });
    expect(failed.exitCode).toBe(1);
    const runId = JSON.parse(failed.stdout.split("\n")[0]!).runId as string;
    const env = { FIXED: "1", GITHUB_ACTIONS: "" };
    const plain = await atomiton(["run", "resume.yaml", "--resume", runId, "--reporter", "plain", "--storage", "filesystem"], { cwd: dir, env });
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(new RegExp(`first +succeeded \\(reused from run ${runId}\\)`));
    expect(plain.stderr).toMatch(/run succeeded in \S+ — 2 succeeded \(1 reused\), 0 failed, 0 skipped/);
    const github = await atomiton(["run", "resume.yaml", "--resume", runId, "--reporter", "github"], { cwd: dir, env: { ...env, GITHUB_ACTIONS: "true" } });
    expect(github.stderr).toMatch(new RegExp(`first +succeeded \\(reused from run ${runId}\\)`));
    const junit = await atomiton(["run", "resume.yaml", "--resume", runId, "--reporter", "junit"], { cwd: dir, env });
    expect(junit.stdout).toMatch(new RegExp(`<testcase [^>]*name="first"[^>]*>\\s*<system-out>reused from run ${runId} \\(not run again\\)</system-out>`));
    const json = await atomiton(["run", "resume.yaml", "--resume", runId, "--reporter", "json"], { cwd: dir, env });
    const first = json.stdout.split("\n").map((l) => JSON.parse(l)).find((e) => e.type === "node:finish" && e.nodeId === "first");
    expect(first).toMatchObject({ status: "succeeded", reused: true, reason: `reused from run ${runId}` });
  });

  test("replaying an abandoned run says it was abandoned, not that it ended", async () => {
    const { execa } = await import("execa");
    const { readdir, readFile } = await import("node:fs/promises");
    await writeFile(path.join(dir, "slow.yaml"), "nodes:\n  - id: first\n    type: code\n    parameters: { code: 'return 1' }\n  - id: wait\n    type: delay\n    parameters: { duration: 60s }\nedges: [first -> wait]\n");
    const child = execa("node", [path.join(ROOT, "bin/atomiton.js"), "run", "slow.yaml", "--reporter", "plain"], { cwd: dir, reject: false, env: { CI: "true", NO_COLOR: "1" } });
    const runs = path.join(dir, ".atomiton/runs");
    let runId: string | undefined;
    try {
      // Until the event log holds the start of `wait` (the recorder appends it at its next checkpoint).
      for (;;) {
        const log = (await readdir(runs).catch(() => [] as string[])).find((f) => f.endsWith(".ndjson"));
        if (log !== undefined && (await readFile(path.join(runs, log), "utf8")).includes('"nodeId":"wait"')) {
          runId = log.replace(/\.ndjson$/, "");
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      child.kill("SIGKILL");
      await child;
    }
    const r = await atomiton(["replay", runId, "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/wait +started/);
    expect(r.stderr).not.toContain("run ended in");
    expect(r.stderr).toMatch(/run did not finish \(last event at \S+\) — 1 succeeded/);
    expect(r.stderr).toContain(`⚠ run ${runId} was abandoned: its process died before the run finished`);
  });

  test("more than 10 delay nodes at once print no MaxListenersExceededWarning", async () => {
    const nodes = Array.from({ length: 14 }, (_, i) => `  - id: d${i}\n    type: delay\n    parameters: { duration: 20ms }\n`).join("");
    await writeFile(path.join(dir, "delays.yaml"), `nodes:\n${nodes}`);
    for (const extra of [[], ["--timeout", "1m"]]) {
      const r = await atomiton(["run", "delays.yaml", "--reporter", "plain", "--storage", "memory", ...extra], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/14 succeeded/);
      expect(r.stderr).not.toContain("MaxListenersExceededWarning");
    }
  });
});

describe("duration flags", () => {
  // One parser for every duration flag (durationFlag): the same message from every command.
  test.each([
    [["run", "flow.yaml", "--timeout", "soon"]],
    [["run", "flow.yaml", "--remote", "ws://127.0.0.1:9", "--timeout", "soon"]],
    [["run", "flow.yaml", "--queue", "redis://127.0.0.1:9", "--timeout", "soon"]],
  ])("atomiton %j: a usage error naming the flag and the value", async (args) => {
    await writeFile(path.join(dir, "flow.yaml"), VALID);
    const r = await atomiton(args, { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("--timeout: expected a duration such as 30s or 5m, got soon");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("a composite that does not validate, with the CI reporters", () => {
  const BAD = ["nodes:", "  - id: a", "    type: log", "    if: '$input >'", "  - { id: b, type: htp-request }", "edges: [a -> b]", ""].join("\n");

  test("github annotates every problem at its file, line and column; nothing runs, exit 2", async () => {
    await writeFile(path.join(dir, "bad.yaml"), BAD);
    const r = await atomiton(["run", "bad.yaml", "--reporter", "github", "--storage", "memory"], { cwd: dir, env: { GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: dir } });
    expect(r.exitCode).toBe(2);
    const annotations = r.stderr.split("\n").filter((l) => l.startsWith("::"));
    expect(annotations).toEqual([expect.stringMatching(/^::error file=bad\.yaml,line=4,col=\d+,title=E_PARAM::node "a": syntax error in `if`/), expect.stringMatching(/^::error file=bad\.yaml,line=5,col=\d+,title=E_UNKNOWN_TYPE::node "b": unknown node type "htp-request"%0Ahint: did you mean "http-request"\?$/)]);
  });

  test("junit writes a report with one failed testcase per error to --output", async () => {
    await writeFile(path.join(dir, "bad.yaml"), BAD);
    const r = await atomiton(["run", "bad.yaml", "--reporter", "junit", "--output", "junit.xml", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    const xml = await readFile(path.join(dir, "junit.xml"), "utf8");
    expect(xml).toMatch(/<testsuite [^>]*tests="2"[^>]*failures="2"/);
    expect(xml).toMatch(/<testcase [^>]*name="E_PARAM bad\.yaml:4:\d+"/);
    expect(xml).toMatch(/<failure [^>]*type="E_UNKNOWN_TYPE"/);
  });
});
