import type { Composite, VariableSpec } from "../composite/model.js";
import { findUnknownVariables } from "../composite/unknown-variables.js";
import { AtomitonError, ErrorCode } from "../errors.js";

/**
 * The run's variables: each declared default, overridden by the caller's values coerced to the
 * declared type (`--var limit=5` is the number 5). Undeclared overrides are passed through.
 */
export function resolveVariables(specs: Record<string, VariableSpec>, overrides: Record<string, unknown>): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) vars[name] = spec.default;
  for (const [name, value] of Object.entries(overrides)) {
    const spec = specs[name];
    vars[name] = spec ? coerceVariable(name, spec.type, value) : value;
  }
  return vars;
}

export function coerceVariable(name: string, type: VariableSpec["type"], value: unknown): unknown {
  const fail = (): never => {
    // A number too large for a double (`1e400`) is Infinity, which JSON would show as null.
    const shown = typeof value === "number" && !Number.isFinite(value) ? `${String(value)} (not a finite number)` : JSON.stringify(value);
    throw new AtomitonError(ErrorCode.USAGE, `variable "${name}" is declared as ${type}; cannot use ${shown}`, {
      retryable: false,
      hint: `pass ${type === "array" || type === "object" || type === "any" ? "an" : "a"} ${type}, e.g. --var ${name}=${example(type)}`,
    });
  };
  switch (type) {
    case "string":
      return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
    case "number": {
      const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
      return Number.isFinite(n) ? n : fail();
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      // `--var b=1` arrives as the number 1 (flag values are JSON when they parse).
      if (value === "true" || value === "1" || value === 1 || value === "yes") return true;
      if (value === "false" || value === "0" || value === 0 || value === "no") return false;
      return fail();
    case "array":
    case "object": {
      let v = value;
      if (typeof v === "string") {
        try {
          v = JSON.parse(v);
        } catch {
          return fail();
        }
      }
      const ok = type === "array" ? Array.isArray(v) : v !== null && typeof v === "object" && !Array.isArray(v);
      return ok ? v : fail();
    }
    default:
      return value;
  }
}

function example(type: VariableSpec["type"]): string {
  return type === "number" ? "5" : type === "boolean" ? "true" : type === "array" ? "'[1,2]'" : type === "object" ? `'{"a":1}'` : "text";
}

/**
 * Caller-given variables against the composite, before anything runs: a name the composite neither
 * declares nor reads is an E_USAGE error with did-you-mean, and a value that does not fit the
 * declared type is the same error the run gives. `label` names where they came from (`--var`, `vars`).
 */
export function checkVariables(composite: Composite, vars: Record<string, unknown>, label: string): void {
  const unknown = findUnknownVariables(composite, Object.keys(vars));
  if (unknown.length > 0) {
    const declared = Object.keys(composite.variables);
    const names = unknown.map((u) => `"${u.name}"`).join(", ");
    const guessed = unknown.filter((u) => u.suggestion !== undefined);
    const guesses = guessed.map((u) => (unknown.length === 1 ? `"${u.suggestion}"` : `"${u.suggestion}" for "${u.name}"`));
    throw new AtomitonError(ErrorCode.USAGE, `${label} ${names}: the composite has no ${unknown.length === 1 ? "such variable" : "such variables"}`, {
      retryable: false,
      hint: guesses.length > 0 ? `did you mean ${guesses.join(", ")}?` : declared.length > 0 ? `its variables: ${declared.join(", ")}` : "declare it under `variables:` in the composite",
    });
  }
  resolveVariables(composite.variables, vars);
}
