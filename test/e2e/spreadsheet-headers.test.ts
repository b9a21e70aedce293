// Columns lost without a word when reading a CSV: a header named `__proto__` (an assignment set
// the record's prototype), a duplicate that took a name another column already had (`a,a,a_2`:
// the second `a` became `a_2`, then the third column overwrote it), and an extra cell of a wider row
// named like a header (`columnN`). Every column now has a key of its own.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

let dir: string;
useTempDir((d) => (dir = d), "atomiton-sheet-headers-");

test.each([
  // Expected records as JSON text: in an object literal `__proto__` would not be a key.
  ["a column named __proto__", "__proto__,constructor,name\n1,2,3\n", '[{ "__proto__": "1", "constructor": "2", "name": "3" }]'],
  ["duplicates next to a name their suffix takes", "a,a,a_2\n1,2,3\n", '[{ "a": "1", "a_2": "2", "a_2_2": "3" }]'],
  ["an extra cell where a header is named column3", "column3,b\n1,2,3\n", '[{ "column3": "1", "b": "2", "column3_2": "3" }]'],
])("%s: every column is kept", async (_name, csv, expected) => {
  await writeFile(path.join(dir, "in.csv"), csv);
  await writeFile(path.join(dir, "flow.yaml"), "name: sheet\nnodes:\n  - id: r\n    type: spreadsheet\n    parameters: { path: in.csv }\n");
  const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", "--storage", "memory", "--output", "-"], { cwd: dir });
  expect(r.exitCode).toBe(0);
  const entries = (json: string): unknown[] => (JSON.parse(json) as object[]).map((record) => Object.entries(record));
  expect(entries(r.stdout)).toEqual(entries(expected));
});
