import path from "node:path";
import { AtomitonError, ErrorCode, NonRetryableError } from "../../errors.js";
import type { NodeContext } from "../define-node.js";
import { raceAbort, throwIfAborted } from "./abort.js";
import { isBytes, isFileLike, readInputFile, resolvePath, toBufferEncoding } from "./file-utils.js";
import type { SpreadsheetParameters } from "./spreadsheet.js";
import { type Cell, cellText, cellValue, detectDelimiter, headerNames, isEmptyRow, toRecords, typeCell } from "./spreadsheet-rows.js";

type Ctx = NodeContext<SpreadsheetParameters>;
type Format = "csv" | "tsv" | "xlsx" | "ods" | "xls";

interface Source {
  /** Where the data came from, for messages. */
  label: string;
  file?: string;
  bytes?: Uint8Array;
  text?: string;
}

const EXTENSIONS: Record<string, Format> = { ".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".ods": "ods", ".xls": "xls" };

function spreadsheetError(message: string, options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {}): AtomitonError {
  return new NonRetryableError(message, { code: ErrorCode.SPREADSHEET, ...options });
}

async function resolveSource(ctx: Ctx): Promise<Source> {
  const p = ctx.parameters.path ?? ctx.parameters.filePath;
  const data = ctx.parameters.data;
  const input = ctx.input;
  let file: string | undefined;
  if (p !== undefined) file = resolvePath(ctx.workdir, p);
  else if (typeof data === "string") return { label: "data", text: data };
  else if (isBytes(data)) return { label: "data", bytes: data };
  else if (typeof input === "string") return { label: "the input", text: input };
  else if (isBytes(input)) return { label: "the input", bytes: input };
  else if (isFileLike(input) && isBytes(input.data)) return { label: typeof input.name === "string" ? input.name : "the input", bytes: input.data };
  else if (isFileLike(input) && typeof input.path === "string") file = resolvePath(ctx.workdir, input.path);
  if (file === undefined) {
    throw new NonRetryableError("spreadsheet: nothing to read (no `path`, no `data`, no text input)", {
      code: ErrorCode.NODE_INPUT,
      hint: "set `path: <file.csv|.tsv|.xlsx>`, or pass CSV text in `data`",
    });
  }
  return { label: file, file, bytes: await readInputFile(file, ctx.signal, "the spreadsheet") };
}

function formatOf(ctx: Ctx, source: Source): Format {
  if (ctx.parameters.format !== "auto") return ctx.parameters.format;
  const byExtension = source.file ? EXTENSIONS[path.extname(source.file).toLowerCase()] : undefined;
  if (byExtension) return byExtension;
  const b = source.bytes;
  // Zip magic: an xlsx workbook passed as bytes.
  if (b && b.byteLength > 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return "xlsx";
  return "csv";
}

/**
 * Delimited bytes as text: UTF-16 (Excel's "Unicode Text" export) is known by its byte order mark,
 * which wins over `encoding`; anything else is read in `encoding`.
 */
function delimitedText(bytes: Uint8Array, encoding: BufferEncoding): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  return Buffer.from(bytes).toString(encoding);
}

async function readDelimited(ctx: Ctx, source: Source, format: Format): Promise<Cell[][]> {
  const p = ctx.parameters;
  const text = source.text ?? delimitedText(source.bytes ?? new Uint8Array(), toBufferEncoding(p.encoding));
  const delimiter = p.delimiter ?? (format === "tsv" ? "\t" : detectDelimiter(text.replace(/^\uFEFF/, "")));
  if (p.delimiter === undefined) ctx.log("debug", `spreadsheet: delimiter ${JSON.stringify(delimiter)} for ${source.label}`);
  const { parse } = await import("csv-parse");
  const parser = parse(text, { delimiter, bom: true, relax_column_count: true, skip_empty_lines: p.skipEmptyLines, trim: p.trim });
  const rows: Cell[][] = [];
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      rows.push(record);
      if (rows.length % 5000 === 0) throwIfAborted(ctx.signal, `reading ${source.label}`);
    }
  } catch (error) {
    if (error instanceof AtomitonError) throw error;
    const e = error as Error & { code?: string; lines?: number };
    throw spreadsheetError(`cannot parse ${source.label} as ${format.toUpperCase()}${e.lines ? ` (line ${e.lines})` : ""}: ${e.message}`, {
      cause: error,
      hint: "check the quoting; set `delimiter` if it was not detected correctly",
      details: { ...(e.code ? { csvCode: e.code } : {}), ...(e.lines ? { line: e.lines } : {}) },
    });
  }
  return rows;
}

