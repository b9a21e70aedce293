import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCode } from "../../../src/errors.js";
import fileSystem from "../../../src/nodes/builtin/file-system.js";
import image from "../../../src/nodes/builtin/image.js";
import { placeAt, type ImageMetadata, type ImageResult } from "../../../src/nodes/builtin/image-pipeline.js";
import { createTempDir, exampleParameters, parseParameters, rejectionOf, removeTempDir, runNode, startNode } from "../../helpers/node-context.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const samples = path.resolve(repoRoot, "../shared/compat/atomiton/data/images");
const photo = path.join(samples, "sample-photo.png");
const thumbnail = path.join(samples, "sample-thumbnail.png");
const haveSamples = existsSync(photo) && existsSync(thumbnail);
if (!haveSamples) console.warn(`image tests: ${samples} is absent; the tests on the Atomiton sample images are skipped`);

let workdir: string;
type Out = { output: ImageResult; metadata: ImageMetadata };

const BLUE = { r: 0, g: 0, b: 255 };
const RED = { r: 255, g: 0, b: 0 };

async function solid(file: string, width: number, height: number, colour: { r: number; g: number; b: number }, format: "png" | "jpeg" = "png"): Promise<string> {
  const full = path.join(workdir, file);
  await sharp({ create: { width, height, channels: 3, background: colour } })[format]().toFile(full);
  return full;
}

async function pixels(data: Buffer): Promise<{ at(x: number, y: number): number[]; raw: Buffer; width: number }> {
  const { data: raw, info } = await sharp(data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    raw,
    width: info.width,
    at: (x, y) => {
      const i = (y * info.width + x) * info.channels;
      return [...raw.subarray(i, i + info.channels)];
    },
  };
}

async function run(raw: Record<string, unknown>, input?: unknown): Promise<Out> {
  return (await runNode(image, raw, { workdir, input })).output as Out;
}

beforeAll(async () => {
  workdir = await createTempDir("atomiton-image-");
  await solid("base.png", 400, 300, BLUE);
  await solid("base.jpg", 400, 300, BLUE, "jpeg");
  await solid("logo.png", 100, 100, RED);
  await writeFile(path.join(workdir, "not-an-image.png"), "hello, I am text");
});
afterAll(() => removeTempDir(workdir));

describe("image parameters", () => {
  test("defaults", () => {
    expect(image.parameters.parse({})).toEqual({
      operation: "resize",
      maintainAspectRatio: true,
      withoutEnlargement: false,
      background: "#ffffff",
      quality: 85,
      margin: 10,
      blend: "over",
      grayscale: false,
      sharpen: false,
      maxInputPixels: 100_000_000,
    });
  });

  test("aliases: overlayPath → watermarkPath, filePath → path", () => {
    expect(parseParameters(image, { overlayPath: "logo.png", filePath: "a.png" })).toMatchObject({ watermarkPath: "logo.png", path: "a.png" });
  });

  test.each([
    [{ quality: 0 }],
    [{ quality: 101 }],
    [{ opacity: 1.5 }],
    [{ position: "middle" }],
    [{ format: "bmp" }],
    [{ width: -5 }],
    [{ operation: "rotate" }],
  ])("rejects %j", (raw) => {
    expect(image.parameters.safeParse(raw).success).toBe(false);
  });

  test("has an example and two data outputs (output, metadata)", async () => {
    const examples = await exampleParameters(image);
    expect(examples.length).toBeGreaterThan(0);
    for (const raw of examples) expect(parseParameters(image, raw)).toBeTruthy();
    expect(image.outputs.map((o) => o.id)).toEqual(["output", "metadata", "error"]);
  });

  test.each([
    ["bottom-right", { left: 290, top: 190 }],
    ["top-left", { left: 10, top: 10 }],
    ["top-right", { left: 290, top: 10 }],
    ["bottom-left", { left: 10, top: 190 }],
    ["center", { left: 150, top: 100 }],
    ["top", { left: 150, top: 10 }],
    ["right", { left: 290, top: 100 }],
  ] as const)("placeAt %s", (position, expected) => {
    expect(placeAt(position, { width: 400, height: 300 }, { width: 100, height: 100 }, 10)).toEqual(expected);
  });

  test("placeAt keeps an overlay larger than the margin allows inside the base", () => {
    expect(placeAt("bottom-right", { width: 100, height: 100 }, { width: 95, height: 95 }, 10)).toEqual({ left: 0, top: 0 });
    expect(placeAt("top-left", { width: 100, height: 100 }, { width: 95, height: 95 }, 10)).toEqual({ left: 5, top: 5 });
  });
});

