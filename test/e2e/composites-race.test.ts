import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// `composites add --id same` from several processes at once, without --force: the store is an
// exclusive create, so exactly one reports "stored" and every other one fails clearly (issue 12, item 9).

let dir = "";
useTempDir((d) => (dir = d), "atomiton-race-");

const variant = (n: number) => `name: variant-${n}
nodes:
  - id: say
    type: code
    parameters: { code: "return ${n}" }
`;

describe("concurrent composites add", () => {
  // A race: before the fix, 12 processes stored the id 2-3 times in most rounds (exists, then write);
  // two rounds make a lucky pass of the old code unlikely. The exclusive create holds in every round.
  test.each([0, 1])("round %i: 12 processes, one id, no --force: exactly one stores it, the others exit 2 naming it", async (round) => {
    const id = `same-${round}`;
    const files = await Promise.all(
      Array.from({ length: 12 }, async (_, n) => {
        const file = path.join(dir, `v${n}.yaml`);
        await writeFile(file, variant(n));
        return file;
      }),
    );
    const results = await Promise.all(files.map((file) => atomiton(["composites", "add", file, "--id", id], { cwd: dir })));
    const stored = results.filter((r) => r.exitCode === 0);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.stdout).toMatch(new RegExp(`^stored ${id} `));
    for (const r of results.filter((x) => x.exitCode !== 0)) {
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`a composite "${id}" is already stored`);
      expect(r.stdout).toBe("");
    }
    // The one that said "stored" is the one that is stored.
    const winner = results.indexOf(stored[0]!);
    expect(await readFile(path.join(dir, `.atomiton/composites/${id}.yaml`), "utf8")).toBe(variant(winner));
  });

  test("--force still replaces", async () => {
    await writeFile(path.join(dir, "a.yaml"), variant(1));
    await writeFile(path.join(dir, "b.yaml"), variant(2));
    expect((await atomiton(["composites", "add", "a.yaml", "--id", "x"], { cwd: dir })).exitCode).toBe(0);
    expect((await atomiton(["composites", "add", "b.yaml", "--id", "x"], { cwd: dir })).exitCode).toBe(2);
    expect((await atomiton(["composites", "add", "b.yaml", "--id", "x", "--force"], { cwd: dir })).exitCode).toBe(0);
    expect(await readFile(path.join(dir, ".atomiton/composites/x.yaml"), "utf8")).toBe(variant(2));
  });
});
