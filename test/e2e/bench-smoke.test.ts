import path from "node:path";
import { execa } from "execa";
import { expect, test } from "vitest";
import { ROOT } from "../helpers/cli.js";

// CI keeps the benchmark from rotting: the quick bench runs every row at small sizes. Speed is
// not asserted here (that is what `npm run bench` reports), only that every measurement completes.
test("npm run bench's quick mode completes every row", async () => {
  const r = await execa("node", [path.join(ROOT, "bench/run.js"), "--quick"], { cwd: ROOT, reject: false, timeout: 120_000, env: { CI: "true" } });
  expect(r.exitCode, r.stderr).toBe(0);
  const out = String(r.stdout);
  for (const row of ["chain 100 c=16 · silent ÷ baseline", "fan-out 100", "grid 10×10", "concurrent runs of 10 nodes", "cold start · atomiton --version ÷ node -e 0", "tty 300-node chain · tty ÷ silent", "end to end · chain 1k concise · per node", "end to end · chain 1k flow-era · total"]) {
    expect(out, row).toContain(row);
  }
  expect(out).not.toMatch(/crashed/);
}, 150_000);
