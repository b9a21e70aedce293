import { z } from "zod";
import { defineNode } from "../define-node.js";
import { ErrorCode, NonRetryableError } from "../../errors.js";
import { throwIfAborted } from "./abort.js";
import { ENCODINGS } from "./file-utils.js";
import { copyOrMove, createDirectory, deletePath, listDirectory, pathExists, readTextFile, writeContent } from "./file-system-operations.js";

const OPERATIONS = ["read", "write", "list", "exists", "create", "delete", "copy", "move"] as const;

const parameters = z
  .object({
    operation: z
      .enum(OPERATIONS)
      .default("read")
      .describe("read → the file's text · write → { path, size } · list → entries · exists → boolean · create (mkdir -p) → { path, created } · delete → { path, deleted } · copy/move → { path, sourcePath }"),
    path: z.string().min(1).optional().describe("The file or directory. Relative paths resolve against the working directory (--workdir). Required; editor files call it `filePath`"),
    filePath: z.string().min(1).optional().describe("Alias of `path` (Atomiton editor files)"),
    content: z
      .unknown()
      .optional()
      .describe("write: what to write, default the input. Strings as text (in `encoding`), bytes as bytes, items carrying `data` bytes (image outputs) as those bytes, other values as pretty JSON"),
    encoding: z.enum(ENCODINGS).default("utf8").describe("Text encoding for read and for string content on write (utf8, ascii, base64, hex, latin1/binary, utf16le)"),
    createDirectories: z.boolean().default(true).describe("write/copy/move: create missing parent directories (alias createDirectory)"),
    overwrite: z.boolean().default(true).describe("write/copy/move: replace an existing target; false fails instead"),
    pattern: z.string().min(1).default("*").describe("list: glob pattern relative to `path`, with braces and globstar (`*.{jpg,png}`, `**/*.md`)"),
    recursive: z.boolean().default(false).describe("list: descend into subdirectories (the pattern is matched at any depth) · delete: remove a non-empty directory with its content"),
    includeStats: z.boolean().default(false).describe("list: add `size` (bytes) and `modified` (ISO time) to each entry"),
    includeHidden: z.boolean().default(false).describe("list: include entries whose name starts with a dot"),
    caseSensitive: z.boolean().default(true).describe("list: match the pattern case-sensitively (false: `*.jpg` also matches PHOTO.JPG)"),
    destination: z.string().min(1).optional().describe("copy/move: the target path (default the `targetPath` input); an existing directory or a path ending in / receives the source by its name. A file is copied (or moved across filesystems) into a temp file renamed over the target once complete: a timeout or Ctrl-C leaves the target as it was"),
  })
  .superRefine((value, issue) => {
    if (value.path === undefined && value.filePath === undefined) {
      issue.addIssue({ code: "custom", path: ["path"], message: "`path` is required (the file or directory to work on)" });
    }
  });

export type FileSystemParameters = z.output<typeof parameters>;

/**
 * Read, write, list, check, create, delete, copy and move files. Writes are atomic (temp file +
 * rename); relative paths resolve against the run's working directory.
 */
export default defineNode({
  type: "file-system",
  title: "File system",
  description: "Read, write (atomically), list (glob), check, create, delete, copy and move files and directories.",
  category: "io",
  parameters,
  inputs: [
    { id: "input", description: "write: the content when `content` is not set" },
    { id: "targetPath", description: "copy/move: the destination when `destination` is not set" },
  ],
  outputs: [
    { id: "output", description: "read: text · write: { path, size } · list: [{ name, path, relativePath, isFile, isDirectory, size?, modified? }] · exists: boolean · …" },
    { id: "error", description: "The failure, when onError: route" },
  ],
  parameterAliases: { filePath: "path", createDirectory: "createDirectories", targetPath: "destination" },
  example: `- id: images
  type: file-system
  parameters: { operation: list, path: ./images, pattern: "*.{jpg,png}", includeStats: true }
- id: save
  type: file-system
  parameters: { operation: write, path: out/report.json }   # writes the input as pretty JSON`,
  async execute(ctx) {
    const p = ctx.parameters.path ?? ctx.parameters.filePath;
    if (p === undefined) {
      throw new NonRetryableError("file-system: `path` is required", { code: ErrorCode.NODE_INPUT, hint: "set `path: <file or directory>`" });
    }
    const what = `file-system ${ctx.parameters.operation} ${p}`;
    throwIfAborted(ctx.signal, what);
    switch (ctx.parameters.operation) {
      case "read":
        return readTextFile(ctx, p);
      case "write":
        return writeContent(ctx, p);
      case "list":
        return listDirectory(ctx, p);
      case "exists":
        return pathExists(ctx, p);
      case "create":
        return createDirectory(ctx, p);
      case "delete":
        return deletePath(ctx, p);
      case "copy":
      case "move":
        return copyOrMove(ctx, p, ctx.parameters.operation);
    }
  },
});
