import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";

// Messages a person can use: short code frames, one clear problem for a file that is not text,
// YAML mistakes with the fix in the hint, shell failures with their stderr, counts that agree.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-messages-");

const VALID = `nodes:
  - id: a
    type: code
    parameters: { code: "return 1" }
`;

describe("files that are not plain UTF-8 YAML", () => {
  test("a 300,000-character line prints a code frame cut around the column", async () => {
    const long = "a".repeat(300_000);
    await writeFile(path.join(dir, "long.yaml"), `nodes:\n  - id: a\n    type: code\n    parameters: { code: "return 1", x: ${long} }}\n`);
    const r = await atomiton(["validate", "long.yaml"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("E_YAML long.yaml:4:");
    expect(r.stdout.length + r.stderr.length).toBeLessThan(2000);
    const lines = r.stderr.split("\n");
    const marked = lines.findIndex((l) => l.includes("> 4 | …"));
    expect(marked, r.stderr).toBeGreaterThan(-1);
    // The caret sits under the column it names: the "}" after the long value.
    const caret = lines[marked + 1]!.indexOf("^");
    expect(lines[marked]![caret]).toBe("}");
    expect(lines[marked - 1]).toContain("type: code"); // short context lines stay whole
  });

  test.each([
    { what: "a binary file", bytes: Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00]), Buffer.alloc(2000, 0x9c)]), message: "binary.yaml:1:8 this is a binary file, not a YAML composite (a NUL byte at line 1, column 8)" },
    { what: "a Latin-1 file", bytes: Buffer.from(`name: caf\xe9\n${VALID}`, "latin1"), message: "binary.yaml:1:10 the file is not UTF-8 text: byte 0xE9 at line 1, column 10 is not valid UTF-8" },
    { what: "a UTF-16 file", bytes: Buffer.from(`\ufeff${VALID}`, "utf16le"), message: "binary.yaml:1:1 the file is UTF-16 text; composites are read as UTF-8" },
  ])("$what is one E_ENCODING problem, for validate and run alike", async ({ bytes, message }) => {
    await writeFile(path.join(dir, "binary.yaml"), bytes);
    for (const args of [["validate", "binary.yaml"], ["run", "binary.yaml", "--reporter", "plain", "--storage", "memory"]]) {
      const r = await atomiton(args, { cwd: dir });
      expect(r.exitCode).toBe(2);
      const problems = r.stderr.split("\n").filter((l) => /^✖ error /.test(l));
      expect(problems).toEqual([`✖ error E_ENCODING ${message}`]);
      expect(r.stderr).toContain("hint: ");
      // No raw bytes on the terminal.
      expect(r.stderr + r.stdout).not.toMatch(/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/);
    }
  });

  test("a UTF-8 byte order mark is accepted and not counted as a column", async () => {
    await writeFile(path.join(dir, "bom.yaml"), `\ufeffnme: x\n${VALID}`);
    const v = await atomiton(["validate", "bom.yaml"], { cwd: dir });
    expect(v.exitCode).toBe(0);
    expect(v.stderr).toContain("W_UNKNOWN_KEY bom.yaml:1:1 unknown key `nme`");
    expect(v.stderr).toContain("> 1 | nme: x\n");
    const r = await atomiton(["run", "bom.yaml", "--reporter", "plain", "--storage", "memory"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("1");
  });
});
