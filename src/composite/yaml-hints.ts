/** One syntax error as the yaml library reports it, located. */
export interface YamlSyntaxError {
  code: string;
  message: string;
  line: number;
  col: number;
}

/** What to print instead: the line that is wrong, a message a person recognises, and the fix. */
export interface ExplainedYamlError {
  message: string;
  line: number;
  col: number;
  hint?: string;
}

/** Codes the yaml library gives for a line indented more or less than its neighbours. */
const INDENT_CODES = new Set(["BAD_INDENT", "MISSING_CHAR", "BLOCK_AS_IMPLICIT_KEY", "MULTILINE_IMPLICIT_KEY"]);
/** Codes for a flow collection (`{ … }`, `[ … ]`) broken by a character that needed quotes. */
const FLOW_CODES = new Set(["UNEXPECTED_TOKEN", "BLOCK_IN_FLOW", "MISSING_CHAR", "BAD_INDENT"]);
/** Lines longer than this are not analysed. */
const MAX_EXPLAINED_LINE = 1000;
/** `key:` or `- key:` at the start of a line: indent, dash, key. */
const KEY_LINE = /^( *)((?:- +)*)([^\s#'"{[-][^:#]*?|"[^"]*"|'[^']*'):(?: +(.*))?$/;

/**
 * Turn the yaml library's syntax errors into errors that name the real mistake and its fix:
 * - a line indented one space too many is reported where the library gives up (`4:11 Nested
 *   mappings…` about the line above); say instead that line 5 is indented more than `type:`;
 * - `code: return { a: b }` (a `: ` or `{` in a plain value): quote the value or use `|`;
 * - the several errors of one broken `{ … }` line become one.
 * Errors on one line are merged into the first; unexplained errors keep the library's message.
 */
export function explainYamlErrors(errors: readonly YamlSyntaxError[], text: string): ExplainedYamlError[] {
  const lines = text.split(/\r?\n/);
  const out: ExplainedYamlError[] = [];
  const seenLines = new Set<number>();
  for (const error of errors) {
    const explained = (INDENT_CODES.has(error.code) && misindented(lines, error.line)) || unquoted(lines, error) || plain(error, lines);
    if (seenLines.has(explained.line)) continue;
    seenLines.add(explained.line);
    out.push(explained);
  }
  return out;
}

/** What yaml's "Maximum call stack size exceeded" means, said where reading gave up. */
export const TOO_DEEP = "the YAML nests too deeply to be read: lists or mappings hundreds of levels inside each other (this is where reading gave up)";

/** yaml's error for nesting that ran out of stack (the library gives it code RESOURCE_EXHAUSTION). */
export function isTooDeep(error: { code?: unknown; message: string }): boolean {
  return error.code === "RESOURCE_EXHAUSTION" && /call stack/i.test(error.message);
}

function plain(error: YamlSyntaxError, lines: readonly string[]): ExplainedYamlError {
  // The library's own words are advice to its callers ("please use YAML.parseAllDocuments()").
  const message =
    error.code === "MULTIPLE_DOCS" ? "a second YAML document starts here: a composite file holds one"
    : isTooDeep(error) ? TOO_DEEP
    : error.message;
  const out: ExplainedYamlError = { message, line: error.line, col: error.col };
  // "column 1" of an indentation error means the line: point at its first character.
  if (error.col === 1 && (error.code === "BAD_INDENT" || error.code === "MISSING_CHAR")) out.col = indentOf(lines[error.line - 1] ?? "") + 1;
  const hint = codeHint(error.code);
  if (hint !== undefined) out.hint = hint;
  return out;
}

function codeHint(code: string): string | undefined {
  switch (code) {
    case "DUPLICATE_KEY":
      return "each key may appear once per mapping; remove or rename the duplicate";
    case "TAB_AS_INDENT":
      return "YAML indentation must use spaces, not tabs";
    case "RESOURCE_EXHAUSTION":
      return "a composite needs a few levels of nesting; keep deeply nested data in a file of its own and read it with a file-system node";
    case "MULTIPLE_DOCS":
      return "remove this `---` line and what follows, or put each composite in a file of its own";
    case "BAD_INDENT":
    case "MISSING_CHAR":
      return "check the indentation and the `key: value` form of this line";
    default:
      return undefined;
  }
}

interface KeyLine {
  line: number;
  /** Column (0-based) where the key starts, after any `- `. */
  keyCol: number;
  indent: number;
  key: string;
  /** The value after `key: `, trimmed; "" when the line opens a block. */
  value: string;
}

function parseKeyLine(text: string, line: number): KeyLine | undefined {
  // A generated line (minified JSON, a 300 kB value) is no hand-written indentation mistake; and the regexes stay linear.
  if (text.length > MAX_EXPLAINED_LINE) return undefined;
  const m = KEY_LINE.exec(text);
  if (!m) return undefined;
  const indent = m[1]!.length;
  return { line, indent, keyCol: indent + m[2]!.length, key: m[3]!.trim(), value: (m[4] ?? "").replace(/\s+#.*$/, "").trim() };
}

/**
 * Near `errorLine` (the library reports the line before the culprit, or the culprit), the first
 * `key:` line whose indentation fits neither the line above (a sibling) nor a block it opens.
 */
function misindented(lines: readonly string[], errorLine: number): ExplainedYamlError | undefined {
  for (let n = Math.max(2, errorLine); n <= Math.min(lines.length, errorLine + 1); n++) {
    const current = parseKeyLine(lines[n - 1] ?? "", n);
    const above = previousKeyLine(lines, n);
    if (!current || !above) continue;
    const opensBlock = above.value === "" || /^[|>][-+0-9]*$/.test(above.value) || isOpen(above.value);
    const col = current.indent + 1;
    if (current.indent > above.keyCol && !opensBlock) {
      const extra = current.indent - above.keyCol;
      return {
        message: `\`${current.key}:\` is indented ${spaces(extra)} more than \`${above.key}:\` on line ${above.line}`,
        line: n,
        col,
        hint: `remove ${extra === 1 ? "the extra space" : `${extra} spaces`} so \`${current.key}:\` lines up with \`${above.key}:\`; a line indented deeper than the key above it continues that key's value`,
      };
    }
    if (current.indent < above.keyCol && !validColumns(lines, n).has(current.indent)) {
      const missing = above.keyCol - current.indent;
      return {
        message: `\`${current.key}:\` is indented ${spaces(missing)} less than \`${above.key}:\` on line ${above.line}, and lines up with no key above it`,
        line: n,
        col,
        hint: `indent \`${current.key}:\` by ${spaces(above.keyCol)} to line it up with \`${above.key}:\`, or, if line ${above.line} is the one out of line, indent it like this one`,
      };
    }
  }
  return undefined;
}

/** Columns a line after line `n - 1` may start at: its own key's, or an enclosing mapping's or list's. */
function validColumns(lines: readonly string[], n: number): Set<number> {
  const columns = new Set<number>([0]);
  let limit = Infinity;
  for (let i = n - 1; i >= 1 && limit > 0; i--) {
    const entry = parseKeyLine(lines[i - 1] ?? "", i);
    if (!entry) continue;
    if (entry.keyCol < limit) columns.add(entry.keyCol);
    if (entry.indent < limit) {
      columns.add(entry.indent);
      limit = entry.indent;
    }
  }
  return columns;
}

function previousKeyLine(lines: readonly string[], n: number): KeyLine | undefined {
  for (let i = n - 1; i >= 1; i--) {
    const text = lines[i - 1] ?? "";
    if (text.trim() === "" || text.trim().startsWith("#")) continue;
    return parseKeyLine(text, i);
  }
  return undefined;
}

/**
 * `code: return { a: b }` or `message: note: this`: a plain value holding `: `, `{`, `[` or a
 * comma inside `{ }` that YAML reads as structure. The hint quotes the value for the user.
 */
function unquoted(lines: readonly string[], error: YamlSyntaxError): ExplainedYamlError | undefined {
  if (error.code !== "BLOCK_AS_IMPLICIT_KEY" && !FLOW_CODES.has(error.code)) return undefined;
  const text = lines[error.line - 1] ?? "";
  const entry = parseKeyLine(text, error.line);
  if (!entry || entry.value === "") return undefined;
  if (entry.value.startsWith("{") || entry.value.startsWith("[")) {
    // A flow mapping whose values hold `{`, `: ` or `,`: find the value that broke it.
    const inner = /(\w+): *([^"'{[\s,}][^,}{[]*[{[][^}]*\}?)/.exec(entry.value.slice(1));
    const shown = inner ? `${inner[1]}: "${inner[2]!.trim().replace(/"/g, '\\"')}"` : `key: "…"`;
    return {
      message: `this line's ${entry.value.startsWith("{") ? "{ … } mapping" : "[ … ] list"} cannot be read: a value in it holds \`{\`, \`}\`, \`[\`, \`]\`, \`,\` or \`: \` without quotes`,
      line: error.line,
      col: entry.keyCol + entry.key.length + 3,
      hint: `quote that value (${shown}), or write the mapping as indented \`key: value\` lines`,
    };
  }
  if (error.code !== "BLOCK_AS_IMPLICIT_KEY" || !/: |[{}[\]]/.test(entry.value)) return undefined;
  const quoted = `"${entry.value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  return {
    message: `the value of \`${entry.key}\` holds \`${entry.value.includes(": ") ? ": " : "{"}\`, which YAML reads as a nested mapping`,
    line: error.line,
    col: entry.keyCol + entry.key.length + 3,
    hint: `quote it (${entry.key}: ${quoted.length > 60 ? `"${entry.value.slice(0, 40)}…"` : quoted}) or put it on the next lines after \`${entry.key}: |\``,
  };
}

/** A `{`/`[` not closed on its line, or a quote not closed: the value goes on below. */
function isOpen(value: string): boolean {
  if (/^"(?:[^"\\]|\\.)*$/.test(value) || /^'(?:[^']|'')*$/.test(value)) return true;
  if (!value.startsWith("{") && !value.startsWith("[")) return false;
  let depth = 0;
  for (const ch of value.replace(/"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'/g, "")) {
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
  }
  return depth > 0;
}

function indentOf(text: string): number {
  return text.length - text.trimStart().length;
}

function spaces(n: number): string {
  return `${n} space${n === 1 ? "" : "s"}`;
}
