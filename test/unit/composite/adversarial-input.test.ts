import { describe, expect, test } from "vitest";
import { loadCompositeFromText, type LoadResult } from "../../../src/composite/load-composite.js";
import { seededRandom as random } from "../../helpers/random.js";

/** Text made of bytes, YAML punctuation and keywords: the kind of thing a wrong file or a bad paste contains. */
function junk(seed: number): string {
  const next = random(seed);
  const pieces = ["\u0000", "\u0007", "\ufffd", "\t", "\n", "\r\n", " ", ":", "- ", "{", "}", "[", "]", "&a", "*a", "!!", "%YAML", "---", "...", "|", ">", "#", '"', "'", "nodes", "edges", "id", "type", "->", "ÿ", "💥", "\u202e", "0x1F", "null", "~"];
  let out = "";
  const length = 1 + Math.floor(next() * 200);
  for (let i = 0; i < length; i++) {
    out += next() < 0.25 ? String.fromCharCode(Math.floor(next() * 256)) : pieces[Math.floor(next() * pieces.length)]!;
  }
  return out;
}

function expectRejected(result: LoadResult): void {
  expect(result.ok).toBe(false);
  expect(result.problems.length).toBeGreaterThan(0);
  expect(result.problems.some((p) => p.severity === "error" && (p.code === "E_YAML" || p.code === "E_SCHEMA"))).toBe(true);
  for (const p of result.problems) {
    expect(p.file).toBe("junk.yaml");
    expect(Number.isInteger(p.line) && p.line >= 1).toBe(true);
    expect(Number.isInteger(p.col) && p.col >= 1).toBe(true);
    expect(p.message.length).toBeGreaterThan(0);
  }
}

describe("inputs that are not composites never throw", () => {
  test.each([
    { name: "an empty file", src: "", at: "E_SCHEMA 1:1" },
    { name: "only a comment", src: "# nothing here\n", at: "E_SCHEMA 1:1" },
    { name: "only whitespace", src: "   \n\n  \n", at: "E_SCHEMA 1:1" },
    { name: "a scalar", src: "hello\n", at: "E_SCHEMA 1:1" },
    { name: "a number", src: "42\n", at: "E_SCHEMA 1:1" },
    { name: "a list at the root", src: "- id: a\n  type: log\n", at: "E_SCHEMA 1:1" },
    { name: "null", src: "~\n", at: "E_SCHEMA 1:1" },
    { name: "an empty document marker", src: "---\n", at: "E_SCHEMA 1:4" },
    { name: "two documents", src: "nodes: []\n---\nnodes: []\n", at: "E_YAML 2:1" },
    { name: "JSON of the wrong shape", src: '{"nodes": {"a": 1}}', at: "E_SCHEMA 1:11" },
    { name: "a NUL byte", src: "nodes: [\u0000]\n", at: "E_SCHEMA 1:9" },
  ])("$name → $at", ({ src, at }) => {
    const r = loadCompositeFromText(src, { file: "junk.yaml" });
    expectRejected(r);
    const first = r.problems.find((p) => p.severity === "error")!;
    expect(`${first.code} ${first.line}:${first.col}`).toBe(at);
  });

  test.each(Array.from({ length: 200 }, (_, i) => i + 1))("random binary-ish text #%i", (seed) => {
    const src = junk(seed);
    let result: LoadResult | undefined;
    expect(() => {
      result = loadCompositeFromText(src, { file: "junk.yaml" });
    }).not.toThrow();
    expectRejected(result!);
  });

  test("a very long line and deep nesting", () => {
    expectRejected(loadCompositeFromText(`name: ${"x".repeat(200_000)}\n`, { file: "junk.yaml" }));
    expectRejected(loadCompositeFromText(`${"[".repeat(2000)}${"]".repeat(2000)}\n`, { file: "junk.yaml" }));
    expectRejected(loadCompositeFromText(`nodes: ${"[".repeat(2000)}`, { file: "junk.yaml" }));
  });
});
