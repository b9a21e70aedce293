import { execFileSync, spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT } from "../../helpers/cli.js";

// The sandbox ignores rejections of promises made inside it (user code's business), through a process
// 'unhandledRejection' listener. The host's own must stay as Node leaves them: fatal by default, and
// the embedding program's when it listens itself. Needs the built dist/index.js; a process each.

const DIST = pathToFileURL(path.join(ROOT, "dist/index.js")).href;
const RUN_CODE = `
import { createConductor, loadCompositeFromText } from ${JSON.stringify(DIST)};
const { composite } = loadCompositeFromText("nodes:\\n  - { id: c, type: code, parameters: { code: 'Promise.reject(new Error(\\"inside\\")); return 1' } }\\n", { file: "f.yaml" });
const result = await createConductor({}).execute({ composite });
console.log("run", result.status);
`;

function node(script: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("rejections of the host next to the sandbox's", () => {
  test("a program that listens for unhandled rejections keeps handling its own", () => {
    execFileSync("test", ["-f", path.join(ROOT, "dist/index.js")]);
    const r = node(`process.on("unhandledRejection", (e) => console.log("logged", e.message));\n${RUN_CODE}\nPromise.reject(new Error("host"));\nsetTimeout(() => console.log("still alive"), 50);`);
    expect(r.out).toContain("run succeeded");
    expect(r.out).toContain("logged host");
    expect(r.out).toContain("still alive");
    expect(r.status).toBe(0);
  });

  test("without a listener of its own, the host's unhandled rejection still ends the process (exit 1), the sandbox's does not", () => {
    const r = node(`${RUN_CODE}\nPromise.reject(new Error("host"));\nsetTimeout(() => console.log("still alive"), 50);`);
    expect(r.out).toContain("run succeeded");
    expect(r.out).toContain("Error: host");
    expect(r.out).not.toContain("still alive");
    expect(r.status).toBe(1);
  });
});
