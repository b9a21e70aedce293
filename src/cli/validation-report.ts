import path from "node:path";
import type { Problem } from "../composite/problem.js";
import { annotationFile, escapeGithubData, escapeGithubProperty } from "../reporters/github.js";
import { renderJunit, type JunitCase } from "../reporters/render-junit.js";
import { resolveReporterName, type ReporterName } from "../reporters/create-reporter.js";
import { writeFileAtomic } from "../storage/write-file-atomic.js";
import type { CliIO } from "./io.js";

/** GitHub shows at most 10 error annotations per step, as the github reporter caps them. */
const MAX_ANNOTATIONS = 10;

/**
 * A composite that did not validate never starts a run, so the CI reporters never see an event; yet
 * this is when they matter most. `github` annotates each problem at its `file:line:col` (errors, then
 * warnings); `junit` writes a report with one failed testcase per error (to `--output`, else stdout).
 * The other reporters print nothing more than the problem list already on stderr.
 */
export async function reportInvalidForCi(name: ReporterName, problems: readonly Problem[], io: CliIO, suiteName: string, output: string | undefined): Promise<void> {
  const reporter = resolveReporterName(name, { stderr: io.stderr, env: io.env });
  if (reporter === "github") {
    const ordered = [...problems.filter((p) => p.severity === "error"), ...problems.filter((p) => p.severity !== "error")];
    for (const p of ordered.slice(0, MAX_ANNOTATIONS)) {
      const file = p.file === undefined ? undefined : annotationFile(path.resolve(io.cwd, p.file), io.env.GITHUB_WORKSPACE);
      const props = [...(file === undefined ? [] : [`file=${escapeGithubProperty(file)}`, `line=${p.line}`, `col=${p.col}`]), `title=${escapeGithubProperty(p.code)}`];
      io.stderr.write(`::${p.severity === "error" ? "error" : "warning"} ${props.join(",")}::${escapeGithubData(`${p.message}${p.hint === undefined ? "" : `\nhint: ${p.hint}`}`)}\n`);
    }
    return;
  }
  if (reporter !== "junit") return;
  const cases: JunitCase[] = problems
    .filter((p) => p.severity === "error")
    .map((p) => {
      const at = `${p.file ?? "<input>"}:${p.line}:${p.col}`;
      return { name: `${p.code} ${at}`, durationMs: 0, failure: { message: p.message, type: p.code, details: `${at} ${p.message}${p.hint === undefined ? "" : `\nhint: ${p.hint}`}` } };
    });
  const rendered = renderJunit({ name: suiteName, durationMs: 0, cases });
  const xml = rendered.endsWith("\n") ? rendered : `${rendered}\n`;
  if (output === undefined || output === "-") io.stdout.write(xml);
  else await writeFileAtomic(path.resolve(io.cwd, output), xml);
}
