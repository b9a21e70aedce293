import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { startServe, TestClient } from "../helpers/serve.js";

// A queued run takes its id when it is submitted and its startedAt when a worker starts it: run ids
// and start times can disagree. serve's runs.list sorted by run id while `atomiton runs` sorts by
// startedAt, so the two listed such runs in different orders.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-runs-order-");

test("runs.list lists runs in the order of atomiton runs: newest startedAt first, whatever the run ids", async () => {
  await writeFile(path.join(dir, "a.yaml"), "name: a\nnodes:\n  - { id: v, type: edit-fields, parameters: { values: { a: 1 } } }\n");
  const data = path.join(dir, "data");
  for (let i = 0; i < 3; i++) expect((await atomiton(["run", "a.yaml", "--reporter", "silent", "--data-dir", data], { cwd: dir })).exitCode).toBe(0);
  const byId = (JSON.parse((await atomiton(["runs", "--json", "--data-dir", data], { cwd: dir })).stdout) as { runId: string }[]).map((r) => r.runId).sort();
  expect(byId).toHaveLength(3);
  // The first submitted (smallest id) started last, as a run that waited in the queue does.
  const first = path.join(data, "runs", `${byId[0]}.json`);
  const record = JSON.parse(await readFile(first, "utf8")) as { startedAt: string };
  record.startedAt = new Date(Date.now() + 60_000).toISOString();
  await writeFile(first, JSON.stringify(record));

  const cli = (JSON.parse((await atomiton(["runs", "--json", "--data-dir", data], { cwd: dir })).stdout) as { runId: string }[]).map((r) => r.runId);
  // (The other two keep their order by startedAt, which two runs in one second need not share with their ids.)
  expect(cli[0]).toBe(byId[0]);
  expect(cli).toHaveLength(3);
  const server = await startServe(["--data-dir", data], { cwd: dir });
  try {
    const c = await TestClient.open(server.url, { token: server.token });
    const listed = (await c.request("runs.list", {})) as { runId: string; startedAt: string }[];
    expect(listed.map((r) => r.runId)).toEqual(cli);
    const limited = (await c.request("runs.list", { limit: 1 })) as { runId: string }[];
    expect(limited.map((r) => r.runId)).toEqual([byId[0]]);
    c.close();
  } finally {
    await server.stop();
  }
});