async function readWorkbook(ctx: Ctx, source: Source): Promise<{ rows: unknown[][]; sheetName: string }> {
  const { default: readXlsxFile } = await import("read-excel-file/node");
  let sheets: Array<{ sheet: string; data: unknown[][] }>;
  try {
    const input = source.file ?? Buffer.from(source.bytes ?? new Uint8Array());
    sheets = (await raceAbort(readXlsxFile(input), ctx.signal, `reading ${source.label}`)) as Array<{ sheet: string; data: unknown[][] }>;
  } catch (error) {
    if (error instanceof AtomitonError) throw error;
    throw spreadsheetError(`cannot read ${source.label} as xlsx: ${(error as Error).message}`, { cause: error, hint: "is it really an .xlsx workbook? For CSV text set `format: csv`" });
  }
  const wanted = ctx.parameters.sheet;
  const names = sheets.map((s) => s.sheet);
  const found = wanted === undefined ? sheets[0] : typeof wanted === "number" ? sheets[wanted] : (sheets.find((s) => s.sheet === wanted) ?? sheets.find((s) => s.sheet.toLowerCase() === wanted.toLowerCase()));
  if (!found) {
    throw spreadsheetError(`${source.label} has no sheet ${typeof wanted === "number" ? `at index ${wanted}` : JSON.stringify(wanted)}; its sheets are: ${names.join(", ") || "(none)"}`, {
      hint: "set `sheet` to one of those names, or a 0-based index",
      details: { sheets: names },
    });
  }
  return { rows: found.data, sheetName: found.sheet };
}

/** Read the spreadsheet and return its records. */
export async function readSpreadsheet(ctx: Ctx): Promise<Array<Record<string, Cell> | Cell[]>> {
  const p = ctx.parameters;
  const source = await resolveSource(ctx);
  const format = formatOf(ctx, source);
  if (format === "ods" || format === "xls") {
    throw spreadsheetError(`${source.label}: ${format} is not supported; convert it to xlsx or csv`, {
      hint: `save it as .xlsx or .csv from your spreadsheet app (LibreOffice: soffice --headless --convert-to xlsx ${source.file ? path.basename(source.file) : "file"})`,
      details: { format },
    });
  }
  let rows: Cell[][];
  let sheetNote = "";
  if (format === "xlsx") {
    const workbook = await readWorkbook(ctx, source);
    sheetNote = ` (sheet "${workbook.sheetName}")`;
    const convert = p.typed ? cellValue : cellText;
    rows = workbook.rows.map((row) => row.map((cell) => (p.trim && typeof cell === "string" ? convert(cell.trim()) : convert(cell))));
    if (p.skipEmptyLines) rows = rows.filter((row) => !isEmptyRow(row));
  } else {
    rows = await readDelimited(ctx, source, format);
    if (p.typed) rows = rows.map((row) => row.map((cell) => (typeof cell === "string" ? typeCell(cell) : cell)));
  }
  throwIfAborted(ctx.signal, `reading ${source.label}`);

  let headers = p.columns;
  if (p.hasHeaders) {
    const headerRow = rows.shift() ?? [];
    headers ??= headerNames(headerRow);
  }
  const { records, widerRows } = toRecords(rows, headers, p.typed ? null : "");
  if (widerRows > 0) ctx.log("warn", `spreadsheet: ${widerRows} row(s) of ${source.label} have more cells than the ${headers?.length ?? 0} columns; the extra cells are kept as columnN`);
  ctx.log("debug", `spreadsheet: read ${records.length} record(s)${headers ? ` with columns ${headers.join(", ")}` : ""} from ${source.label}${sheetNote}`);
  return records;
}
