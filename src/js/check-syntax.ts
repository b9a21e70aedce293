import vm from "node:vm";

/** A JavaScript or template syntax error, at an offset into the text that was checked. */
export interface SyntaxProblem {
  message: string;
  /** 0-based offset into the checked text (its length when the text ends too early). */
  offset: number;
}

const FILE = "atomiton:check";
const END_OF_CODE = "the code ends too early: a bracket, brace, string or comment is not closed";
const END_OF_EXPRESSION = "the expression ends too early: an operand, bracket, brace or quote is missing";
const NO_IMPORT = "import() is not available in the sandbox";

/** How user text is wrapped to compile it; the wrapper sits on lines of its own. */
interface Wrapper {
  prefix: string;
  suffix: string;
  /** The message for an error past the end of the user's text (V8's would name the wrapper's token). */
  end: string;
}
const PAREN: Wrapper = { prefix: "return (\n", suffix: "\n);", end: END_OF_EXPRESSION };
const BRACKET: Wrapper = { prefix: "return [\n", suffix: "\n];", end: END_OF_EXPRESSION };
const ASYNC_BODY: Wrapper = { prefix: "return (async () => {\n", suffix: "\n})();", end: END_OF_CODE };
const BODY: Wrapper = { prefix: "", suffix: "", end: END_OF_CODE };

// Generated graphs repeat the same expressions; a compile costs tens of microseconds.
const checked = new Map<string, SyntaxProblem | undefined>();
function remember(key: string, check: () => SyntaxProblem | undefined): SyntaxProblem | undefined {
  if (checked.has(key)) return checked.get(key);
  const problem = check();
  if (checked.size >= 2000) checked.clear();
  checked.set(key, problem);
  return problem;
}

/** A JS expression (a template's `{{ }}`, `condition`, `if:`, loop `while`). */
export function checkExpression(expr: string): SyntaxProblem | undefined {
  return remember(`e\0${expr}`, () => {
    const problem = compile(expr, PAREN);
    // An extra `)` closes the wrapper's parenthesis and the error lands after the text; inside
    // brackets the same `)` is the error, where the user wrote it.
    if (problem?.offset === expr.length) return compile(expr, BRACKET) ?? problem;
    return problem ?? dynamicImport(expr);
  });
}

/** A function-valued expression such as `item => item.price` (transform functions). */
export const checkFunctionValue = checkExpression;

/** A JS function body (`code`, transform `expression`/`code`); `async` allows `await`. */
export function checkBody(body: string, options: { async: boolean }): SyntaxProblem | undefined {
  return remember(`${options.async ? "a" : "b"}\0${body}`, () => compile(body, options.async ? ASYNC_BODY : BODY) ?? dynamicImport(body));
}

/** Whether a body needs `await` (the code and transform nodes compile it async then). */
export function usesAwait(body: string): boolean {
  return /\bawait\b/.test(body);
}

function compile(text: string, wrapper: Wrapper): SyntaxProblem | undefined {
  try {
    vm.compileFunction(wrapper.prefix + text + wrapper.suffix, [], { filename: FILE });
    return undefined;
  } catch (error) {
    return locate(error, text, wrapper);
  }
}

function locate(error: unknown, text: string, wrapper: Wrapper): SyntaxProblem {
  const message = error instanceof Error ? error.message : String(error);
  // Node decorates a compile error's stack with `file:line`, the source line and a caret under the column.
  const m = new RegExp(`^${FILE}:(\\d+)\\n[^\\n]*\\n([ \\t]*)`).exec(error instanceof Error ? (error.stack ?? "") : "");
  if (!m) return { message, offset: 0 };
  const starts = lineStarts(text);
  const line = Number(m[1]) - 1 - lineCount(wrapper.prefix);
  if (line >= starts.length) return { message: wrapper.end, offset: text.length };
  if (line < 0) return { message, offset: 0 };
  const start = starts[line]!;
  const end = line + 1 < starts.length ? starts[line + 1]! - 1 : text.length;
  return { message: /^Unexpected end of input/.test(message) ? wrapper.end : message, offset: Math.min(start + m[2]!.length, end) };
}

