import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// `atomiton run --resume <runId>`: a failed run is fixed and resumed; unchanged nodes are reused
// from the record, the failed and changed ones and everything downstream of them run again.

/** n1 → n2 → n3 → n4 → n5; n4 throws until fixed. No --input: root nodes get undefined both times. */
function chain(n4: string, n2 = "return data + 1"): string {
  return `name: chain
nodes:
  - { id: n1, type: code, parameters: { code: "return 1" } }
  - { id: n2, type: code, parameters: { code: "${n2}" } }
  - { id: n3, type: code, parameters: { code: "return data + 1" } }
  - { id: n4, type: code, parameters: { code: "${n4}" } }
  - { id: n5, type: code, parameters: { code: "return data * 10" } }
edges: [n1 -> n2, n2 -> n3, n3 -> n4, n4 -> n5]
`;
}
const BROKEN = chain("throw new Error('broken at n4')");
const FIXED = chain("return data + 1");

interface Event {
  type: string;
  nodeId?: string;
  status?: string;
  reused?: boolean;
  reason?: string;
  output?: unknown;
}

let dir: string;
useTempDir((d) => (dir = d), "atomiton-resume-");

/** Run the broken chain once; returns the failed run's id. */
async function failedRun(): Promise<string> {
  await writeFile(path.join(dir, "chain.yaml"), BROKEN);
  const r = await atomiton(["run", "chain.yaml", "--reporter", "plain"], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/n4\s+failed .*E_NODE: broken at n4/);
  const [record] = (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"));
  return record!.replace(/\.json$/, "");
}

describe("atomiton run --resume", () => {
  test.each([
    { name: "fix n4, resume by run id alone", composite: FIXED, withFile: false, reran: ["n4", "n5"], reused: ["n1", "n2", "n3"] },
    { name: "fix n4, resume with the file argument", composite: FIXED, withFile: true, reran: ["n4", "n5"], reused: ["n1", "n2", "n3"] },
    // Same output, different parameters: n2 runs again, and so does everything downstream of it.
    { name: "fix n4 and edit n2", composite: chain("return data + 1", "return (data + 1)"), withFile: true, reran: ["n2", "n3", "n4", "n5"], reused: ["n1"] },
  ])("$name: only $reran run again", async ({ composite, withFile, reran, reused }) => {
    const runId = await failedRun();
    await writeFile(path.join(dir, "chain.yaml"), composite);

    const r = await atomiton(["run", ...(withFile ? ["chain.yaml"] : []), "--resume", runId, "--reporter", "json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Event);
    expect(events.filter((e) => e.type === "node:start").map((e) => e.nodeId)).toEqual(reran);
    const finishes = new Map(events.filter((e) => e.type === "node:finish").map((e) => [e.nodeId!, e]));
    for (const id of reused) expect(finishes.get(id), id).toMatchObject({ status: "succeeded", reused: true, reason: `reused from run ${runId}` });
    for (const id of reran) {
      expect(finishes.get(id)?.status, id).toBe("succeeded");
      expect(finishes.get(id)?.reused, id).toBeUndefined();
    }
    expect(events.at(-1)).toMatchObject({ type: "run:finish", status: "succeeded", output: 40 });

    // The resumed run has its own record; the failed one is untouched.
    const records = (await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"));
    expect(records).toHaveLength(2);
    const old = JSON.parse(await readFile(path.join(dir, ".atomiton/runs", `${runId}.json`), "utf8"));
    expect(old.status).toBe("failed");
  });

  test("a node whose recorded output is binary data runs again, and the resume says so by name (it was silent)", async () => {
    await writeFile(
      path.join(dir, "bin.yaml"),
      'name: bin\nnodes:\n  - { id: bytes, type: code, parameters: { code: "return new Uint8Array([1,2,3])" } }\n  - { id: use, type: code, parameters: { code: "if ($env.FAIL === \\"1\\") throw new Error(\\"down\\"); return data.length" } }\nedges: [bytes -> use]\n',
    );
    const failed = await atomiton(["run", "bin.yaml", "--reporter", "plain"], { cwd: dir, env: { FAIL: "1" } });
    expect(failed.exitCode, failed.stderr).toBe(1);
    const runId = (await readdir(path.join(dir, ".atomiton/runs"))).find((f) => f.endsWith(".json"))!.replace(/\.json$/, "");
    const r = await atomiton(["run", "--resume", runId, "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`⚠ node "bytes" runs again, and the nodes after it: its output in run ${runId} is binary data, which JSON cannot restore`);
    expect(r.stderr).toMatch(/bytes\s+started/);
    // A resume that reuses everything it can warns about nothing.
    expect((await atomiton(["run", "--resume", runId, "--reporter", "plain"], { cwd: dir })).stderr).not.toContain('"use" runs again');
  });

  test("a run of another composite is resumed with a warning that names both (it was silent)", async () => {
    const runId = await failedRun();
    await writeFile(path.join(dir, "other.yaml"), FIXED.replace("name: chain", "name: other"));
    const r = await atomiton(["run", "other.yaml", "--resume", runId, "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`run ${runId} is of composite "chain" \\(.*chain\\.yaml\\), not "other": only nodes identical in both are reused`));
    // The same composite, fixed: no such warning.
    await writeFile(path.join(dir, "chain.yaml"), FIXED);
    const same = await atomiton(["run", "chain.yaml", "--resume", runId, "--reporter", "plain"], { cwd: dir });
    expect(same.stderr).not.toContain("is of composite");
  });

  test.each([
    { name: "an unknown run id", id: "20000101T000000-abcdef", hint: /hint: list runs with `atomiton runs`/ },
    { name: "a near miss", id: "", hint: /hint: did you mean "\d{8}T\d{6}-[0-9a-f]{6}"\?/ },
  ])("$name exits 2 with E_NOT_FOUND and a hint, running nothing", async ({ id, hint }) => {
    const runId = await failedRun();
    // The near miss changes the last character (a prefix would be resumed: see below).
    const wrong = id || `${runId.slice(0, -1)}${runId.endsWith("0") ? "1" : "0"}`;
    const r = await atomiton(["run", "--resume", wrong, "--reporter", "json"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`E_NOT_FOUND --resume ${wrong}: no such run in`);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect((await readdir(path.join(dir, ".atomiton/runs"))).filter((f) => f.endsWith(".json"))).toHaveLength(1);
  });

  test("a unique prefix of the run id is enough, as for runs show and replay", async () => {
    const runId = await failedRun();
    await writeFile(path.join(dir, "chain.yaml"), FIXED);
    const r = await atomiton(["run", "--resume", runId.slice(0, 15), "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`reused from run ${runId}`);
  });
});
