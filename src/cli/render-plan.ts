import type { Composite, CompositeBody, CompositeNode } from "../composite/model.js";
import type { Style } from "../reporters/style.js";
import { nodeCountText } from "../reporters/count-text.js";
import { formatDuration } from "../reporters/format-duration.js";
import { escapeControlCharacters } from "../terminal-text.js";
import { bodyLevels, hasBody } from "./render-graph.js";

/**
 * The plan `run --dry-run` prints: nodes grouped by dependency level (one level's nodes may run
 * concurrently), with their types, and each container's body nested under it.
 *
 * @example
 * level 0: greet (edit-fields)
 * level 1: shout (transform), whisper (transform)
 * level 2: join (code)
 */
export function renderPlan(composite: Composite, style: Style, options: { concurrency?: number; timeout?: number } = {}): string {
  const c = style.chalk;
  const count = (b: CompositeBody): number => b.nodes.reduce((n, node) => n + 1 + (node.body ? count(node.body) : 0), 0);
  const levels = bodyLevels(composite);
  const facts = [nodeCountText(composite.nodes.length, count(composite) - composite.nodes.length), `${levels.length} level${levels.length === 1 ? "" : "s"}`];
  const concurrency = options.concurrency ?? composite.settings.concurrency;
  if (concurrency !== undefined) facts.push(`concurrency ${concurrency}`);
  const timeout = options.timeout ?? composite.settings.timeout;
  if (timeout !== undefined && timeout > 0) facts.push(`timeout ${formatDuration(timeout)}`);
  const out = [`${c.bold(`Plan for ${escapeControlCharacters(composite.name)}`)} (${facts.join(", ")})`];
  const describe = (n: CompositeNode): string => {
    const notes: string[] = [];
    if (n.enabled === false) notes.push("disabled");
    if (n.if !== undefined) notes.push(`if ${escapeControlCharacters(n.if)}`);
    if (n.retry && n.retry.attempts > 1) notes.push(`${n.retry.attempts} attempts`);
    if (n.timeout !== undefined && n.timeout > 0) notes.push(`timeout ${formatDuration(n.timeout)}`);
    if (n.onError !== "fail") notes.push(`onError ${n.onError}`);
    return `${n.id} ${c.dim(`(${n.type})`)}${notes.length > 0 ? c.dim(` [${notes.join(", ")}]`) : ""}`;
  };
  const write = (body: CompositeBody, indent: string): void => {
    bodyLevels(body).forEach((level, i) => {
      out.push(`${indent}level ${i}: ${level.map(describe).join(", ")}`);
      for (const node of level.filter(hasBody)) {
        out.push(`${indent}  body of ${node.id}:`);
        write(node.body, `${indent}    `);
      }
    });
  };
  write(composite, "");
  out.push(c.dim("dry run: nothing was run or saved"));
  return `${out.join("\n")}\n`;
}

/** One node of `planJson`'s levels. */
interface PlanNode {
  id: string;
  type: string;
  enabled?: false;
  if?: string;
  attempts?: number;
  timeout?: number;
  onError?: string;
  body?: PlanNode[][];
}

/**
 * The plan as one JSON line, for `run --dry-run --reporter json` (machines read stdout there): the
 * same levels as `renderPlan`, each container's body nested under it.
 */
export function planJson(composite: Composite, options: { concurrency?: number; timeout?: number } = {}): string {
  const node = (n: CompositeNode): PlanNode => ({
    id: n.id,
    type: n.type,
    ...(n.enabled === false ? { enabled: false as const } : {}),
    ...(n.if !== undefined ? { if: n.if } : {}),
    ...(n.retry && n.retry.attempts > 1 ? { attempts: n.retry.attempts } : {}),
    ...(n.timeout !== undefined && n.timeout > 0 ? { timeout: n.timeout } : {}),
    ...(n.onError !== "fail" ? { onError: n.onError } : {}),
    ...(n.body ? { body: levelsOf(n.body) } : {}),
  });
  const levelsOf = (body: CompositeBody): PlanNode[][] => bodyLevels(body).map((level) => level.map(node));
  const concurrency = options.concurrency ?? composite.settings.concurrency;
  const timeout = options.timeout ?? composite.settings.timeout;
  const plan = {
    type: "plan",
    composite: { id: composite.id, name: composite.name },
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(timeout !== undefined && timeout > 0 ? { timeout } : {}),
    levels: levelsOf(composite),
  };
  return `${JSON.stringify(plan)}\n`;
}
