import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { BIN, useTempDir } from "../helpers/cli.js";

// The debugger prompt shows a node's inputs and error, which come from the data: JSON escapes C0
// controls but not the 8-bit CSI (U+009B) or bidi overrides, which reached the terminal raw.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-debug-escapes-");

const COMPOSITE = String.raw`nodes:
  - id: a
    type: code
    parameters:
      code: "return 'x\u009b2Jy\u202ez'"
  - id: b
    type: code
    parameters:
      code: "throw new Error('boom\u009b2J\u202e!')"
edges:
  - a -> b
`;

describe("the debugger prompt on a terminal", () => {
  test("shows C1 and bidi controls in inputs and errors as escapes", async () => {
    await writeFile(path.join(dir, "dbg.yaml"), COMPOSITE);
    // script(1) gives the CLI a pseudo-terminal; the `q` it forwards is read at the prompt and cancels the run.
    const r = await execa("script", ["-qec", `stty cols 120; node "${BIN}" run dbg.yaml --break-on-error --storage memory`, "/dev/null"], {
      cwd: dir,
      reject: false,
      input: "q\n",
      env: { CI: undefined, NO_COLOR: undefined, TERM: "xterm-256color" },
    });
    expect(r.stdout).toContain("paused");
    expect(r.stdout).toContain(String.raw`E_NODE: boom\x9b2J\u202e!`);
    expect(r.stdout).toContain(String.raw`"x\x9b2Jy\u202ez"`);
    expect(r.stdout).not.toMatch(/[\u0080-\u009f\u202a-\u202e]/);
  });
});
