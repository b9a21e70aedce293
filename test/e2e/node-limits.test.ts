import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { bombPng } from "../helpers/png.js";

// Limits of built-in nodes as a user meets them: the built CLI on a temp dir.

let dir: string;
useTempDir((d) => (dir = d), "atomiton-node-limits-");

describe("image node pixel limit", () => {
  test("a 16000×16000 PNG bomb (31 KB) fails the node with E_IMAGE naming its size and maxInputPixels, exit 1, no stack", async () => {
    await writeFile(path.join(dir, "bomb.png"), bombPng(16000, 16000));
    await writeFile(path.join(dir, "flow.yaml"), "name: bomb\nnodes:\n  - id: thumb\n    type: image\n    parameters: { path: bomb.png, width: 100 }\n");
    const r = await atomiton(["run", "flow.yaml", "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr + r.stdout).toContain("thumb E_IMAGE: image: the image " + path.join(dir, "bomb.png") + " is 16000×16000 (256 megapixels), over the limit of 100 megapixels (maxInputPixels: 100000000); it was not decoded");
    expect(r.stderr + r.stdout).toContain("hint: if you trust this image, raise the node's `maxInputPixels` to at least 256000000, or set it to false");
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /);
  }, 60_000);

  test("`atomiton nodes image` documents maxInputPixels and its default", async () => {
    const r = await atomiton(["nodes", "image"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/maxInputPixels\s+integer \| false, default 100000000/);
  });
});
