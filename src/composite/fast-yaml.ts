import { FAILSAFE_SCHEMA, load, Type, type State } from "js-yaml";
import type { LocateOptions, SourceLocation, YamlPath } from "./model.js";

/**
 * The fast read of a composite file (issue 17): js-yaml, which builds plain values directly, with
 * the scalar rules of `yaml`'s YAML 1.2 core schema (the located parser, `parse-yaml.ts`), and no
 * syntax tree. It only answers for text it reads exactly as the located parser does; anything it
 * is not sure of (tags, anchors and aliases, directives, tabs, CR line ends, complex or null keys,
 * merge keys, any js-yaml error) returns `undefined`, and the caller reads the file the located
 * way. Positions are kept only for sequence items (every node and edge has a `loc`); a composite
 * with any problem is read again with `yaml` so that every problem has its exact `file:line:col`.
 */
export interface FastYaml {
  value: unknown;
  /**
   * Location of a sequence item (the start of the item, as `yaml` gives it). Any other path sets
   * `imprecise`: its answer is only a placeholder, so the load must be redone the located way.
   */
  locate(path: YamlPath, options?: LocateOptions): SourceLocation;
  /** True once `locate` was asked for something it cannot place exactly. */
  readonly imprecise: boolean;
  /** A mapping has a key without a value (`{ a: b, c }`, `a:` with nothing after it). */
  readonly missingValue: boolean;
}

/** The tag js-yaml gives a plain scalar `core` resolved; '?' is an unresolved plain scalar. */
const CORE_TAG = "tag:yaml.org,2002:core-scalar";

// yaml's core schema (yaml/dist/schema/core): same tests, same order, same conversions.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** No core scalar: the value stays a string. */
const STRING = Symbol("string");

/**
 * A plain scalar's value by yaml's core schema, or STRING. The tests run in yaml's order; each can
 * only match text starting with certain characters (null: empty, `~`, `n`, `N`; booleans: `t`, `T`,
 * `f`, `F`; numbers: a digit, `+`, `-`, `.`), so the first character picks the tests that can
 * match and most scalars (names, ids, types, keys) need none: the same answers, without running up
 * to eight regular expressions on every key and value (about 9% of reading a 100k-node editor file).
 */
