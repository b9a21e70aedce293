import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, test } from "vitest";
import { atomiton, COMPAT, useTempDir } from "../helpers/cli.js";

// Every row of ../shared/compat/README.md, through the built CLI, from a temp dir.
const ATOMITON = path.join(COMPAT, "atomiton");
const DATA = path.join(ATOMITON, "data");
const present = existsSync(ATOMITON);
if (!present) console.warn(`skipping the Atomiton compatibility tests: ${ATOMITON} is absent`);

let dir: string;
useTempDir((d) => (dir = d), "atomiton-compat-");

const lastEvent = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!) as { type: string; status: string; output?: unknown };

describe.skipIf(!present)("Atomiton editor files run as their authors intended", () => {
  test.each(["composite-era/hello-world.yaml", "flow-era/hello-world.flow.yaml", "composite-era/data-transform.yaml", "flow-era/data-transform.flow.yaml", "composite-era/image-processor.yaml", "flow-era/image-processor.flow.yaml"])(
    "atomiton validate %s exits 0 and every warning has a location",
    async (file) => {
      const r = await atomiton(["validate", path.join(ATOMITON, file), "--format", "json"], { cwd: dir });
      expect(r.exitCode).toBe(0);
      const [report] = JSON.parse(r.stdout) as { problems: { severity: string; line: number; col: number }[] }[];
      for (const p of report!.problems) {
        expect(p.severity).toBe("warning");
        expect(p.line).toBeGreaterThan(0);
        expect(p.col).toBeGreaterThan(0);
      }
    },
  );

  test("composite-era/hello-world.yaml outputs HELLO, WORLD!", async () => {
    const r = await atomiton(["run", path.join(ATOMITON, "composite-era/hello-world.yaml"), "--reporter", "json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(lastEvent(r.stdout)).toMatchObject({ type: "run:finish", status: "succeeded", output: "HELLO, WORLD!" });
  });

  test("flow-era/hello-world.flow.yaml writes the four parts, real text, no HTML escaping", async () => {
    const before = Date.now();
    const r = await atomiton(["run", path.join(ATOMITON, "flow-era/hello-world.flow.yaml"), "--reporter", "plain"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const text = await readFile(path.join(dir, ".tmp/hello-world-output.txt"), "utf8");
    const parts = ["Hello World from Atomiton!", "This is a simple example showing how Flow nodes work together.", "Created by: Atomiton Flow System", "Generated at: "];
    let at = -1;
    for (const part of parts) {
      const next = text.indexOf(part);
      expect(next, part).toBeGreaterThan(at);
      at = next;
    }
    expect(text).not.toContain("{{");
    expect(text).not.toMatch(/&(amp|lt|gt|quot|#39);/);
    const stamp = /Generated at: (\S+)/.exec(text)![1]!;
    expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(Date.parse(stamp)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(stamp)).toBeLessThanOrEqual(Date.now());
  });

  test.each(["composite-era/data-transform.yaml", "flow-era/data-transform.flow.yaml"])("%s aggregates the active rows", async (file) => {
    const r = await atomiton(
      ["run", path.join(ATOMITON, file), "--set", `csv-source.filePath=${path.join(DATA, "spreadsheets/sales.csv")}`, "--set", "output-file.filePath=out/results.json", "--reporter", "plain"],
      { cwd: dir },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(await readFile(path.join(dir, "out/results.json"), "utf8"))).toEqual({ total: 462.75, count: 3, average: 154.25 });
  });

  test.each(["composite-era/image-processor.yaml", "flow-era/image-processor.flow.yaml"])("%s resizes and watermarks each image", async (file) => {
    const r = await atomiton(
      [
        "run", path.join(ATOMITON, file),
        "--set", `image-source.filePath=${path.join(DATA, "images")}`,
        "--set", `image-watermark.watermarkPath=${path.join(DATA, "images/sample-thumbnail.png")}`,
        "--set", "save-processed.filePath=out/images",
        "--reporter", "json",
      ],
      { cwd: dir },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const out = path.join(dir, "out/images");
    expect((await readdir(out)).sort()).toEqual(["sample-photo.jpg", "sample-thumbnail.jpg"]);
    const photo = await sharp(path.join(out, "sample-photo.jpg")).metadata();
    expect([photo.format, photo.width, photo.height]).toEqual(["jpeg", 800, 533]);
    for (const name of ["sample-photo.jpg", "sample-thumbnail.jpg"]) {
      const meta = await sharp(path.join(out, name)).metadata();
      expect(meta.format).toBe("jpeg");
      expect(meta.width! <= 800 && meta.height! <= 600).toBe(true);
    }
    // The watermark sits bottom-right: those pixels differ from a plain resize of the source, the top-left ones do not.
    const plain = await sharp(path.join(DATA, "images/sample-photo.png")).resize(800, 600, { fit: "inside" }).flatten({ background: "#ffffff" }).raw().toBuffer({ resolveWithObject: true });
    const marked = await sharp(path.join(out, "sample-photo.jpg")).raw().toBuffer({ resolveWithObject: true });
    const pixel = (buf: { data: Buffer; info: { width: number; channels: number } }, x: number, y: number) => {
      const o = (y * buf.info.width + x) * buf.info.channels;
      return [buf.data[o]!, buf.data[o + 1]!, buf.data[o + 2]!];
    };
    const diff = (x: number, y: number) => pixel(plain, x, y).reduce((sum, v, k) => sum + Math.abs(v - pixel(marked, x, y)[k]!), 0);
    let bottomRight = 0;
    let topLeft = 0;
    for (let k = 0; k < 20; k++) {
      bottomRight += diff(800 - 10 - 20 - k * 4, 533 - 10 - 20 - k * 2);
      topLeft += diff(10 + k * 4, 10 + k * 2);
    }
    expect(bottomRight).toBeGreaterThan(topLeft * 3 + 200);
    // At most 4 images at once: the loop's iterations are bounded by the parallel node's concurrency.
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; nodeId?: string; iteration?: number });
    let running = 0;
    let peak = 0;
    for (const e of events) {
      if (e.nodeId !== "parallel-processor") continue;
      if (e.type === "node:start") peak = Math.max(peak, ++running);
      if (e.type === "node:finish") running--;
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
  });
});
