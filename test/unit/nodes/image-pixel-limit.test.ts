import { writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCode } from "../../../src/errors.js";
import image from "../../../src/nodes/builtin/image.js";
import type { ImageMetadata, ImageResult } from "../../../src/nodes/builtin/image-pipeline.js";
import { bombPng } from "../../helpers/png.js";
import { createTempDir, rejectionOf, removeTempDir, runNode } from "../../helpers/node-context.js";

let workdir: string;
type Out = { output: ImageResult; metadata: ImageMetadata };

beforeAll(async () => {
  workdir = await createTempDir("atomiton-image-limit-");
  // 16000×16000 (256 megapixels) in about 31 KB: sharp's own default limit (268402689) lets it through.
  await writeFile(path.join(workdir, "bomb.png"), bombPng(16000, 16000));
  await writeFile(path.join(workdir, "big.png"), bombPng(12000, 12000));
  await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toFile(path.join(workdir, "base.png"));
});
afterAll(() => removeTempDir(workdir));

describe("image maxInputPixels", () => {
  test.each([
    ["resize", { operation: "resize", path: "bomb.png", width: 100 }, "image WORKDIR/bomb.png is 16000×16000 (256 megapixels)"],
    ["grayscale", { operation: "grayscale", path: "big.png" }, "image WORKDIR/big.png is 12000×12000 (144 megapixels)"],
    ["a watermark overlay", { operation: "watermark", path: "base.png", watermarkPath: "bomb.png" }, "overlay WORKDIR/bomb.png is 16000×16000"],
    ["a composite layer", { operation: "composite", path: "base.png", images: ["big.png"] }, "overlay WORKDIR/big.png is 12000×12000"],
  ])("the default limit (100 megapixels) refuses %s before decoding, naming the size and the parameter", async (_, params, message) => {
    const error = await rejectionOf(runNode(image, params, { workdir }));
    expect(error.code).toBe(ErrorCode.IMAGE);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(message.replace("WORKDIR", workdir));
    expect(error.message).toContain("over the limit of 100 megapixels (maxInputPixels: 100000000)");
    expect(error.hint).toContain("maxInputPixels");
  });

  test("a lower limit refuses an ordinary image; raising it to the image's size lets it through", async () => {
    const refused = await rejectionOf(runNode(image, { path: "base.png", width: 40, maxInputPixels: 119_999 }, { workdir }));
    expect(refused.code).toBe(ErrorCode.IMAGE);
    expect(refused.message).toBe("image: the image " + path.join(workdir, "base.png") + " is 400×300 (0.1 megapixels), over the limit of 0.1 megapixels (maxInputPixels: 119999); it was not decoded");
    expect(refused.hint).toContain("at least 120000");
    expect(refused.details).toMatchObject({ width: 400, height: 300, pixels: 120_000, maxInputPixels: 119_999 });
    const passed = (await runNode(image, { path: "base.png", width: 40, maxInputPixels: 120_000 }, { workdir })).output as Out;
    expect([passed.output.width, passed.output.height]).toEqual([40, 30]);
  });

  test("operation metadata reads only the header, so it reports a bomb's size instead of refusing it", async () => {
    const out = (await runNode(image, { operation: "metadata", path: "bomb.png" }, { workdir })).output as Out;
    expect(out.metadata).toMatchObject({ format: "png", width: 16000, height: 16000 });
  });

  test("maxInputPixels: false lifts the limit (a 144-megapixel black PNG decodes)", async () => {
    const out = (await runNode(image, { operation: "resize", path: "big.png", width: 30, maxInputPixels: false }, { workdir })).output as Out;
    expect([out.output.width, out.output.height]).toEqual([30, 30]);
  }, 60_000);

  test.each([[0], [-1], [1.5], [true], ["many"]])("maxInputPixels %j is a parameter error", (value) => {
    expect(image.parameters.safeParse({ maxInputPixels: value }).success).toBe(false);
  });
});