function coreScalar(s: string): unknown {
  if (s === "") return null;
  const c = s.charCodeAt(0);
  if (c === 0x7e || c === 0x6e || c === 0x4e) return NULL.test(s) ? null : STRING; // ~ n N
  if (c === 0x74 || c === 0x54 || c === 0x66 || c === 0x46) return BOOL.test(s) ? c === 0x74 || c === 0x54 : STRING; // t T f F
  if (!((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return STRING; // 0-9 + - .
  if (INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === "nan" ? NaN : s[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return STRING;
}

// js-yaml calls `construct` right after a `resolve` that said yes, with the same text: the value
// `resolve` found is kept for it rather than worked out twice.
let resolvedText: string | undefined;
let resolvedValue: unknown;

// One js-yaml implicit type resolves every plain scalar yaml's core schema would (first match wins,
// as in yaml); the rest stay strings. Explicit tags never reach it: text with a tag is declined.
const core = new Type(CORE_TAG, {
  kind: "scalar",
  resolve: (data: string | null) => {
    if (data === null) return true;
    const value = coreScalar(data);
    if (value === STRING) return false;
    resolvedText = data;
    resolvedValue = value;
    return true;
  },
  construct: (data: string | null) => {
    if (data === null) return null;
    if (data === resolvedText) return resolvedValue;
    return coreScalar(data);
  },
});
const SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: [core] });

/**
 * Text the two parsers may read differently, or that needs the located parser's own errors and
 * warnings: tabs and CR line ends, `%` directives, `<<` merge keys, explicit `?` keys, collections
 * as keys (`[a]: b`), the tags js-yaml would accept (`!!str`, `!<…>`, `!`), a sequence that starts
 * on its parent item's line (`- - a`: js-yaml takes the next item into the inner sequence). A match inside a string
 * only sends the file the slow way; it never changes the result. (Other tags make js-yaml throw;
 * anchors are caught as they are read.)
 *
 * One test per case, each run only when the text holds the character it starts from: as one
 * regular expression of seven alternatives it took 11 ms of a 10k-node concise file and 30 ms of an
 * editor export (1 and 3 MB), four times what these take. The answer is the same: any one matches.
 */
function declines(text: string): boolean {
  return (
    text.includes("\t") ||
    text.includes("\r") ||
    text.startsWith("%") ||
    text.includes("\n%") ||
    text.includes("<<") ||
    SEQUENCE_ON_ITEM_LINE.test(text) ||
    COLLECTION_KEY.test(text) ||
    (text.includes("?") && EXPLICIT_KEY.test(text)) ||
    (text.includes("!") && TAG.test(text))
  );
}
const SEQUENCE_ON_ITEM_LINE = /-[ ]+-(?:[ \n]|$)/m;
const COLLECTION_KEY = /[\]}][ ]*:(?:[ \n,\]}]|$)/m;
const EXPLICIT_KEY = /(?:^[ ]*(?:-[ ]+)*|[[{,][ ]*)\?(?:[ \n]|$)/m;
const TAG = /(?:^|[\s,[{])!(?:[!<\s]|$)/m;

/** Object keys a null key (`~:`, `null:`, an empty key) gives: yaml writes it "", js-yaml "null". */
const NULL_KEY = "null";

/** What js-yaml's loader holds about the node it just read (its types leave out tag and anchor). */
type LoaderState = State & { tag: string | null; anchor: string | null };

export function parseYamlFast(text: string, file?: string): FastYaml | undefined {
  if (declines(text)) return undefined;
  // Start of every node js-yaml composes (position, 0-based line, line start), kept for the
  // items of sequences only: `starts` is a stack of frames, `marks` where each open frame begins.
  // `kids` is a stack whose height is `kidsTop`: lowering a variable, not `kids.length` (setting an
  // array's length is a runtime call, ~2.5% of reading a 100k-node file).
  const kids: number[] = [];
  let kidsTop = 0;
  const marks: number[] = [];
  const opened: number[] = [];
  const items = new WeakMap<unknown[], number[]>();
  let declined = false;
  let missingValue = false;
  let lastClosed: unknown;
  const listener = (event: "open" | "close", state: LoaderState): void => {
    if (event === "open") {
      marks.push(kidsTop);
      opened.push(state.position, state.line, state.lineStart);
      return;
    }
    // An anchor, or any tag but the implicit ones: yaml's own rules (aliases, maxAliasCount, tags) apply.
    if (state.anchor !== null || (state.tag !== null && state.tag !== "?" && state.tag !== CORE_TAG)) declined = true;
    const mark = marks.pop()!;
    const result: unknown = state.result;
    if (Array.isArray(result)) items.set(result, kids.slice(mark, kidsTop));
    // A mapping read from fewer nodes than a key and a value each: a key without a value, which
    // may be an unquoted comma (`{ message: Hello, world }`) that only the located read can tell.
    // (A flow collection in block context closes twice, the second time around the first: skipped.)
    else if (!missingValue && result !== lastClosed && typeof result === "object" && result !== null && kidsTop - mark < 6 * Object.keys(result).length) missingValue = true;
    lastClosed = result;
    kidsTop = mark;
    const lineStart = opened.pop()!;
    const line = opened.pop()!;
    const position = opened.pop()!;
    kids[kidsTop++] = position;
    kids[kidsTop++] = line;
    kids[kidsTop++] = lineStart;
    // A comment right after a quote or a bracket (`"a"# b`): yaml wants white space before it, js-yaml does not.
    if (spansLines(text, position, state, nextBreak) || text.charCodeAt(state.position) === 0x23) declined = true;
    // A null key (`~:`, `null:`, an empty key): yaml writes it "", js-yaml "null". Checked as each
    // mapping is read rather than by walking the value afterwards; the one-pair mappings of a flow
    // sequence (`[a: b]`, `[: x]`) are built without being read as nodes, so a sequence's items are
    // checked too.
    if (Array.isArray(result) ? result.some(hasNullKey) : hasNullKey(result)) declined = true;
    // A collection as a flow mapping's key without a value (`{[a]}`, `{x: 1, {y: 2}}`): js-yaml
    // makes the key a string of its items ("a"), yaml writes the collection ("[ a ]"). (With a value,
    // `]:` and `}:` decline the text before it is read.)
    if (typeof result === "object" && result !== null && opened.length >= 3 && isFlowMappingKey(text, position, opened[opened.length - 3]!)) declined = true;
  };
  // The line break after a position, kept for the last line asked about: the nodes of one line
  // (a flow mapping's keys and values) ask about the same line, each scanning to its end before.
  let breakFrom = -1;
  let breakAt = -1;
  const nextBreak = (i: number): number => {
    if (i >= breakFrom && i <= breakAt) return breakAt;
    breakFrom = i;
    breakAt = text.indexOf("\n", i);
    if (breakAt < 0) breakAt = text.length;
    return breakAt;
  };
  let value: unknown;
  try {
    value = load(text, { schema: SCHEMA, json: false, listener: listener as (event: "open" | "close", state: State) => void });
  } catch {
    return undefined;
  }
  if (declined) return undefined;
  let imprecise = false;
  const where = (line: number, col: number): SourceLocation => (file === undefined ? { line, col } : { file, line, col });
  const locate = (path: YamlPath): SourceLocation => {
    let node: unknown = value;
    for (let i = 0; i < path.length - 1 && node !== undefined; i++) node = step(node, path[i]!);
    const last = path[path.length - 1];
    const starts = Array.isArray(node) ? items.get(node) : undefined;
    if (starts === undefined || typeof last !== "number" || last * 3 + 2 >= starts.length) {
      imprecise = true;
      return where(1, 1);
    }
    return startOf(text, starts[last * 3]!, starts[last * 3 + 1]!, starts[last * 3 + 2]!, where);
  };
  return {
    value,
    locate,
    missingValue,
    get imprecise() {
      return imprecise;
    },
  };
}

/**
 * A flow node (a plain or quoted scalar, a `{ }` or `[ ]` collection) over more than one line: how
 * its continuation lines must be indented and folded is where the parsers part (js-yaml takes a
 * quoted string whose next line starts in column 1; yaml does not). Block scalars and block
 * collections span lines by nature and are read alike.
 */
function spansLines(text: string, opened: number, state: LoaderState, nextBreak: (i: number) => number): boolean {
  let i = opened;
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x23) {
    if (c === 0x23) i = nextBreak(i);
    else i++;
    c = text.charCodeAt(i);
  }
  if (c === 0x7c || c === 0x3e) return false; // | and >: a block scalar
  if (state.kind !== "scalar" && c !== 0x7b && c !== 0x5b) return false; // a block collection, or nothing
  return nextBreak(i) < state.position;
}

function step(node: unknown, seg: string | number): unknown {
  if (Array.isArray(node)) return typeof seg === "number" ? node[seg] : undefined;
  if (node !== null && typeof node === "object") return Object.hasOwn(node, seg) ? (node as Record<string, unknown>)[seg] : undefined;
  return undefined;
}

/** The first character of a node from where js-yaml opened it: past spaces, line breaks and comments. */
function startOf(text: string, position: number, line: number, lineStart: number, where: (line: number, col: number) => SourceLocation): SourceLocation {
  let i = position;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20) i++;
    else if (c === 0x0a) {
      i++;
      line++;
      lineStart = i;
    } else if (c === 0x23 && (i === 0 || text.charCodeAt(i - 1) === 0x20 || text.charCodeAt(i - 1) === 0x0a)) {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
    } else break;
  }
  return where(line + 1, i - lineStart + 1);
}

/** A mapping with a null key (its own keys only: nested mappings are checked as they are read). */
function hasNullKey(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, NULL_KEY);
}

/**
 * Whether the node that opened at `own` is a key of the flow mapping that opened at `parent`: the
 * parent starts with `{` and the node follows `{` or `,` (a value follows `:`). A flow collection
 * spans one line (spansLines declines the others), so only spaces can stand between.
 */
function isFlowMappingKey(text: string, own: number, parent: number): boolean {
  if (text.charCodeAt(skipBlank(text, parent)) !== 0x7b) return false;
  let k = skipBlank(text, own) - 1;
  while (k >= 0 && text.charCodeAt(k) === 0x20) k--;
  const c = text.charCodeAt(k);
  return c === 0x7b || c === 0x2c;
}

/** Past spaces, line breaks and comments. */
function skipBlank(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x23; c = text.charCodeAt(i)) {
    if (c !== 0x23) i++;
    else {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
    }
  }
  return i;
}
