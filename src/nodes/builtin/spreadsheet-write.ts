import path from "node:path";
import { ErrorCode, NonRetryableError } from "../../errors.js";
import { toJsonSafe } from "../../events/json-safe.js";
import type { NodeContext } from "../define-node.js";
import { atomicWriteFile, isBytes, resolvePath, toBufferEncoding } from "./file-utils.js";
import type { SpreadsheetParameters } from "./spreadsheet.js";
import { formatDate } from "./spreadsheet-rows.js";

type Ctx = NodeContext<SpreadsheetParameters>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isBytes(value) && !(value instanceof Date);
}

/** A cell as CSV text: null → empty, dates ISO, objects JSON, booleans true/false. */
function cellToText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return formatDate(value);
  // JSON as the run's records write it: a BigInt inside as its digits, a Map as an object (JSON.stringify threw, or wrote `{}`).
  if (typeof value === "object") return JSON.stringify(toJsonSafe(value, { binary: "base64" }));
  return String(value);
}

/** Write the rows (objects or arrays) as CSV; objects get a header row from the union of their keys. */
export async function writeSpreadsheet(ctx: Ctx): Promise<{ path: string; rowCount: number }> {
  const p = ctx.parameters;
  const target = p.path ?? p.filePath;
  if (target === undefined) {
    throw new NonRetryableError("spreadsheet write: `path` is required", { code: ErrorCode.NODE_INPUT, hint: "set `path: out/file.csv`" });
  }
  const file = resolvePath(ctx.workdir, target);
  const extension = path.extname(file).toLowerCase();
  const format = p.format === "auto" ? (extension === ".tsv" || extension === ".tab" ? "tsv" : extension === ".xlsx" || extension === ".ods" || extension === ".xls" ? extension.slice(1) : "csv") : p.format;
  if (format !== "csv" && format !== "tsv") {
    throw new NonRetryableError(`spreadsheet write ${file}: writing ${format} is not supported; only CSV/TSV`, {
      code: ErrorCode.SPREADSHEET,
      hint: "write a .csv (or .tsv) file; spreadsheet apps open both",
    });
  }
  const value = p.data !== undefined ? p.data : ctx.input;
  const rows: unknown[] = Array.isArray(value) ? value : isRecord(value) ? [value] : [];
  if (!Array.isArray(value) && !isRecord(value)) {
    throw new NonRetryableError(`spreadsheet write ${file}: expected rows (an array of objects or arrays), got ${value === null ? "null" : typeof value}`, {
      code: ErrorCode.NODE_INPUT,
      hint: "connect a node that outputs records, or set `data`",
    });
  }
  const objects = rows.length > 0 && rows.every(isRecord);
  if (rows.length > 0 && !objects && !rows.every(Array.isArray)) {
    throw new NonRetryableError(`spreadsheet write ${file}: every row must be an object, or every row an array`, { code: ErrorCode.NODE_INPUT });
  }
  let header: string[] | undefined = p.columns;
  let table: unknown[][];
  if (objects) {
    if (!header) {
      const keys = new Set<string>();
      for (const row of rows as Record<string, unknown>[]) for (const key of Object.keys(row)) keys.add(key);
      header = [...keys];
    }
    const columns = header;
    table = (rows as Record<string, unknown>[]).map((row) => columns.map((key) => row[key]));
  } else {
    table = rows as unknown[][];
  }
  const { stringify } = await import("csv-stringify/sync");
  const lines = [...(p.hasHeaders && header ? [header] : []), ...table].map((row) => row.map(cellToText));
  const text = stringify(lines, { delimiter: p.delimiter ?? (format === "tsv" ? "\t" : ","), record_delimiter: "unix" });
  const encoding = toBufferEncoding(p.encoding);
  await atomicWriteFile(file, encoding === "utf8" ? text : Buffer.from(text, encoding), { createDirectories: p.createDirectories, overwrite: p.overwrite, signal: ctx.signal });
  ctx.log("debug", `spreadsheet: wrote ${table.length} row(s) to ${file}`);
  return { path: file, rowCount: table.length };
}
