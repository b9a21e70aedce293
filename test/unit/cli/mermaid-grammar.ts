/**
 * A strict checker for the mermaid flowchart subset `renderMermaid` emits, written against
 * mermaid's own lexer (packages/mermaid/src/diagrams/flowchart/parser/flow.jison), whose rules
 * are tried first-match, so keywords match even as prefixes of ids.
 *
 *   document   := header line*
 *   header     := "flowchart" SP dir
 *   line       := blank | node | edge | subgraph | "end"
 *   node       := ID "[" STR "]"
 *   edge       := ID SP "-->" SP ID | ID SP "--" SP STR SP "-->" SP ID
 *   subgraph   := "subgraph" SP ID "[" STR "]"        … closed by a line "end"
 *   ID         := [A-Za-z_][A-Za-z0-9_]*  not starting with a lexer keyword
 *   STR        := '"' text '"'  text: no '"', newline, backtick, '<', '>'; '#' only in '#name;' / '#123;'
 *
 * Plus: subgraphs balance, no id is declared twice, every id an edge uses is declared.
 */

export interface GrammarError {
  line: number;
  message: string;
}

const ID = "[A-Za-z_][A-Za-z0-9_]*";
const STR = '"([^"]*)"';
const HEADER = /^flowchart (TD|TB|BT|LR|RL)$/;
const NODE = new RegExp(`^(${ID})\\[${STR}\\]$`);
const SUBGRAPH = new RegExp(`^subgraph (${ID})\\[${STR}\\]$`);
const EDGE = new RegExp(`^(${ID}) --> (${ID})$`);
const LABELLED_EDGE = new RegExp(`^(${ID}) -- ${STR} --> (${ID})$`);

// Lexer rules that come before NODE_STRING in flow.jison and match at the start of an id.
const KEYWORD_PREFIXES = ["style", "default", "linkStyle", "interpolate", "classDef", "class", "href", "flowchart-elk", "flowchart", "graph", "subgraph", "_self", "_blank", "_parent", "_top", "accTitle", "accDescr"];

function checkId(id: string): string | undefined {
  if (/^end\b/.test(id) || id === "end") return `id "${id}" is the keyword end`;
  const kw = KEYWORD_PREFIXES.find((k) => id.startsWith(k));
  if (kw) return `id "${id}" starts with the keyword "${kw}"`;
  if (/^(call|click)$/.test(id)) return `id "${id}" is a keyword`;
  return undefined;
}

function checkText(text: string): string | undefined {
  if (text.trim() === "") return "empty text";
  if (/[\n\r`<>]/.test(text)) return `text has a raw newline, backtick or angle bracket: ${JSON.stringify(text)}`;
  const stray = text.replace(/#(?:[A-Za-z]+|\d+);/g, "").includes("#");
  if (stray) return `text has a "#" outside an entity code: ${JSON.stringify(text)}`;
  if (/direction\s+(TB|BT|RL|LR|TD)/.test(text)) return "text would be read as a direction statement";
  return undefined;
}

/** Every violation of the grammar in `source` (empty when it is valid). */
export function checkMermaidFlowchart(source: string): GrammarError[] {
  const errors: GrammarError[] = [];
  const lines = source.replace(/\n$/, "").split("\n");
  if (!HEADER.test(lines[0] ?? "")) errors.push({ line: 1, message: `expected "flowchart TD", got ${JSON.stringify(lines[0])}` });
  const declared = new Map<string, "node" | "subgraph">();
  const used: { id: string; line: number }[] = [];
  const stack: string[] = [];
  const declare = (id: string, kind: "node" | "subgraph", line: number) => {
    const bad = checkId(id);
    if (bad) errors.push({ line, message: bad });
    if (declared.has(id)) errors.push({ line, message: `"${id}" is declared twice` });
    declared.set(id, kind);
  };
  const text = (t: string, line: number) => {
    const bad = checkText(t);
    if (bad) errors.push({ line, message: bad });
  };
  lines.slice(1).forEach((raw, i) => {
    const n = i + 2;
    const line = raw.trim();
    if (raw !== raw.trimEnd()) errors.push({ line: n, message: "trailing whitespace" });
    if (line === "") return;
    let m: RegExpExecArray | null;
    if (line === "end") {
      if (stack.pop() === undefined) errors.push({ line: n, message: "end without subgraph" });
    } else if ((m = SUBGRAPH.exec(line))) {
      declare(m[1]!, "subgraph", n);
      text(m[2]!, n);
      stack.push(m[1]!);
    } else if ((m = NODE.exec(line))) {
      declare(m[1]!, "node", n);
      text(m[2]!, n);
    } else if ((m = EDGE.exec(line))) {
      used.push({ id: m[1]!, line: n }, { id: m[2]!, line: n });
    } else if ((m = LABELLED_EDGE.exec(line))) {
      text(m[2]!, n);
      used.push({ id: m[1]!, line: n }, { id: m[3]!, line: n });
    } else {
      errors.push({ line: n, message: `not a node, edge, subgraph or end: ${JSON.stringify(line)}` });
    }
  });
  if (stack.length > 0) errors.push({ line: lines.length, message: `unclosed subgraph ${stack.join(", ")}` });
  for (const u of used) {
    if (!declared.has(u.id)) errors.push({ line: u.line, message: `edge uses undeclared id "${u.id}"` });
    const bad = checkId(u.id);
    if (bad) errors.push({ line: u.line, message: bad });
  }
  return errors;
}
