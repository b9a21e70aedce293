import path from "node:path";
import type { Sharp, OverlayOptions, Blend, Metadata, SharpOptions } from "sharp";
import { AtomitonError, ErrorCode, NonRetryableError } from "../../errors.js";
import type { NodeContext } from "../define-node.js";
import { raceAbort, throwIfAborted } from "./abort.js";
import { atomicWriteFile, fileNameFor, resolvePath, statOrUndefined } from "./file-utils.js";
import type { ImageParameters, POSITIONS } from "./image.js";
import { type ImageSource, loadImage, requireImage } from "./image-source.js";

type Ctx = NodeContext<ImageParameters>;
type Position = (typeof POSITIONS)[number];
type OutputFormat = "jpeg" | "png" | "webp" | "avif" | "gif" | "tiff";
type SharpFactory = typeof import("sharp");
type LayerSpec = Exclude<NonNullable<ImageParameters["images"]>[number], string>;

/** The primary output of the image node. */
export interface ImageResult {
  data: Buffer;
  name: string;
  path?: string;
  format: string;
  width: number;
  height: number;
  size: number;
  outputPath?: string;
}

export interface ImageMetadata {
  format: string;
  width: number;
  height: number;
  size: number;
  channels: number;
  hasAlpha: boolean;
}

interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

const WRITABLE: Record<string, OutputFormat> = { jpeg: "jpeg", jpg: "jpeg", png: "png", webp: "webp", avif: "avif", heif: "avif", gif: "gif", tiff: "tiff" };

