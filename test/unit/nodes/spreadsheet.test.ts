import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCode } from "../../../src/errors.js";
import spreadsheet from "../../../src/nodes/builtin/spreadsheet.js";
import { detectDelimiter, typeCell } from "../../../src/nodes/builtin/spreadsheet-rows.js";
import { createTempDir, exampleParameters, parseParameters, rejectionOf, removeTempDir, runNode, startNode } from "../../helpers/node-context.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const samples = path.resolve(repoRoot, "../shared/compat/atomiton/data/spreadsheets");
const haveSamples = existsSync(samples);
if (!haveSamples) console.warn(`spreadsheet tests: ${samples} is absent; the tests on the Atomiton sample files are skipped`);

let workdir: string;
beforeAll(async () => {
  workdir = await createTempDir("atomiton-sheet-");
});
afterAll(() => removeTempDir(workdir));

type Row = Record<string, unknown>;

async function readCsv(text: string, params: Record<string, unknown> = {}, name = `t${Math.random().toString(36).slice(2)}.csv`): Promise<{ records: unknown[]; logs: { level: string; message: string }[] }> {
  await writeFile(path.join(workdir, name), text);
  const { output, logs } = await runNode(spreadsheet, { path: name, ...params }, { workdir });
  return { records: output as unknown[], logs };
}

describe("spreadsheet parameters", () => {
  test("defaults", () => {
    expect(spreadsheet.parameters.parse({})).toEqual({
      operation: "read",
      format: "auto",
      hasHeaders: true,
      typed: false,
      skipEmptyLines: true,
      trim: false,
      encoding: "utf8",
      createDirectories: true,
      overwrite: true,
    });
  });

  test("editor names: csv-reader type, filePath, sheetName, the `data` output handle", () => {
    expect(spreadsheet.aliases).toContain("csv-reader");
    expect(spreadsheet.portAliases).toMatchObject({ data: "output" });
    expect(parseParameters(spreadsheet, { filePath: "a.xlsx", sheetName: "Users", encoding: "utf-8", delimiter: "," })).toMatchObject({ path: "a.xlsx", sheet: "Users", encoding: "utf-8", delimiter: "," });
  });

  test.each([
    [{ operation: "append" }],
    [{ format: "numbers" }],
    [{ sheet: -1 }],
    [{ delimiter: "" }],
  ])("rejects %j", (raw) => {
    expect(spreadsheet.parameters.safeParse(raw).success).toBe(false);
  });

  test("has an example", async () => {
    const examples = await exampleParameters(spreadsheet);
    expect(examples.length).toBeGreaterThan(0);
    for (const raw of examples) expect(parseParameters(spreadsheet, raw)).toBeTruthy();
  });
});

describe("delimiter detection and typing", () => {
  test.each([
    ["a,b,c\n1,2,3\n", ","],
    ["a;b;c\n1;2,5;3\n4;5,1;6\n", ";"],
    ["a\tb\n1\t2\n", "\t"],
    ["a|b|c\n1|2|3\n", "|"],
    ['"x,y";b\n"1,2";3\n"4,5";6\n', ";"],
    ['name,quote\nAda,"said ""hi; there|"""\n', ","],
    ["single column\nvalue\n", ","],
    ["", ","],
  ])("%j → %j", (text, expected) => {
    expect(detectDelimiter(text)).toBe(expected);
  });

  test.each([
    ["42", 42],
    ["-3.5", -3.5],
    ["1e3", 1000],
    ["007", "007"],
    ["0.5", 0.5],
    ["TRUE", true],
    ["false", false],
    ["", null],
    ["  ", null],
    ["12abc", "12abc"],
    // Past 2^53 a whole number would lose digits: it stays text.
    ["12345678901234567890", "12345678901234567890"],
    ["9007199254740993", "9007199254740993"],
    ["9007199254740991", 9007199254740991],
    ["-9007199254740991", -9007199254740991],
  ])("typeCell(%j) → %j", (text, expected) => {
    expect(typeCell(text)).toBe(expected);
  });
});

