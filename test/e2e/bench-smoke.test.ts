import path from "node:path";
import { execa } from "execa";
import { expect, test } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { redisAvailability } from "../helpers/redis.js";

const redis = redisAvailability();
if (!redis.available) console.warn(`${redis.reason} (the bench's queue rows are then expected to fail with that hint)`);

// CI keeps the benchmark from rotting: the quick bench runs every row at small sizes. Speed is
// not asserted here (that is what `npm run bench` reports), only that every measurement completes.
test("npm run bench's quick mode completes every row", async () => {
  const r = await execa("node", [path.join(ROOT, "bench/run.js"), "--quick"], { cwd: ROOT, reject: false, timeout: 120_000, env: { CI: "true", ...(process.env.ATOMITON_TEST_REDIS_URL ? { ATOMITON_BENCH_REDIS_URL: process.env.ATOMITON_TEST_REDIS_URL } : {}) } });
  expect(r.exitCode, r.stderr).toBe(0);
  const out = String(r.stdout);
  for (const row of ["chain 100 c=16 · silent ÷ baseline", "fan-out 100", "grid 10×10", "concurrent runs of 10 nodes", "cold start · atomiton --version ÷ node -e 0", "tty 300-node chain · tty ÷ silent", "end to end · chain 1k concise · per node", "end to end · chain 1k flow-era · total"]) {
    expect(out, row).toContain(row);
  }
  expect(out).not.toMatch(/crashed/);
  // Queue rows need Redis: the test's own, or a redis-server the bench starts.
  if (redis.available) expect(out).toMatch(/queue · runs\/s ÷ bare BullMQ jobs\/s, 2 worker\(s\)\s+[\d.]+\s+%/);
  else expect(out).toMatch(/queue\s+failed\s+no redis-server \(apt-get install redis-server\)/);
}, 150_000);
