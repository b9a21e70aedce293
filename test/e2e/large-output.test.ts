// Issue 12, item 7: a ~300 MB node output. It used to print "run succeeded", then fail the final save
// ("Invalid string length": the record held the output twice), leaving the record `running`. Now
// the record and the event log keep a marker for outputs over the cap, the run warns, and it ends
// with one verdict.
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { expect, test } from "vitest";
import { atomiton, BIN, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-large-");

const COMPOSITE = `id: big
name: big
nodes:
  - id: huge
    type: code
    parameters:
      code: "return 'x'.repeat(3e8)"
  - id: size
    type: code
    parameters:
      code: "return $nodes.huge.length"
edges:
  - { source: huge, target: size }
`;

test("a 300 MB output: one verdict, exit 0, a saved record that holds a marker instead of the output", async () => {
  await writeFile(path.join(dir, "big.yaml"), COMPOSITE);
  const out = path.join(dir, "stdout.txt");
  const r = await execa("node", [BIN, "run", "big.yaml", "--reporter", "plain"], {
    cwd: dir,
    reject: false,
    env: { NO_COLOR: "1", CI: "true" },
    stdin: "ignore",
    stdout: { file: out },
    timeout: 240_000,
  });
  const stderr = String(r.stderr);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toMatch(/E_NODE|E_STORAGE|Invalid string length|run failed/);
  expect(stderr.match(/run succeeded/g)).toHaveLength(1);
  expect(stderr).toMatch(/huge .*warn: output too large for the run record \(\d+ characters of JSON; the limit is \d+\)/);
  expect(r.exitCode).toBe(0);

  // The downstream node got the output in full.
  const runId = /run (\S+) saved to/.exec(stderr)![1]!;
  const record = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", `${runId}.json`), "utf8")) as {
    status: string;
    nodes: Record<string, { output?: unknown; reusable?: boolean }>;
  };
  expect(record.status).toBe("succeeded");
  expect(record.nodes.size!.output).toBe(3e8);
  expect(record.nodes.huge!.output).toMatchObject({ $omitted: expect.stringContaining("too large") as unknown, preview: "x".repeat(200) });
  expect(record.nodes.huge!.reusable).toBe(false);
  // Neither the record nor the event log holds the output (once or twice).
  expect((await stat(path.join(dir, ".atomiton/runs", `${runId}.json`))).size).toBeLessThan(1_000_000);
  expect((await stat(path.join(dir, ".atomiton/runs", `${runId}.ndjson`))).size).toBeLessThan(1_000_000);

  const shown = await atomiton(["runs", "show", runId], { cwd: dir });
  expect(shown.exitCode).toBe(0);
  expect(shown.stdout).toMatch(/succeeded/);
}, 300_000);
