import { z } from "zod";
import { defineNode } from "../define-node.js";
import { throwIfAborted } from "./abort.js";
import { ENCODINGS } from "./file-utils.js";
import { readSpreadsheet } from "./spreadsheet-read.js";
import { writeSpreadsheet } from "./spreadsheet-write.js";

export const SPREADSHEET_FORMATS = ["auto", "csv", "tsv", "xlsx", "ods", "xls"] as const;

const parameters = z.object({
  operation: z.enum(["read", "write"]).default("read").describe("read → records · write → { path, rowCount } (CSV)"),
  path: z.string().min(1).optional().describe("The file to read or write, relative to the working directory. Alias filePath. read: default the input ({ path } items) or `data`"),
  filePath: z.string().min(1).optional().describe("Alias of `path` (Atomiton editor files)"),
  data: z.unknown().optional().describe("read: raw CSV text (or xlsx bytes) instead of a file · write: the rows, default the input"),
  format: z.enum(SPREADSHEET_FORMATS).default("auto").describe("auto: from the file extension (.csv/.txt, .tsv, .xlsx), else xlsx for zip bytes, else csv. ods and xls are not supported (convert to xlsx or csv)"),
  delimiter: z.string().min(1).optional().describe("Field delimiter. read: detected when unset (, ; tab |; tab for .tsv) · write: comma (tab for .tsv)"),
  hasHeaders: z.boolean().default(true).describe("The first row holds column names: rows become objects keyed by them; false → arrays of cells"),
  columns: z.array(z.string()).optional().describe("Column names to use instead of a header row (rows become objects even without headers)"),
  typed: z.boolean().default(false).describe("Convert cells: numbers (a whole number past 2^53 stays text), true/false, empty → null. Default false: every cell stays text, as in Atomiton"),
  skipEmptyLines: z.boolean().default(true).describe("Skip blank lines / empty rows"),
  trim: z.boolean().default(false).describe("Trim whitespace around each cell"),
  encoding: z.enum(ENCODINGS).default("utf8").describe("Text encoding of CSV files (a UTF-8 BOM is always skipped; a UTF-16 BOM, as in Excel's \"Unicode Text\", makes it UTF-16)"),
  sheet: z.union([z.string().min(1), z.number().int().min(0)]).optional().describe("xlsx: sheet name or 0-based index (default the first). Aliases sheetName, sheetIndex"),
  createDirectories: z.boolean().default(true).describe("write: create missing parent directories"),
  overwrite: z.boolean().default(true).describe("write: replace an existing file"),
});

export type SpreadsheetParameters = z.output<typeof parameters>;

/** Read CSV/TSV/xlsx into records, or write records as CSV. */
export default defineNode({
  type: "spreadsheet",
  title: "Spreadsheet",
  description: "Read CSV, TSV and xlsx files (or raw text) into records; write records as CSV. Delimiters are detected; values stay text unless typed: true.",
  category: "data",
  parameters,
  inputs: [{ id: "input", description: "read: CSV text, bytes or a { path } item when neither path nor data is set · write: the rows" }],
  outputs: [
    { id: "output", description: "read: the records (objects keyed by header, or arrays) · write: { path, rowCount }" },
    { id: "error", description: "The failure, when onError: route" },
  ],
  aliases: ["csv-reader"],
  portAliases: { data: "output", records: "output" },
  parameterAliases: { filePath: "path", sheetName: "sheet", sheetIndex: "sheet", createDirectory: "createDirectories" },
  example: `- id: sales
  type: spreadsheet
  parameters: { path: data/sales.csv, typed: true }
- id: export
  type: spreadsheet
  parameters: { operation: write, path: out/active.csv }`,
  async execute(ctx) {
    throwIfAborted(ctx.signal, `spreadsheet ${ctx.parameters.operation}`);
    return ctx.parameters.operation === "write" ? writeSpreadsheet(ctx) : readSpreadsheet(ctx);
  },
});
