import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// A short secret (under 8 characters) is redacted where it stands alone, never inside a longer run of
// letters and digits: a 4-character secret cut `***` into every hash and hex id of logs and records.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-short-secrets-");

const SECRET = "abc1";
// A sha-like hash that happens to hold the secret, its hex (61626331) and its base64 (YWJjMQ).
const HASH = "9f3abc1e0d4c7b2a61626331ffee00aa59574a6a4d51";

const COMPOSITE = `secrets: [PIN]
nodes:
  - id: show
    type: log
    parameters:
      message: "commit ${HASH} pin={{ $env.PIN }} done"
  - id: out
    type: code
    parameters:
      code: "return { hash: '${HASH}', pin: $env.PIN }"
edges:
  - show -> out
`;

describe("a 4-character secret", () => {
  test.each(["plain", "json"])("is *** where it stands alone, and hashes holding it stay whole (--reporter %s, the record, the event log, --output)", async (reporter) => {
    await writeFile(path.join(dir, "flow.yaml"), COMPOSITE);
    const r = await atomiton(["run", "flow.yaml", "--reporter", reporter, "--data-dir", ".data", "--output", "out.json"], { cwd: dir, env: { PIN: SECRET } });
    expect(r.exitCode, r.stderr).toBe(0);
    const runs = path.join(dir, ".data/runs");
    const stored = await Promise.all((await readdir(runs)).map((name) => readFile(path.join(runs, name), "utf8")));
    const output = await readFile(path.join(dir, "out.json"), "utf8");
    for (const [where, text] of [["terminal", r.stdout + r.stderr], ...stored.map((t, i) => [`stored file ${i}`, t])] as const) {
      expect(text, where).toContain(HASH);
      expect(text, where).toMatch(/pin=\*\*\*|"pin": ?"\*\*\*"/);
      expect(text.replaceAll(HASH, ""), where).not.toContain(SECRET);
    }
    expect(JSON.parse(output)).toEqual({ hash: HASH, pin: "***" });
    expect(stored.length).toBe(2); // the record and the event log
  });
});
