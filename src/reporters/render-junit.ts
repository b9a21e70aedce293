import type { SerializedError } from "../errors.js";
import { formatSeconds } from "./format-duration.js";
import { escapeXmlText, xmlAttrs } from "./xml.js";

export interface JunitCase {
  name: string;
  durationMs: number;
  /** Present when the node (or any of its iterations) failed. */
  failure?: { message: string; type: string; details: string };
  /** Present when the node was skipped, cancelled or never ran. */
  skipped?: string;
  systemOut?: string;
}

export interface JunitSuite {
  name: string;
  file?: string;
  runId?: string;
  /** Epoch ms of run:start. */
  startTs?: number;
  durationMs: number;
  cases: JunitCase[];
  /** The run's own error when no node carries it (run timeout, cancellation). */
  runError?: SerializedError;
}

/**
 * JUnit XML: `<testsuites><testsuite name=<composite>><testcase classname=<composite> name=<node id>>`
 * with `<failure>`, `<skipped>` and `<system-out>` (the node's logs). A run error that no node
 * carries becomes an `<error>` in an extra testcase named `(run)`.
 */
export function renderJunit(suite: JunitSuite): string {
  const cases = [...suite.cases];
  let errors = 0;
  const runCase = runErrorCase(suite);
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const skipped = cases.filter((c) => c.skipped !== undefined && c.failure === undefined).length;
  const tests = cases.length + (runCase === undefined ? 0 : 1);
  if (runCase !== undefined) errors = 1;
  const time = formatSeconds(suite.durationMs);
  const counts = { tests, failures, errors, skipped, time };

  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites${xmlAttrs({ name: "atomiton", ...counts })}>`);
  const timestamp = suite.startTs === undefined ? undefined : new Date(suite.startTs).toISOString().slice(0, 19);
  out.push(`  <testsuite${xmlAttrs({ name: suite.name, ...counts, timestamp, file: suite.file })}>`);
  if (suite.runId !== undefined) {
    out.push("    <properties>");
    out.push(`      <property${xmlAttrs({ name: "runId", value: suite.runId })}/>`);
    out.push("    </properties>");
  }
  for (const c of cases) out.push(renderCase(suite, c));
  if (runCase !== undefined) out.push(runCase);
  out.push("  </testsuite>");
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}

function renderCase(suite: JunitSuite, c: JunitCase): string {
  const attrs = xmlAttrs({ classname: suite.name, name: c.name, time: formatSeconds(c.durationMs), file: suite.file });
  const body: string[] = [];
  if (c.failure !== undefined) {
    const f = c.failure;
    body.push(`      <failure${xmlAttrs({ message: f.message, type: f.type })}>${escapeXmlText(f.details)}</failure>`);
  } else if (c.skipped !== undefined) {
    body.push(`      <skipped${xmlAttrs({ message: c.skipped })}/>`);
  }
  if (c.systemOut !== undefined && c.systemOut !== "") {
    body.push(`      <system-out>${escapeXmlText(c.systemOut)}</system-out>`);
  }
  if (body.length === 0) return `    <testcase${attrs}/>`;
  return `    <testcase${attrs}>\n${body.join("\n")}\n    </testcase>`;
}

function runErrorCase(suite: JunitSuite): string | undefined {
  const error = suite.runError;
  if (error === undefined || suite.cases.some((c) => c.failure !== undefined)) return undefined;
  const attrs = xmlAttrs({ classname: suite.name, name: "(run)", time: formatSeconds(suite.durationMs) });
  const details = [error.message, error.hint === undefined ? undefined : `hint: ${error.hint}`].filter((s) => s !== undefined).join("\n");
  const message = `${error.code}: ${error.message}`;
  return `    <testcase${attrs}>\n      <error${xmlAttrs({ message, type: error.code })}>${escapeXmlText(details)}</error>\n    </testcase>`;
}