describe.skipIf(!haveSamples)("spreadsheet: the Atomiton sample files", () => {
  const at = (name: string): string => path.join(samples, name);

  test("sales.csv as the editor reads it: strings, so row.active === 'true' works downstream", async () => {
    const { output } = await runNode(spreadsheet, { filePath: at("sales.csv"), hasHeaders: true, delimiter: ",", encoding: "utf-8" }, { workdir });
    const rows = output as Row[];
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual({ id: "1", customer: "Acme", active: "true", amount: "120.50" });
    const active = rows.filter((row) => row.active === "true");
    expect(active.reduce((sum, row) => sum + parseFloat(String(row.amount)), 0)).toBe(462.75);
  });

  test("test-data-tab.tsv: tab detected from the extension", async () => {
    const { output } = await runNode(spreadsheet, { path: at("test-data-tab.tsv") }, { workdir });
    expect((output as Row[])[0]).toEqual({ name: "Eve", age: "29", email: "eve@example.com", city: "Phoenix" });
  });

  test("test-data.xlsx: the first sheet, cells as text by default and typed on request", async () => {
    const text = (await runNode(spreadsheet, { path: at("test-data.xlsx") }, { workdir })).output as Row[];
    expect(text).toHaveLength(4);
    expect(text[0]).toEqual({ name: "Alice", age: "30", email: "alice@example.com", city: "New York" });
    const typed = (await runNode(spreadsheet, { path: at("test-data.xlsx"), typed: true }, { workdir })).output as Row[];
    expect(typed[0]?.age).toBe(30);
  });

  test.each([
    ["Products", { product: "Laptop", price: "999.99", stock: "15", category: "Electronics" }],
    ["sales", { date: "2024-01-01", amount: "1500", region: "North", product_id: "1" }],
    [1, { product: "Laptop", price: "999.99", stock: "15", category: "Electronics" }],
  ])("sheet %j", async (sheet, first) => {
    const { output } = await runNode(spreadsheet, { path: at("test-data.xlsx"), sheet }, { workdir });
    expect((output as Row[])[0]).toEqual(first);
  });

  test("an unknown sheet lists the sheets", async () => {
    const error = await rejectionOf(runNode(spreadsheet, { path: at("test-data.xlsx"), sheetName: "Nope" }, { workdir }));
    expect(error.code).toBe(ErrorCode.SPREADSHEET);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Users, Products, Sales");
  });

  test("test-data-no-headers.xlsx: arrays without headers, objects with `columns`", async () => {
    const arrays = (await runNode(spreadsheet, { path: at("test-data-no-headers.xlsx"), hasHeaders: false }, { workdir })).output as unknown[][];
    expect(arrays).toHaveLength(3);
    expect(arrays[0]).toEqual(["Alice", "30", "alice@example.com", "New York"]);
    const named = (await runNode(spreadsheet, { path: at("test-data-no-headers.xlsx"), hasHeaders: false, columns: ["n", "a", "e", "c"], typed: true }, { workdir })).output as Row[];
    expect(named[2]).toEqual({ n: "Charlie", a: 35, e: "charlie@example.com", c: "Chicago" });
  });

  test("xlsx bytes as input are recognised by their zip signature", async () => {
    const bytes = await readFile(at("test-data.xlsx"));
    const { output } = await runNode(spreadsheet, {}, { workdir, input: bytes });
    expect((output as Row[])[1]?.name).toBe("Bob");
  });

  test("test-data.ods: not supported, with a clear non-retryable error", async () => {
    const error = await rejectionOf(runNode(spreadsheet, { path: at("test-data.ods") }, { workdir }));
    expect(error.code).toBe(ErrorCode.SPREADSHEET);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("ods is not supported; convert it to xlsx or csv");
  });
});

