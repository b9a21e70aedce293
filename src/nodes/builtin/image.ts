import { z } from "zod";
import { defineNode } from "../define-node.js";
import { throwIfAborted } from "./abort.js";
import { processImage } from "./image-pipeline.js";

export const IMAGE_OPERATIONS = ["resize", "watermark", "overlay", "composite", "format", "convert", "blur", "grayscale", "metadata"] as const;
export const IMAGE_FORMATS = ["jpeg", "jpg", "png", "webp", "avif", "gif", "tiff"] as const;
export const POSITIONS = ["top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right"] as const;
export const BLEND_MODES = [
  "clear", "source", "over", "in", "out", "atop", "dest", "dest-over", "dest-in", "dest-out", "dest-atop", "xor", "add", "saturate", "multiply",
  "screen", "overlay", "darken", "lighten", "colour-dodge", "color-dodge", "colour-burn", "color-burn", "hard-light", "soft-light", "difference", "exclusion",
] as const;
/** 100 megapixels (10000×10000, about 400 MB as RGBA): above any camera photo, far below what a few-KB PNG can claim. */
export const DEFAULT_MAX_INPUT_PIXELS = 100_000_000;

const layer = z.union([
  z.string().min(1),
  z.object({
    path: z.string().min(1).describe("Image file"),
    position: z.enum(POSITIONS).optional().describe("Where to place it (default center)"),
    left: z.number().int().optional().describe("Pixels from the left (with top: overrides position)"),
    top: z.number().int().optional().describe("Pixels from the top"),
    opacity: z.number().min(0).max(1).optional(),
    blend: z.enum(BLEND_MODES).optional(),
  }),
]);

const parameters = z.object({
  operation: z
    .enum(IMAGE_OPERATIONS)
    .default("resize")
    .describe("resize · watermark (alias overlay: a logo placed at `position`) · composite (layer `images`) · format (alias convert) · blur · grayscale · metadata"),
  path: z.string().min(1).optional().describe("The image file, relative to the working directory. Default: the input (a path, { path } item, bytes or a previous image node's output)"),
  width: z.number().int().positive().optional().describe("Target width in px (resize; with other operations the image is resized first)"),
  height: z.number().int().positive().optional().describe("Target height in px"),
  maintainAspectRatio: z.boolean().default(true).describe("Keep the aspect ratio: fit defaults to inside (1200×800 into 800×600 → 800×533); false → fill"),
  fit: z.enum(["cover", "contain", "fill", "inside", "outside"]).optional().describe("How to fit width×height (sharp fit); default from maintainAspectRatio"),
  withoutEnlargement: z.boolean().default(false).describe("Never upscale a smaller image"),
  background: z.string().default("#ffffff").describe("Colour for contain padding and for transparency flattened into JPEG"),
  format: z.enum(IMAGE_FORMATS).optional().describe("Output format; default the input's (formats sharp cannot write become png)"),
  quality: z.number().int().min(1).max(100).default(85).describe("jpeg/webp/avif/tiff quality"),
  watermarkPath: z.string().min(1).optional().describe("watermark: the overlay image (default the `watermark` input). Alias overlayPath"),
  position: z.enum(POSITIONS).optional().describe("watermark: where (default bottom-right) · composite: default placement of `images` (default center)"),
  opacity: z.number().min(0).max(1).optional().describe("Overlay opacity 0..1 (watermark default 0.7, composite default 1)"),
  scale: z.number().positive().max(1).optional().describe("Overlay width as a fraction of the base width (watermark default 0.25; composite: natural size)"),
  margin: z.number().int().min(0).default(10).describe("Distance in px of a positioned overlay from the edges"),
  blend: z.enum(BLEND_MODES).default("over").describe("Blend mode for overlays"),
  images: z.array(layer).optional().describe("composite: images to layer over the input in order (paths or { path, position, left, top, opacity, blend }); without an input the first is the base"),
  blur: z.number().min(0.3).max(1000).optional().describe("Gaussian blur sigma (operation blur defaults to 3; with other operations applied when set)"),
  grayscale: z.boolean().default(false).describe("Convert to grayscale (also operation: grayscale)"),
  sharpen: z.boolean().default(false).describe("Sharpen (after resizing)"),
  maxInputPixels: z
    .union([z.number().int().positive(), z.literal(false)])
    .default(DEFAULT_MAX_INPUT_PIXELS)
    .describe("Refuse an input or overlay image with more pixels (width × height, from its header) before decoding it: a guard against decompression bombs. Default 100000000 (100 megapixels); false: no limit"),
  output: z.string().min(1).optional().describe("Also write the result to this file (atomically); a directory or a path ending in / gets the source name with the new extension"),
});

export type ImageParameters = z.output<typeof parameters>;

/** Image operations with sharp. Returns `{ output: { data, name, path?, format, width, height, size }, metadata }`. */
export default defineNode({
  type: "image",
  aliases: ["image-composite"],
  title: "Image",
  description: "Resize, watermark/overlay, composite, convert (jpeg/png/webp/avif), blur and grayscale images with sharp; read metadata.",
  category: "media",
  parameters,
  inputs: [
    { id: "input", description: "The image: a path, a { path } item (file-system list entry), bytes, or a previous image node's output" },
    { id: "watermark", description: "watermark: the overlay image when watermarkPath is not set" },
  ],
  outputs: [
    { id: "output", description: "{ data (Buffer), name (source file name), path? (source), format, width, height, size, outputPath? }" },
    { id: "metadata", description: "{ format, width, height, size, channels, hasAlpha } of the result" },
    { id: "error", description: "The failure, when onError: route" },
  ],
  parameterAliases: { filePath: "path", overlayPath: "watermarkPath" },
  example: `- id: thumb
  type: image
  parameters: { operation: resize, width: 800, height: 600, format: jpeg, quality: 85 }
- id: brand
  type: image
  parameters: { operation: watermark, watermarkPath: assets/logo.png, position: bottom-right, opacity: 0.7 }`,
  async execute(ctx) {
    throwIfAborted(ctx.signal, `image ${ctx.parameters.operation}`);
    return processImage(ctx);
  },
});