function imageError(message: string, cause: unknown, hint?: string): AtomitonError {
  if (cause instanceof AtomitonError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new NonRetryableError(`${message}: ${detail}`, { code: ErrorCode.IMAGE, cause, ...(hint ? { hint } : {}) });
}

/** Run sharp work, honouring the signal and turning libvips failures into E_IMAGE. */
async function step<T>(ctx: Ctx, what: string, work: () => Promise<T>): Promise<T> {
  throwIfAborted(ctx.signal, what);
  try {
    return await raceAbort(work(), ctx.signal, what);
  } catch (error) {
    throw imageError(`image: cannot ${what}`, error, "is it an image in a format sharp reads (jpeg, png, webp, avif, gif, tiff, svg)?");
  }
}

/** Options for every `sharp()` that decodes an input: sharp enforces the same limit as `readHeader`. */
function inputOptions(ctx: Ctx): SharpOptions {
  return { failOn: "error", limitInputPixels: ctx.parameters.maxInputPixels === false ? false : ctx.parameters.maxInputPixels };
}

/**
 * Read an image's header (no pixels are decoded) and refuse it when width × height is over
 * `maxInputPixels`: a PNG of a few hundred KB can claim 16384×16384 and take gigabytes to decode.
 */
async function readHeader(ctx: Ctx, sharp: SharpFactory, source: ImageSource, role: string): Promise<Metadata> {
  const label = source.path ?? source.name;
  const meta = await step(ctx, `read ${role === "image" ? "" : `the ${role} `}${label}`, () => sharp(source.bytes, { failOn: "error", limitInputPixels: false }).metadata());
  const limit = ctx.parameters.maxInputPixels;
  const width = meta.width ?? 0;
  const height = meta.pageHeight !== undefined && (meta.pages ?? 1) > 1 ? meta.pageHeight : (meta.height ?? 0);
  if (limit !== false && width * height > limit) {
    const megapixels = (n: number): string => `${Number((n / 1e6).toFixed(1))} megapixels`;
    throw new NonRetryableError(`image: the ${role} ${label} is ${width}×${height} (${megapixels(width * height)}), over the limit of ${megapixels(limit)} (maxInputPixels: ${limit}); it was not decoded`, {
      code: ErrorCode.IMAGE,
      hint: `if you trust this image, raise the node's \`maxInputPixels\` to at least ${width * height}, or set it to false`,
      details: { width, height, pixels: width * height, maxInputPixels: limit },
    });
  }
  return meta;
}

/** Top-left corner of a w×h box placed at `position` inside a W×H base, `margin` px from the edges. */
export function placeAt(position: Position, base: { width: number; height: number }, box: { width: number; height: number }, margin: number): { left: number; top: number } {
  const horizontal = position.endsWith("left") ? "left" : position.endsWith("right") ? "right" : "center";
  const vertical = position.startsWith("top") ? "top" : position.startsWith("bottom") ? "bottom" : "center";
  const clamp = (v: number, max: number): number => Math.max(0, Math.min(Math.round(v), Math.max(0, max)));
  const left = horizontal === "left" ? margin : horizontal === "right" ? base.width - box.width - margin : (base.width - box.width) / 2;
  const top = vertical === "top" ? margin : vertical === "bottom" ? base.height - box.height - margin : (base.height - box.height) / 2;
  return { left: clamp(left, base.width - box.width), top: clamp(top, base.height - box.height) };
}

async function toRaw(ctx: Ctx, image: Sharp, what: string): Promise<RawImage> {
  const { data, info } = await step(ctx, what, () => image.raw().toBuffer({ resolveWithObject: true }));
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** An overlay layer as raw RGBA, scaled to fit the base, its alpha multiplied by `opacity`. */
async function overlayLayer(ctx: Ctx, sharp: SharpFactory, source: ImageSource, base: RawImage, options: { scale?: number; opacity: number }): Promise<RawImage> {
  await readHeader(ctx, sharp, source, "overlay");
  const box = options.scale ? { width: Math.max(1, Math.round(base.width * options.scale)), height: base.height } : { width: base.width, height: base.height };
  const layer = sharp(source.bytes, inputOptions(ctx))
    .autoOrient()
    .resize({ ...box, fit: "inside", withoutEnlargement: !options.scale })
    .ensureAlpha();
  const raw = await toRaw(ctx, layer, `read the overlay ${source.path ?? source.name}`);
  if (options.opacity < 1) {
    // Really apply the opacity: scale the alpha channel of every pixel.
    for (let i = 3; i < raw.data.length; i += 4) raw.data[i] = Math.round((raw.data[i] ?? 0) * options.opacity);
  }
  return raw;
}

async function layersFor(ctx: Ctx, sharp: SharpFactory, base: RawImage, operation: "watermark" | "composite", extra: readonly ImageSource[]): Promise<OverlayOptions[]> {
  const p = ctx.parameters;
  if (operation === "watermark") {
    const source = p.watermarkPath ?? ctx.inputs.watermark;
    const overlay = await requireImage(source, ctx.workdir, ctx.signal, "watermark image", "set `watermarkPath: <logo.png>` (alias overlayPath)");
    const raw = await overlayLayer(ctx, sharp, overlay, base, { scale: p.scale ?? 0.25, opacity: p.opacity ?? 0.7 });
    const { left, top } = placeAt(p.position ?? "bottom-right", base, raw, p.margin);
    return [{ input: raw.data, raw: { width: raw.width, height: raw.height, channels: 4 }, left, top, blend: p.blend as Blend }];
  }
  const layers: OverlayOptions[] = [];
  const entries = p.images ?? [];
  for (const [index, source] of extra.entries()) {
    const entry = entries[entries.length - extra.length + index];
    const spec: Partial<LayerSpec> = typeof entry === "object" ? entry : {};
    const raw = await overlayLayer(ctx, sharp, source, base, { ...(p.scale ? { scale: p.scale } : {}), opacity: spec.opacity ?? p.opacity ?? 1 });
    const at = spec.left !== undefined || spec.top !== undefined ? { left: spec.left ?? 0, top: spec.top ?? 0 } : placeAt(spec.position ?? p.position ?? "center", base, raw, p.margin);
    layers.push({ input: raw.data, raw: { width: raw.width, height: raw.height, channels: 4 }, left: at.left, top: at.top, blend: (spec.blend ?? p.blend) as Blend });
  }
  return layers;
}

function encode(image: Sharp, format: OutputFormat, quality: number): Sharp {
  switch (format) {
    case "jpeg":
      return image.jpeg({ quality });
    case "webp":
      return image.webp({ quality });
    case "avif":
      return image.avif({ quality });
    case "tiff":
      return image.tiff({ quality });
    case "gif":
      return image.gif();
    case "png":
      return image.png();
  }
}

/** Execute the node: load, transform, encode, optionally write. */
export async function processImage(ctx: Ctx): Promise<{ output: ImageResult; metadata: ImageMetadata }> {
  const p = ctx.parameters;
  const operation = p.operation === "overlay" ? "watermark" : p.operation === "convert" ? "format" : p.operation;
  const sharp = (await import("sharp")).default;

  // The base image: `path`, else the input; for composite without either, the first of `images`.
  const layerSources = operation === "composite" ? await Promise.all((p.images ?? []).map((entry) => requireImage(typeof entry === "string" ? entry : entry.path, ctx.workdir, ctx.signal, "composite layer", "list image files in `images`"))) : [];
  let source = await loadImage(p.path ?? ctx.input, ctx.workdir, ctx.signal);
  if (!source && operation === "composite") source = layerSources.shift();
  if (!source) source = await requireImage(p.path ?? ctx.input, ctx.workdir, ctx.signal, "image", "connect a node that outputs an image (path, file-list entry, bytes) or set `path`");
  if (operation === "composite" && layerSources.length === 0) {
    throw new NonRetryableError("image composite: no images to layer", { code: ErrorCode.NODE_INPUT, hint: "set `images: [a.png, …]`" });
  }
  const src = source;
  const label = src.path ?? src.name;
  if (operation === "metadata") {
    // Only the header is read: no pixel limit applies.
    const inputMeta = await step(ctx, `read ${label}`, () => sharp(src.bytes, { failOn: "error", limitInputPixels: false }).metadata());
    const swap = (inputMeta.orientation ?? 1) >= 5;
    const width = (swap ? inputMeta.height : inputMeta.width) ?? 0;
    const height = (swap ? inputMeta.width : inputMeta.height) ?? 0;
    const format = inputMeta.format ?? "unknown";
    return {
      output: { data: src.bytes, name: src.name, ...(src.path ? { path: src.path } : {}), format, width, height, size: src.bytes.byteLength },
      metadata: { format, width, height, size: src.bytes.byteLength, channels: inputMeta.channels ?? 0, hasAlpha: inputMeta.hasAlpha ?? false },
    };
  }

  const inputMeta = await readHeader(ctx, sharp, src, "image");
  let image = sharp(src.bytes, inputOptions(ctx)).autoOrient();
  if (operation === "resize" && p.width === undefined && p.height === undefined) {
    throw new NonRetryableError("image resize: set `width`, `height` or both", { code: ErrorCode.NODE_INPUT, hint: "e.g. width: 800, height: 600" });
  }
  if (p.width !== undefined || p.height !== undefined) {
    image = image.resize({
      ...(p.width !== undefined ? { width: p.width } : {}),
      ...(p.height !== undefined ? { height: p.height } : {}),
      fit: p.fit ?? (p.maintainAspectRatio ? "inside" : "fill"),
      withoutEnlargement: p.withoutEnlargement,
      background: p.background,
    });
  }
  if (p.grayscale || operation === "grayscale") image = image.grayscale();
  if (p.blur !== undefined || operation === "blur") image = image.blur(p.blur ?? 3);
  if (p.sharpen) image = image.sharpen();

  if (operation === "watermark" || operation === "composite") {
    // Render the base first so overlays are placed against its final size.
    const base = await toRaw(ctx, image, `prepare ${label}`);
    const layers = await layersFor(ctx, sharp, base, operation, layerSources);
    image = sharp(base.data, { raw: { width: base.width, height: base.height, channels: base.channels } }).composite(layers);
    // Compositing adds an alpha channel; an opaque base stays opaque.
    if (base.channels === 1 || base.channels === 3) image = image.removeAlpha();
  }

  const requested = p.format ? WRITABLE[p.format] : undefined;
  const format: OutputFormat = requested ?? WRITABLE[inputMeta.format ?? ""] ?? "png";
  if (format === "jpeg") image = image.flatten({ background: p.background });
  const { data, info } = await step(ctx, `encode ${label} as ${format}`, () => encode(image, format, p.quality).toBuffer({ resolveWithObject: true }));

  const output: ImageResult = { data, name: src.name, ...(src.path ? { path: src.path } : {}), format, width: info.width, height: info.height, size: data.byteLength };
  if (p.output !== undefined) {
    let file = resolvePath(ctx.workdir, p.output);
    if (/[\\/]$/.test(p.output) || (await statOrUndefined(file))?.isDirectory() || path.extname(file) === "") file = path.join(file, fileNameFor(output) ?? `image.${format}`);
    throwIfAborted(ctx.signal, `writing ${file}`);
    await atomicWriteFile(file, data, { signal: ctx.signal });
    output.outputPath = file;
  }
  ctx.log("debug", `image ${operation}: ${label} → ${format} ${info.width}×${info.height} (${data.byteLength} bytes)`);
  return {
    output,
    metadata: { format, width: info.width, height: info.height, size: data.byteLength, channels: info.channels, hasAlpha: info.channels === 2 || info.channels === 4 },
  };
}