describe("spreadsheet: reading CSV", () => {
  // Excel's "Unicode Text" export: UTF-16 with a byte order mark, tab-separated. It was read as UTF-8
  // (every other byte a NUL in the names and values).
  test.each([
    ["UTF-16LE", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("name\tcity\r\nJosé\tZürich\r\n", "utf16le")])],
    ["UTF-16BE", Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from("name\tcity\r\nJosé\tZürich\r\n", "utf16le").swap16()])],
  ])("a %s file with its byte order mark is read as such", async (_name, bytes) => {
    const name = `u16-${_name}.txt`;
    await writeFile(path.join(workdir, name), bytes);
    const { output } = await runNode(spreadsheet, { path: name }, { workdir });
    expect(output).toEqual([{ name: "José", city: "Zürich" }]);
  });

  test("quotes, escaped quotes, delimiters and newlines inside quotes, BOM and CRLF", async () => {
    const { records } = await readCsv('\uFEFFname,quote\r\n"Smith, J","He said ""hi""\r\nbye"\r\nAda,plain\r\n');
    expect(records).toEqual([
      { name: "Smith, J", quote: 'He said "hi"\r\nbye' },
      { name: "Ada", quote: "plain" },
    ]);
  });

  test.each([
    ["semicolons", "a;b\n1;2\n", { a: "1", b: "2" }],
    ["pipes", "a|b\n1|2\n", { a: "1", b: "2" }],
    ["an explicit delimiter", "a;b\n1;2\n", { "a;b": "1;2" }, { delimiter: "," }],
  ])("delimiter: %s", async (_name, text, first, params?: Record<string, unknown>) => {
    expect((await readCsv(text, params ?? {})).records[0]).toEqual(first);
  });

  test("empty lines are skipped by default and kept with skipEmptyLines: false", async () => {
    expect((await readCsv("a,b\n1,2\n\n3,4\n")).records).toHaveLength(2);
    expect((await readCsv("a,b\n1,2\n\n3,4\n", { skipEmptyLines: false })).records).toEqual([{ a: "1", b: "2" }, { a: "", b: "" }, { a: "3", b: "4" }]);
  });

  test("typed: numbers, booleans, empty → null, leading zeros kept", async () => {
    const { records } = await readCsv("id,zip,active,note\n1,02134,true,\n2.5,10001,FALSE,x\n", { typed: true });
    expect(records).toEqual([
      { id: 1, zip: "02134", active: true, note: null },
      { id: 2.5, zip: 10001, active: false, note: "x" },
    ]);
  });

  test("trim", async () => {
    expect((await readCsv("a, b\n 1 ,2 \n", { trim: true })).records).toEqual([{ a: "1", b: "2" }]);
  });

  test("ragged rows: missing cells are empty, extra cells kept as columnN with a warning", async () => {
    const { records, logs } = await readCsv("a,b\n1\n2,3,4\n");
    expect(records).toEqual([{ a: "1", b: "" }, { a: "2", b: "3", column3: "4" }]);
    expect(logs.some((l) => l.level === "warn" && l.message.includes("more cells"))).toBe(true);
  });

  test("empty and duplicate headers get names", async () => {
    expect((await readCsv("x,,x\n1,2,3\n")).records).toEqual([{ x: "1", column2: "2", x_2: "3" }]);
  });

  test("hasHeaders: false gives arrays", async () => {
    expect((await readCsv("1,2\n3,4\n", { hasHeaders: false })).records).toEqual([["1", "2"], ["3", "4"]]);
  });

  test.each([
    ["`data` text", { data: "a,b\n1,2\n" }, undefined],
    ["input text", {}, "a,b\n1,2\n"],
  ])("reads %s without a file", async (_name, params, input) => {
    const { output } = await runNode(spreadsheet, params, { workdir, input });
    expect(output).toEqual([{ a: "1", b: "2" }]);
  });

  test("a { path } input item (a file-list entry) is read", async () => {
    await writeFile(path.join(workdir, "item.csv"), "k\nv\n");
    const { output } = await runNode(spreadsheet, {}, { workdir, input: { name: "item.csv", path: path.join(workdir, "item.csv") } });
    expect(output).toEqual([{ k: "v" }]);
  });

  test("latin1 encoding", async () => {
    await writeFile(path.join(workdir, "latin.csv"), Buffer.from("name\nJosé\n", "latin1"));
    const { output } = await runNode(spreadsheet, { path: "latin.csv", encoding: "iso-8859-1" }, { workdir });
    expect(output).toEqual([{ name: "José" }]);
  });

  test.each([
    ["a missing file", { path: "missing.csv" }, ErrorCode.FILE, "missing.csv"],
    ["nothing to read", {}, ErrorCode.NODE_INPUT, "nothing to read"],
    ["an unclosed quote", { data: 'a,b\n1,"open\n' }, ErrorCode.SPREADSHEET, "Quote Not Closed"],
  ])("%s → non-retryable error", async (_name, params, code, message) => {
    const error = await rejectionOf(runNode(spreadsheet, params, { workdir }));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(message);
  });
});