describe.skipIf(!haveSamples)("image: the Atomiton sample images", () => {
  test("resize 1200×800 into 800×600 keeps the aspect ratio → 800×533, keeps png, names the source", async () => {
    const { output, metadata } = await run({ operation: "resize", width: 800, height: 600 }, photo);
    expect(output).toMatchObject({ name: "sample-photo.png", path: photo, format: "png", width: 800, height: 533 });
    expect(output.size).toBe(output.data.byteLength);
    expect(metadata).toMatchObject({ format: "png", width: 800, height: 533, size: output.size });
    expect(await sharp(output.data).metadata()).toMatchObject({ width: 800, height: 533, format: "png" });
  });

  test("the editor's resize (format jpeg, quality 85) then watermark with the thumbnail", async () => {
    const resized = await run({ operation: "resize", width: 800, height: 600, maintainAspectRatio: true, quality: 85, format: "jpeg" }, { name: "sample-photo.png", path: photo, isFile: true });
    expect(resized.metadata.format).toBe("jpeg");
    expect([...resized.output.data.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    const marked = await run({ operation: "watermark", watermarkPath: thumbnail, position: "bottom-right", opacity: 0.7, scale: 0.25, margin: 10 }, resized.output);
    expect(marked.output).toMatchObject({ name: "sample-photo.png", format: "jpeg", width: 800, height: 533 });
    const before = await pixels(resized.output.data);
    const after = await pixels(marked.output.data);
    const diff = (x: number, y: number): number => before.at(x, y).reduce((sum, v, i) => sum + Math.abs(v - (after.at(x, y)[i] ?? 0)), 0);
    // The 200×133 overlay sits at x 590..789, y 390..522: the bottom-right changes, the top-left does not.
    expect(diff(690, 456)).toBeGreaterThan(30);
    expect(diff(20, 20)).toBeLessThan(12);
  });
});

describe.skipIf(!haveSamples)("image: the editor's image-processor chain (list → resize → watermark → write)", () => {
  test("one JPEG per source image, named after it, 800×533 for the photo", async () => {
    const listed = (await runNode(fileSystem, { operation: "list", filePath: samples, pattern: "*.{jpg,png,gif}", includeStats: true }, { workdir })).output as { name: string }[];
    expect(listed.map((e) => e.name)).toEqual(["sample-photo.png", "sample-thumbnail.png"]);
    for (const entry of listed) {
      const resized = await run({ operation: "resize", width: 800, height: 600, maintainAspectRatio: true, quality: 85, format: "jpeg" }, entry);
      const marked = await run({ operation: "watermark", watermarkPath: thumbnail, position: "bottom-right", opacity: 0.7, scale: 0.25, margin: 10 }, resized.output);
      await runNode(fileSystem, { operation: "write", filePath: "chain/images", createDirectory: true, overwrite: true }, { workdir, input: marked.output });
    }
    const written = await sharp(await readFile(path.join(workdir, "chain", "images", "sample-photo.jpg"))).metadata();
    expect(written).toMatchObject({ format: "jpeg", width: 800, height: 533 });
    expect((await sharp(await readFile(path.join(workdir, "chain", "images", "sample-thumbnail.jpg"))).metadata()).format).toBe("jpeg");
  });
});

describe("image operations", () => {
  test.each([
    ["a path string", () => path.join(workdir, "base.png"), "base.png"],
    ["a relative path", () => "base.png", "base.png"],
    ["a { path } item", () => ({ path: path.join(workdir, "base.png") }), "base.png"],
    ["a file-list entry", () => ({ name: "base.png", path: path.join(workdir, "base.png"), isFile: true }), "base.png"],
    ["bytes", () => readFile(path.join(workdir, "base.png")), "image"],
    ["an image node output", async () => ({ data: await readFile(path.join(workdir, "base.png")), name: "renamed.png", format: "png" }), "renamed.png"],
  ])("input: %s", async (_name, makeInput, name) => {
    const { output } = await run({ width: 200 }, await makeInput());
    expect(output).toMatchObject({ name, width: 200, height: 150, format: "png" });
  });

  test("`path` wins over the input", async () => {
    const { output } = await run({ path: "logo.png", width: 50 }, "base.png");
    expect(output).toMatchObject({ name: "logo.png", width: 50, height: 50 });
  });

  test.each([
    [{ width: 200, height: 200, maintainAspectRatio: false }, 200, 200],
    [{ width: 200, height: 200 }, 200, 150],
    [{ width: 200, height: 200, fit: "cover" }, 200, 200],
    [{ width: 800, withoutEnlargement: true }, 400, 300],
    [{ height: 60 }, 80, 60],
  ])("resize %j → %i×%i", async (params, width, height) => {
    const { output } = await run({ operation: "resize", ...params }, "base.png");
    expect([output.width, output.height]).toEqual([width, height]);
  });

  test("watermark bottom-right: changes exactly the overlay box, 0.7 opacity blends, top-left untouched", async () => {
    const { output } = await run({ operation: "watermark", watermarkPath: "logo.png" }, "base.png");
    const px = await pixels(output.data);
    // scale 0.25 of 400 → a 100×100 overlay, 10 px from the right and bottom edges: x 290..389, y 190..289.
    const [r, g, b] = px.at(300, 200);
    expect(r).toBeGreaterThan(170);
    expect(r).toBeLessThan(185);
    expect(g).toBe(0);
    expect(b).toBeGreaterThan(70);
    expect(b).toBeLessThan(85);
    expect(px.at(289, 200)).toEqual([0, 0, 255]);
    expect(px.at(390, 289)).toEqual([0, 0, 255]);
    expect(px.at(5, 5)).toEqual([0, 0, 255]);
    expect((await sharp(output.data).metadata()).hasAlpha).toBe(false);
  });

  test("opacity 0 leaves every pixel unchanged; opacity 1 paints the overlay", async () => {
    const base = await pixels(await readFile(path.join(workdir, "base.png")));
    const invisible = await run({ operation: "watermark", watermarkPath: "logo.png", opacity: 0 }, "base.png");
    expect((await pixels(invisible.output.data)).raw.equals(base.raw)).toBe(true);
    const opaque = await run({ operation: "overlay", overlayPath: "logo.png", opacity: 1, position: "top-left", margin: 0 }, "base.png");
    expect((await pixels(opaque.output.data)).at(50, 50)).toEqual([255, 0, 0]);
  });

  test("watermark keeps the base's format (jpeg stays jpeg)", async () => {
    const { output, metadata } = await run({ operation: "watermark", watermarkPath: "logo.png" }, "base.jpg");
    expect(output.format).toBe("jpeg");
    expect(metadata.format).toBe("jpeg");
    expect((await sharp(output.data).metadata()).format).toBe("jpeg");
  });

  test("the watermark can come from the `watermark` input", async () => {
    const { output } = (await runNode(image, { operation: "watermark", opacity: 1, position: "center" }, { workdir, input: "base.png", inputs: { input: "base.png", watermark: path.join(workdir, "logo.png") } })).output as Out;
    expect((await pixels(output.data)).at(200, 150)).toEqual([255, 0, 0]);
  });

  test("composite layers `images` over the input; without an input the first image is the base", async () => {
    const onInput = await run({ operation: "composite", images: [{ path: "logo.png", position: "top-left" }] }, "base.png");
    const a = await pixels(onInput.output.data);
    expect(a.at(50, 50)).toEqual([255, 0, 0]);
    expect(a.at(200, 150)).toEqual([0, 0, 255]);
    const standalone = await run({ operation: "composite", images: ["base.png", { path: "logo.png", left: 0, top: 0, opacity: 0.5 }] });
    expect(standalone.output).toMatchObject({ name: "base.png", width: 400, height: 300 });
    const [r, , b] = (await pixels(standalone.output.data)).at(10, 10);
    expect(r).toBeGreaterThan(110);
    expect(b).toBeGreaterThan(110);
  });

  test.each([
    ["jpeg", "jpeg"],
    ["jpg", "jpeg"],
    ["webp", "webp"],
    ["avif", "heif"],
    ["png", "png"],
  ])("format %s", async (format, sharpFormat) => {
    const { output, metadata } = await run({ operation: "convert", format }, "base.png");
    expect(output.format).toBe(format === "jpg" ? "jpeg" : format);
    expect(metadata.format).toBe(output.format);
    expect((await sharp(output.data).metadata()).format).toBe(sharpFormat);
  });

  test("quality changes the JPEG size", async () => {
    await sharp({ create: { width: 200, height: 200, channels: 3, background: BLUE, noise: { type: "gaussian", mean: 128, sigma: 60 } } }).png().toFile(path.join(workdir, "noise.png"));
    const low = await run({ operation: "format", format: "jpeg", quality: 10 }, "noise.png");
    const high = await run({ operation: "format", format: "jpeg", quality: 95 }, "noise.png");
    expect(low.output.size).toBeLessThan(high.output.size);
  });

  test("blur smooths a hard edge; grayscale makes r = g = b", async () => {
    const half = await sharp({ create: { width: 40, height: 20, channels: 3, background: BLUE } })
      .composite([{ input: { create: { width: 20, height: 20, channels: 3, background: RED } }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    const blurred = await pixels((await run({ operation: "blur", blur: 5 }, half)).output.data);
    expect(blurred.at(19, 10)[0]).toBeLessThan(250);
    expect(blurred.at(19, 10)[2]).toBeGreaterThan(5);
    const gray = await pixels((await run({ operation: "grayscale" }, half)).output.data);
    const [r, g, b] = gray.at(5, 5);
    expect(r).toBe(g);
    expect(g).toBe(b);
  });

  test("metadata: the image unchanged plus its metadata", async () => {
    const bytes = await readFile(path.join(workdir, "base.jpg"));
    const { output, metadata } = await run({ operation: "metadata" }, "base.jpg");
    expect(output.data.equals(bytes)).toBe(true);
    expect(metadata).toEqual({ format: "jpeg", width: 400, height: 300, size: bytes.byteLength, channels: 3, hasAlpha: false });
  });

  test("`output` writes the file; a directory gets the source name with the new extension", async () => {
    const { output } = await run({ width: 100, format: "jpeg", output: "out/thumbs/" }, "base.png");
    expect(output.outputPath).toBe(path.join(workdir, "out", "thumbs", "base.jpg"));
    expect((await readFile(output.outputPath!)).equals(output.data)).toBe(true);
    const named = await run({ width: 100, output: "out/exact.png" }, "base.png");
    expect(named.output.outputPath).toBe(path.join(workdir, "out", "exact.png"));
  });
});

describe("image errors", () => {
  test.each([
    ["a missing file", { width: 10 }, "missing.png", ErrorCode.FILE, "missing.png"],
    ["not an image", { width: 10 }, "not-an-image.png", ErrorCode.IMAGE, "not-an-image.png"],
    ["no input", { width: 10 }, undefined, ErrorCode.NODE_INPUT, "got nothing"],
    ["resize without a size", {}, "base.png", ErrorCode.NODE_INPUT, "width"],
    ["watermark without an overlay", { operation: "watermark" }, "base.png", ErrorCode.NODE_INPUT, "watermark image"],
    ["a missing watermark file", { operation: "watermark", watermarkPath: "nope.png" }, "base.png", ErrorCode.FILE, "nope.png"],
    ["composite without images", { operation: "composite" }, "base.png", ErrorCode.NODE_INPUT, "no images"],
  ])("%s → non-retryable error", async (_name, params, input, code, message) => {
    const error = await rejectionOf(runNode(image, params, { workdir, input }));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(message);
  });
});

describe("image cancellation", () => {
  test("an aborted signal rejects before any work", async () => {
    const started = startNode(image, { width: 10 }, { workdir, input: "base.png" });
    started.controller.abort();
    expect((await rejectionOf(started.result)).code).toBe(ErrorCode.CANCELLED);
  });

  test("abort during a long libvips job rejects with the abort reason without waiting for it", async () => {
    // A blur this wide takes libvips most of a second; the node must not wait for it.
    const big = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: BLUE, noise: { type: "gaussian", mean: 128, sigma: 30 } } }).jpeg().toBuffer();
    const started = startNode(image, { operation: "blur", blur: 100, format: "png" }, { workdir, input: big });
    setTimeout(() => started.controller.abort(), 30);
    expect((await rejectionOf(started.result)).code).toBe(ErrorCode.CANCELLED);
  }, 20_000);
});
