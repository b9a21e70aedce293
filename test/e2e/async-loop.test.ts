import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { atomiton, tempDir } from "../helpers/cli.js";

// An endless async loop in the vm (`for (;;) await null;`) starved the event loop: no timeout,
// no Ctrl-C, no SIGTERM ended it. Async code now runs its promise chain inside the call, under the
// same time limit as sync code.

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir("atomiton-async-loop-"));
});
afterEach(async () => cleanup());

const flow = (timeout: string) => `name: spin
nodes:
  - id: spin
    type: code${timeout}
    parameters:
      code: "for (;;) { await null; }"
  - id: fine
    type: code
    parameters:
      code: "const x = await Promise.resolve(20); return x + 1;"
`;

// With --timeout 3s, the vm's own limit (5 s by default) ends the call, and the run's timer, which
// came due meanwhile, then takes effect before the node's failure: the node ends cancelled by the
// run timeout, as it would have at 3 s had it yielded.
test.each([
  { name: "the node's timeout", nodeTimeout: "\n    timeout: 2s", args: [] as string[], limit: /2000ms/, spin: /spin\s+failed .*E_TIMEOUT/, status: "failed" },
  { name: "--timeout 3s (the vm's time limit, 5 s by default, ends the call)", nodeTimeout: "", args: ["--timeout", "3s"], limit: /E_TIMEOUT: run timed out after 3000ms/, spin: /spin\s+cancelled: run timed out after 3000ms/, status: "cancelled" },
])("an endless async loop without isolation is ended by $name: exit 1, record saved", async ({ nodeTimeout, args, limit, spin, status }) => {
  await writeFile(path.join(dir, "flow.yaml"), flow(nodeTimeout));
  // The CLI's own timeout (60 s) only guards the test; before the fix the CLI never exited.
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", ...args], { cwd: dir, timeout: 60_000 });
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toMatch(spin);
  expect(r.stderr).toMatch(limit);
  const runs = path.join(dir, ".atomiton", "runs");
  const [name] = (await readdir(runs)).filter((f) => f.endsWith(".json"));
  const record = JSON.parse(await readFile(path.join(runs, name!), "utf8")) as { status: string; nodes: Record<string, { status: string }> };
  expect(record.status).toBe("failed");
  expect(record.nodes.spin?.status).toBe(status);
}, 90_000);
