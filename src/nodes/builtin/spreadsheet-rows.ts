/** Pure helpers of the spreadsheet node: delimiter detection, typing cells, rows → records. */

export type Cell = string | number | boolean | null;

const CANDIDATES = [",", ";", "\t", "|"] as const;

/**
 * Guess the delimiter of delimited text: the candidate (`,` `;` tab `|`) that appears, outside
 * quotes, the same non-zero number of times on each of the first lines, preferring the most
 * frequent; else the one seen most often; else a comma.
 */
export function detectDelimiter(text: string, sampleLines = 10): string {
  const counts: number[][] = [];
  let current = new Map<string, number>();
  let inQuotes = false;
  let lineHasContent = false;
  for (let i = 0; i < text.length && counts.length < sampleLines; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      if (inQuotes && text[i + 1] === '"') i++;
      else inQuotes = !inQuotes;
      lineHasContent = true;
    } else if (!inQuotes && (ch === "\n" || ch === "\r")) {
      if (lineHasContent) counts.push(CANDIDATES.map((c) => current.get(c) ?? 0));
      current = new Map();
      lineHasContent = false;
    } else {
      if (!inQuotes && (CANDIDATES as readonly string[]).includes(ch)) current.set(ch, (current.get(ch) ?? 0) + 1);
      lineHasContent = true;
    }
  }
  if (lineHasContent && counts.length < sampleLines) counts.push(CANDIDATES.map((c) => current.get(c) ?? 0));
  if (counts.length === 0) return ",";
  let best: { delimiter: string; score: number } | undefined;
  CANDIDATES.forEach((delimiter, index) => {
    const perLine = counts.map((line) => line[index] ?? 0);
    const first = perLine[0] ?? 0;
    const consistent = first > 0 && perLine.every((n) => n === first);
    const total = perLine.reduce((a, b) => a + b, 0);
    // A consistent count beats any inconsistent total; among consistent ones, the larger count wins.
    const score = consistent ? 1_000_000 + first : total;
    if (score > 0 && (!best || score > best.score)) best = { delimiter, score };
  });
  return best?.delimiter ?? ",";
}

const NUMBER = /^[-+]?(?:(?:0|[1-9]\d*)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+$/;

/**
 * `typed: true` conversion of a text cell: numbers (not ones with leading zeros such as zip
 * codes), true/false, and empty → null; everything else stays text.
 */
export function typeCell(text: string): Cell {
  const value = text.trim();
  if (value === "") return null;
  if (NUMBER.test(value)) {
    const n = Number(value);
    // A whole number past 2^53 (an id, an account number) would come back rounded: it stays text,
    // as `007` does, rather than lose digits without a word.
    return INTEGER.test(value) && !Number.isSafeInteger(n) ? text : n;
  }
  const lower = value.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  return text;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** A date as `yyyy-mm-dd` when it is a whole day (UTC), else full ISO. */
export function formatDate(date: Date): string {
  if (date.getUTCHours() === 0 && date.getUTCMinutes() === 0 && date.getUTCSeconds() === 0 && date.getUTCMilliseconds() === 0) {
    return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  }
  return date.toISOString();
}

/** An xlsx cell as text (`typed: false`), the way a spreadsheet app shows it. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return formatDate(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  return String(value);
}

/** An xlsx cell with its native type (`typed: true`); dates become ISO text, empty → null. */
export function cellValue(value: unknown): Cell {
  if (value === null || value === undefined || value === "") return null;
  if (value instanceof Date) return formatDate(value);
  if (typeof value === "number" || typeof value === "boolean") return value;
  return String(value);
}

/** `base`, or `base_2`, `base_3`… : the first that `used` does not hold yet (then added to it). */
function unusedName(base: string, used: Set<string>): string {
  let name = base;
  for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
  used.add(name);
  return name;
}

/**
 * Column names from a header row: trimmed, empty → `columnN`, duplicates → `name_2` (or the next
 * suffix no other column has: `a,a,a_2` gives a, a_2, a_2_2, never two columns of one name).
 */
export function headerNames(row: readonly unknown[]): string[] {
  const used = new Set<string>();
  return row.map((cell, i) => unusedName(cellText(cell).trim() || `column${i + 1}`, used));
}

/** Set a field, also one named `__proto__` (an assignment would set the object's prototype and lose the column). */
function setField(record: Record<string, Cell>, key: string, value: Cell): void {
  if (key === "__proto__") Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

export interface RecordsResult {
  records: Array<Record<string, Cell> | Cell[]>;
  headers: string[];
  /** Rows that had more cells than there are headers (their extra cells get `columnN` keys). */
  widerRows: number;
}

/**
 * Turn rows into records: objects keyed by `headers` when given, arrays otherwise. Missing cells
 * are `empty` ("" or null); extra cells are kept under `columnN`.
 */
export function toRecords(rows: Cell[][], headers: string[] | undefined, empty: "" | null): RecordsResult {
  if (!headers) return { records: rows, headers: [], widerRows: 0 };
  let widerRows = 0;
  // Names of the extra cells of wider rows, past the header's: `columnN`, or a free variant of it
  // when a header already has that name.
  const extraNames: string[] = [];
  const used = new Set(headers);
  const extraName = (i: number): string => (extraNames[i] ??= unusedName(`column${i + 1}`, used));
  const records = rows.map((row) => {
    const record: Record<string, Cell> = {};
    headers.forEach((h, i) => {
      setField(record, h, i < row.length ? (row[i] ?? empty) : empty);
    });
    if (row.length > headers.length) {
      widerRows += 1;
      for (let i = headers.length; i < row.length; i++) setField(record, extraName(i), row[i] ?? empty);
    }
    return record;
  });
  return { records, headers, widerRows };
}

export function isEmptyRow(row: readonly unknown[]): boolean {
  return row.every((cell) => cell === null || cell === undefined || (typeof cell === "string" && cell.trim() === ""));
}
