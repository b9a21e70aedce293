import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// What the flags and settings promise is what happens: the working directory, --var names and
// types, onError: continue.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-config-");

/** A composite that reads `where.txt` and prints the shell's directory, both relative to the workdir. */
const READS_WHERE = (settings: string) => `name: where
${settings}nodes:
  - id: read
    type: file-system
    parameters: { operation: read, path: where.txt }
  - id: pwd
    type: shell-command
    parameters: { command: pwd }
  - id: out
    type: code
    parameters: { code: "return $nodes.read.trim() + ' ' + $nodes.pwd.stdout" }
edges: [read -> out, pwd -> out]
`;

describe("the working directory", () => {
  async function layout(settings: string): Promise<string> {
    await mkdir(path.join(dir, "flows/data"), { recursive: true });
    await mkdir(path.join(dir, "elsewhere"), { recursive: true });
    await writeFile(path.join(dir, "where.txt"), "cwd\n");
    await writeFile(path.join(dir, "flows/data/where.txt"), "settings\n");
    await writeFile(path.join(dir, "elsewhere/where.txt"), "flag\n");
    const file = path.join(dir, "flows/where.yaml");
    await writeFile(file, READS_WHERE(settings));
    return file;
  }

  test.each([
    { when: "nothing is set: the cwd", settings: "", args: [], expected: ["cwd", ""] },
    { when: "settings.workdir: relative to the composite file", settings: "settings: { workdir: data }\n", args: [], expected: ["settings", "flows/data"] },
    { when: "--workdir: relative to the cwd, over settings.workdir", settings: "settings: { workdir: data }\n", args: ["--workdir", "elsewhere"], expected: ["flag", "elsewhere"] },
  ])("$when", async ({ settings, args, expected }) => {
    const file = await layout(settings);
    const r = await atomiton(["run", file, "--reporter", "plain", "--storage", "memory", ...args], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const [content, sub] = expected as [string, string];
    expect(r.stdout.trim()).toBe(`${content} ${path.join(dir, sub)}`.replace(/\/$/, ""));
  });

  test.each([
    { what: "--workdir", settings: "", args: ["--workdir", "nowhere"], message: /--workdir nowhere: .*nowhere does not exist/ },
    { what: "settings.workdir", settings: "settings: { workdir: nowhere }\n", args: [], message: /E_USAGE flows\/where\.yaml:2:22 settings\.workdir nowhere: .*flows\/nowhere does not exist/ },
    { what: "--workdir that is a file", settings: "", args: ["--workdir", "flows/plain.txt"], message: /--workdir flows\/plain\.txt: .*plain\.txt is not a directory/ },
  ])("a missing $what is a usage error before anything runs, also with --dry-run", async ({ settings, args, message }) => {
    const file = await layout(settings);
    await writeFile(path.join(dir, "flows", "plain.txt"), "not a directory\n");
    for (const dry of [[], ["--dry-run"]]) {
      const r = await atomiton(["run", file, "--reporter", "plain", "--storage", "memory", ...args, ...dry], { cwd: dir });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/read\s+started/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });
});

describe("--var", () => {
  const VARS = `name: vars
variables:
  name: { type: string, default: world }
  limit: { type: number, default: 3 }
nodes:
  - id: say
    type: code
    parameters: { code: "return $vars.name + ' ' + $vars.limit" }
`;

  test.each([
    { args: ["--var", "nmae=Ada"], message: '--var "nmae": the composite has no such variable', hint: 'did you mean "name"?' },
    { args: ["--var", "nmae=Ada", "--var", "lmit=5"], message: '--var "nmae", "lmit": the composite has no such variables', hint: 'did you mean "name" for "nmae", "limit" for "lmit"?' },
    { args: ["--var", "zzz=1"], message: '--var "zzz": the composite has no such variable', hint: "its variables: name, limit" },
    // Taken as the object's prototype, it used to vanish without a word.
    { args: ["--var", "__proto__=x"], message: '--var "__proto__": the composite has no such variable', hint: "its variables: name, limit" },
    { args: ["--var", "limit=lots"], message: 'variable "limit" is declared as number; cannot use "lots"', hint: "pass a number, e.g. --var limit=5" },
  ])("$args: an error with a hint, exit 2, in a real run and a dry run alike", async ({ args, message, hint }) => {
    await writeFile(path.join(dir, "vars.yaml"), VARS);
    for (const dry of [[], ["--dry-run"]]) {
      const r = await atomiton(["run", "vars.yaml", "--reporter", "plain", "--storage", "memory", ...args, ...dry], { cwd: dir });
      expect(r.exitCode, `${dry.join("")}\n${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`E_USAGE ${message}`);
      expect(r.stderr).toContain(`hint: ${hint}`);
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toMatch(/say\s+started/);
    }
  });

  test("a variable the composite reads without declaring it can be passed (the E_REF hint says so)", async () => {
    await writeFile(path.join(dir, "vars.yaml"), VARS.replace("$vars.limit", "$vars.limit + ' ' + $vars.extra"));
    const r = await atomiton(["run", "vars.yaml", "--reporter", "plain", "--storage", "memory", "--var", "name=Ada", "--var", "limit=5", "--var", "extra=!"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("Ada 5 !");
  });

  test("a mistyped --var of a variable the composite reads without declaring: the hint names the typo on the command line", async () => {
    await writeFile(path.join(dir, "vars.yaml"), VARS.replace("$vars.limit", "$vars.limit + ' ' + $vars.extra"));
    const r = await atomiton(["run", "vars.yaml", "--reporter", "plain", "--storage", "memory", "--var", "exta=!"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("$vars.extra is not a declared variable");
    // It used to say `did you mean "exta"?`: copy the typo into the file.
    expect(r.stderr).toContain('hint: --var exta looks like a typo of "extra": pass --var extra=…, or declare "extra" under `variables:`');
  });
});

describe("flags that mean something only with another one", () => {
  test.each([
    { args: ["--debounce", "100"], message: "--debounce works only with --watch" },
    { args: ["--token", "t0k"], message: "--token works only with --remote" },
    { args: ["--queue-timeout", "3s"], message: "--queue-timeout works only with --queue" },
    { args: ["--queue-name", "jobs"], message: "--queue-name works only with --queue or --storage redis" },
    { args: ["--redis", "redis://127.0.0.1:1"], message: "--redis works only with --storage redis" },
    { args: ["--storage", "memory", "--data-dir", "runs"], message: "--data-dir works only with --storage filesystem (the default)" },
  ])("$args alone is a usage error (exit 2), not dropped without a word", async ({ args, message }) => {
    await writeFile(path.join(dir, "ok.yaml"), "nodes:\n  - { id: a, type: log, parameters: { message: hi } }\n");
    const r = await atomiton(["run", "ok.yaml", "--reporter", "plain", ...args], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`E_USAGE ${message}`);
    expect(r.stderr).not.toMatch(/a\s+started/);
  });
});

test("--pin of a node in a composite with no nodes says so (the hint listed nothing after 'its nodes:')", async () => {
  await writeFile(path.join(dir, "empty.yaml"), "name: empty\nnodes: []\n");
  const r = await atomiton(["run", "empty.yaml", "--pin", "a=1", "--storage", "memory"], { cwd: dir });
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('E_USAGE --pin a: the composite has no node "a"');
  expect(r.stderr).toContain("hint: the composite has no nodes");
});

describe("onError: continue", () => {
  const CONTINUES = `name: continues
nodes:
  - id: boom
    type: code
    onError: continue
    parameters: { code: "throw new Error('kaput')" }
  - id: after
    type: code
    parameters: { code: "return { input: data, fromNodes: $nodes.boom, listed: 'boom' in $nodes }" }
edges: [boom -> after]
`;

  test("passes null on, as input and as $nodes.<id>, and the summary says the run went on", async () => {
    await writeFile(path.join(dir, "continues.yaml"), CONTINUES);
    for (const reporter of ["plain", "github"]) {
      const r = await atomiton(["run", "continues.yaml", "--reporter", reporter, "--storage", "memory"], { cwd: dir, env: { GITHUB_ACTIONS: reporter === "github" ? "true" : "" } });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ input: null, fromNodes: null, listed: true });
      expect(r.stderr).toMatch(/boom +failed .*E_NODE: kaput \(onError: continue, passing null on\)/);
      expect(r.stderr).not.toContain("Failed (1):");
      expect(r.stderr).toContain("Failed, run went on (1) — onError: continue passed null on:\n  ✖ boom E_NODE: kaput");
      expect(r.stderr).toMatch(/run succeeded in \S+ — 1 succeeded, 1 failed \(1 continued\), 0 skipped/);
    }
  });

  test("onError: fail cancels every pending node, downstream or not (as the README says)", async () => {
    await writeFile(
      path.join(dir, "fails.yaml"),
      `name: fails
nodes:
  - id: boom
    type: code
    parameters: { code: "throw new Error('kaput')" }
  - id: slow
    type: delay
    parameters: { duration: 30s }
  - id: after
    type: code
    parameters: { code: "return 1" }
edges: [boom -> after]
`,
    );
    const r = await atomiton(["run", "fails.yaml", "--reporter", "json", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const finishes = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "node:finish");
    expect(Object.fromEntries(finishes.map((e) => [e.nodeId, e.status]))).toEqual({ boom: "failed", slow: "cancelled", after: "cancelled" });
  });
});