describe("spreadsheet: writing CSV", () => {
  test("objects → a header row from the union of keys; values quoted as needed; reads back", async () => {
    const rows = [
      { name: "Smith, J", note: 'say "hi"', n: 1 },
      { name: "Ada", extra: true, when: new Date(Date.UTC(2024, 0, 2)), nested: { a: 1 }, nothing: null },
    ];
    const { output } = await runNode(spreadsheet, { operation: "write", path: "out/people.csv" }, { workdir, input: rows });
    expect(output).toEqual({ path: path.join(workdir, "out", "people.csv"), rowCount: 2 });
    expect(await readFile(path.join(workdir, "out", "people.csv"), "utf8")).toBe(
      'name,note,n,extra,when,nested,nothing\n"Smith, J","say ""hi""",1,,,,\nAda,,,true,2024-01-02,"{""a"":1}",\n',
    );
    const back = (await runNode(spreadsheet, { path: "out/people.csv" }, { workdir })).output as Row[];
    expect(back[0]).toMatchObject({ name: "Smith, J", note: 'say "hi"', n: "1" });
  });

  test.each([
    ["arrays, no header", "rows.csv", {}, [["a", 1], ["b", 2]], "a,1\nb,2\n"],
    ["tab for .tsv", "rows.tsv", {}, [{ a: 1, b: 2 }], "a\tb\n1\t2\n"],
    ["an explicit delimiter", "semi.csv", { delimiter: ";" }, [{ a: 1, b: 2 }], "a;b\n1;2\n"],
    ["hasHeaders: false", "nohead.csv", { hasHeaders: false }, [{ a: 1, b: 2 }], "1;2\n".replace(";", ",")],
    ["`columns` picks and orders", "cols.csv", { columns: ["b", "a"] }, [{ a: 1, b: 2, c: 3 }], "b,a\n2,1\n"],
    ["a single object is one row", "one.csv", {}, { a: 1 }, "a\n1\n"],
  ])("%s", async (_name, file, params, input, expected) => {
    await runNode(spreadsheet, { operation: "write", path: file, ...params }, { workdir, input });
    expect(await readFile(path.join(workdir, file), "utf8")).toBe(expected);
  });

  test.each([
    ["xlsx output", { path: "x.xlsx" }, [{ a: 1 }], ErrorCode.SPREADSHEET],
    ["a string input", { path: "x.csv" }, "not rows", ErrorCode.NODE_INPUT],
    ["mixed rows", { path: "x.csv" }, [{ a: 1 }, [1]], ErrorCode.NODE_INPUT],
    ["no path", {}, [{ a: 1 }], ErrorCode.NODE_INPUT],
  ])("%s → non-retryable error", async (_name, params, input, code) => {
    const error = await rejectionOf(runNode(spreadsheet, { operation: "write", ...params }, { workdir, input }));
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(false);
  });

  test("overwrite: false keeps an existing file", async () => {
    await writeFile(path.join(workdir, "keep.csv"), "old\n");
    const error = await rejectionOf(runNode(spreadsheet, { operation: "write", path: "keep.csv", overwrite: false }, { workdir, input: [{ a: 1 }] }));
    expect(error.code).toBe(ErrorCode.FILE);
    expect(await readFile(path.join(workdir, "keep.csv"), "utf8")).toBe("old\n");
  });
});

describe("spreadsheet cancellation", () => {
  test("an aborted signal rejects with E_CANCELLED", async () => {
    const started = startNode(spreadsheet, { data: "a\n1\n" }, { workdir });
    started.controller.abort();
    expect((await rejectionOf(started.result)).code).toBe(ErrorCode.CANCELLED);
  });
});