/** Offsets where each line starts, with JavaScript's line terminators. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) continue;
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) starts.push(i + 1);
  }
  return starts;
}

function lineCount(prefix: string): number {
  return prefix === "" ? 0 : prefix.split("\n").length - 1;
}

function dynamicImport(source: string): SyntaxProblem | undefined {
  const at = findDynamicImport(source);
  return at < 0 ? undefined : { message: NO_IMPORT, offset: at };
}

const REGEX_AFTER_WORD = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);

/**
 * The offset of an `import(` call in JavaScript source, or -1. A vm context cannot refuse
 * `import()`: Node rejects it with an error made by the host, whose constructor chain reaches the
 * host's `Function`. So sources that call it are refused when they are compiled. The scan skips
 * strings, comments, template text and regular expressions; where it cannot tell a regular
 * expression from a division it reads on as code, so it may refuse too much, never too little.
 */
export function findDynamicImport(source: string): number {
  if (!source.includes("import")) return -1;
  const braces: number[] = []; // open `{` count of each template literal `${` we are inside
  let regexAllowed = true;
  let i = 0;
  const n = source.length;
  const skipSpace = (from: number): number => {
    let j = from;
    for (;;) {
      while (j < n && /\s/.test(source[j]!)) j++;
      if (source.startsWith("//", j)) {
        while (j < n && source[j] !== "\n") j++;
      } else if (source.startsWith("/*", j)) {
        const close = source.indexOf("*/", j + 2);
        j = close < 0 ? n : close + 2;
      } else {
        return j;
      }
    }
  };
  const skipTemplate = (from: number): number => {
    // from is just after "`" or "}" closing a `${`; returns after the closing "`" or after "${".
    let j = from;
    while (j < n) {
      const c = source[j]!;
      if (c === "\\") j += 2;
      else if (c === "`") return j + 1;
      else if (c === "$" && source[j + 1] === "{") {
        braces.push(0);
        return j + 2;
      } else j++;
    }
    return n;
  };
  while (i < n) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (source.startsWith("//", i) || source.startsWith("/*", i)) {
      i = skipSpace(i);
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n && source[j] !== c && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      i = j + 1;
      regexAllowed = false;
    } else if (c === "`") {
      i = skipTemplate(i + 1);
      regexAllowed = braces.length > 0 && source[i - 1] === "{";
    } else if (c === "/" && regexAllowed) {
      let j = i + 1;
      let inClass = false;
      while (j < n && source[j] !== "\n") {
        const d = source[j]!;
        if (d === "\\") j++;
        else if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      i = j + 1;
      while (i < n && /[\w$]/.test(source[i]!)) i++;
      regexAllowed = false;
    } else if (/[\w$\\]/.test(c) || c.charCodeAt(0) > 127) {
      let j = i;
      while (j < n && (/[\w$\\]/.test(source[j]!) || source.charCodeAt(j) > 127)) j++;
      const word = source.slice(i, j);
      if (word === "import") {
        const before = source.slice(0, i).trimEnd();
        const after = skipSpace(j);
        const member = before.endsWith(".") && !before.endsWith("...");
        if (!member && source[after] === "(") return i;
      }
      regexAllowed = REGEX_AFTER_WORD.has(word);
      i = j;
    } else if (c === "}" && braces.length > 0 && braces[braces.length - 1] === 0) {
      braces.pop();
      i = skipTemplate(i + 1);
      regexAllowed = braces.length > 0 && source[i - 1] === "{";
    } else {
      if (c === "{" && braces.length > 0) braces[braces.length - 1]!++;
      else if (c === "}" && braces.length > 0) braces[braces.length - 1]!--;
      regexAllowed = c !== ")" && c !== "]" && c !== "}";
      i++;
    }
  }
  return -1;
}
