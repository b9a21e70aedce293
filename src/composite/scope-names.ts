/** The `$` names a template and an `if:` can use (SPEC §4.3); no other `$` name is defined there. */
export const SCOPE_NAMES = ["$input", "$inputs", "$vars", "$env", "$nodes", "$now", "$run", "$item", "$index"] as const;
const KNOWN = new Set<string>(SCOPE_NAMES);

/** Parameter lists of the functions in a source: `(a, b) =>`, `a =>`, `function f(a, b)`. */
export const PARAMETER_LISTS = /function\b[^(]*\(([^)]*)\)|\(([^()]*)\)\s*=>|([\w$]+)\s*=>/g;
/** Names declared in a block body (`const $a = …`), a `catch ($e)` or a named function. */
const DECLARED = /\b(?:const|let|var|function)\s+([\w$]+)|\bcatch\s*\(\s*([\w$]+)/g;
/** String literals, template literals and comments: their text is not code (a template's `${}` is). */
const NOT_CODE = /\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g;
/**
 * A `$` name read as a variable: not a property (`a.$x`, `...$x` is left alone too), not escaped
 * (`\$x` in a regular expression), not right after `[` (a character class such as `[$a-z]`).
 */
const DOLLAR_NAME = /(?<![\w$.\\[])\$[A-Za-z_][\w$]*/g;

/** `text` with what is not code blanked, offsets kept: a template literal keeps its `${…}` parts. */
export function blankNonCode(text: string): string {
  return text.replace(NOT_CODE, (literal) =>
    literal.startsWith("`") ? literal.replace(/\$\{[^{}]*\}|[^]/g, (part) => (part.length > 1 ? part : " ")) : " ".repeat(literal.length),
  );
}

/** The names the functions and declarations in `code` (already blanked) declare. */
export function declaredNames(code: string): Set<string> {
  const declared = new Set<string>();
  for (const m of code.matchAll(PARAMETER_LISTS)) for (const name of (m[1] ?? m[2] ?? m[3] ?? "").matchAll(/[\w$]+/g)) declared.add(name[0]);
  for (const m of code.matchAll(DECLARED)) declared.add((m[1] ?? m[2])!);
  return declared;
}

/**
 * The `$` names an expression (a template's `{{ }}`, an `if:`, an `expression` parameter, which may
 * see `extra` names too) reads that its scope does not hold,
 * with their offsets: `$node.fetch` for `$nodes.fetch`, `$var.x`. At run time each fails its node
 * with "$node is not defined", after the nodes before it ran. Names the expression declares itself
 * (`$x => …`) and object keys (`{ $x: 1 }`) are not reads; outside strings and comments only.
 */
export function unknownScopeNames(expr: string, extra: readonly string[] = []): { name: string; offset: number }[] {
  if (!expr.includes("$")) return [];
  const code = blankNonCode(expr);
  let declared: Set<string> | undefined;
  const out: { name: string; offset: number }[] = [];
  for (const m of code.matchAll(DOLLAR_NAME)) {
    const name = m[0];
    if (KNOWN.has(name) || extra.includes(name)) continue;
    declared ??= declaredNames(code);
    if (declared.has(name)) continue;
    // An object key (`{ $x: 1 }`), not a read.
    if (/^\s*:/.test(code.slice(m.index + name.length)) && /[{,]\s*$/.test(code.slice(0, m.index))) continue;
    out.push({ name, offset: m.index });
  }
  return out;
}
