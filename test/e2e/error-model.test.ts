import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { atomiton, tempDir, useTempDir } from "../helpers/cli.js";

// One error model: the same throwing code body fails the same way in the vm and in
// `isolation: worker` — same code, message and retryable flag, and the same number of attempts
// under `retry: { attempts: 3, delay: 0 }`. One run of the built CLI holds every row twice.

interface Row {
  name: string;
  body: string;
  code: string;
  message: string;
  retryable: boolean;
}

const ROWS: Row[] = [
  { name: "an Error", body: 'throw new Error("x")', code: "E_NODE", message: "x", retryable: true },
  { name: "a TypeError from a bad read", body: "const row = null; return row.total", code: "E_NODE", message: "Cannot read properties of null (reading 'total')", retryable: true },
  { name: "an Error after an await", body: 'await null; throw new Error("later")', code: "E_NODE", message: "later", retryable: true },
  { name: "a string", body: 'throw "x"', code: "E_NODE", message: "x", retryable: true },
  { name: "a number", body: "throw 42", code: "E_NODE", message: "42", retryable: true },
  { name: "null", body: "throw null", code: "E_NODE", message: "null", retryable: true },
  { name: "undefined", body: "throw undefined", code: "E_NODE", message: "undefined", retryable: true },
  { name: "a plain object", body: 'throw { message: "m" }', code: "E_NODE", message: '{"message":"m"}', retryable: true },
  { name: "an Error with an errno code", body: 'throw Object.assign(new Error("gone"), { code: "ENOENT" })', code: "E_NODE", message: "gone", retryable: true },
  { name: "an Error stating its code and retryable", body: 'throw Object.assign(new Error("bad row"), { code: "E_BAD_ROW", retryable: false })', code: "E_BAD_ROW", message: "bad row", retryable: false },
];
const MODES = ["vm", "worker"] as const;

function composite(): string {
  const nodes = ROWS.flatMap((row, i) =>
    MODES.map(
      (mode) => `  - id: ${mode}-${i}
    type: code
    isolation: ${mode}
    onError: continue
    retry: { attempts: 3, delay: 0 }
    parameters:
      code: ${JSON.stringify(row.body)}`,
    ),
  );
  return `name: error-model\nsettings: { concurrency: 4 }\nnodes:\n${nodes.join("\n")}\n`;
}

interface Outcome {
  error: { code: string; message: string; retryable: boolean } | undefined;
  attempts: number | undefined;
  retries: number;
}

let outcomes: Map<string, Outcome>;
let exitCode: number | undefined;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const made = await tempDir();
  cleanup = made.cleanup;
  await writeFile(path.join(made.dir, "flow.yaml"), composite());
  const r = await atomiton(["run", "flow.yaml", "--reporter", "json", "--storage", "memory"], { cwd: made.dir });
  exitCode = r.exitCode;
  const events = r.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { type: string; nodeId?: string; attempt?: number; error?: Outcome["error"] & { stack?: string } });
  outcomes = new Map();
  for (const e of events) {
    if (e.nodeId === undefined) continue;
    const o = outcomes.get(e.nodeId) ?? { error: undefined, attempts: undefined, retries: 0 };
    if (e.type === "node:retry") o.retries++;
    if (e.type === "node:finish") {
      o.attempts = e.attempt;
      o.error = e.error && { code: e.error.code, message: e.error.message, retryable: e.error.retryable };
    }
    outcomes.set(e.nodeId, o);
  }
});

afterAll(async () => {
  await cleanup?.();
});

describe("a throwing code node fails the same way in the vm and in a worker", () => {
  test("the run goes on past every failure (onError: continue) and exits 0", () => {
    expect(exitCode).toBe(0);
    expect(outcomes.size).toBe(ROWS.length * MODES.length);
  });

  test.each(ROWS.map((row, i) => ({ ...row, i })))("$name: $body", ({ i, code, message, retryable }) => {
    const expected: Outcome = { error: { code, message, retryable }, attempts: retryable ? 3 : 1, retries: retryable ? 2 : 0 };
    expect(outcomes.get(`vm-${i}`)).toEqual(expected);
    expect(outcomes.get(`worker-${i}`)).toEqual(expected);
  });
});

describe("exit codes follow the error's code", () => {
  let dir = "";
  useTempDir((d) => (dir = d));

  test("a storage failure is a failed command (1), not a usage error (2)", async () => {
    await writeFile(path.join(dir, "hello.yaml"), "name: hello\nnodes:\n  - { id: a, type: log, parameters: { message: hi } }\n");
    await writeFile(path.join(dir, "not-a-dir"), "");
    const r = await atomiton(["composites", "add", "hello.yaml", "--data-dir", "not-a-dir"], { cwd: dir });
    expect(r.stderr).toMatch(/E_STORAGE the data directory .*not-a-dir is not a directory/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.exitCode).toBe(1);
  });

  test("a usage error still exits 2", async () => {
    const r = await atomiton(["composites", "show", "nope", "--data-dir", path.join(dir, "empty")], { cwd: dir });
    expect(r.stderr).toContain('E_NOT_FOUND no stored composite "nope"');
    expect(r.exitCode).toBe(2);
  });
});
