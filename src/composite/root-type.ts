import type { YamlPath } from "./model.js";
import { didYouMean } from "./suggest.js";

/** The root `type:` values the editor dialects write (SPEC §2.2): `composite` and `group`. */
export const ROOT_TYPES = ["composite", "group"] as const;

type Push = (code: string, message: string, path: YamlPath, hint?: string, key?: boolean) => void;

/**
 * A root `type:` that no dialect uses (`compsite`) is a warning at its value, with a "did you mean":
 * the file is read as the concise form, so an editor file with a misspelt type lost its editor
 * reading without a word. A `type:` that is not a string is the schema's error.
 */
export function checkRootType(type: unknown, push: Push): void {
  if (typeof type !== "string" || (ROOT_TYPES as readonly string[]).includes(type)) return;
  push(
    "W_ROOT_TYPE",
    `root \`type: ${JSON.stringify(type)}\` is not a type composites use (${ROOT_TYPES.join(", ")}): it is ignored and the file is read as the concise form`,
    ["type"],
    didYouMean(type, ROOT_TYPES) || "write `type: composite` or `type: group` for a file of the editor, or remove `type:`",
  );
}
