import { displayName } from "../composite/load-composite.js";
import { formatLocation } from "../composite/problem.js";
import { parseYaml } from "../composite/parse-yaml.js";

/**
 * `file:line:col ` of a top-level setting (`settings.workdir`) in the composite's own file, for a
 * message about its value found wrong after loading; "" when the file's text is not at hand. The
 * file is read again the located way: this runs only for such a message.
 */
export function settingLocation(file: string | undefined, sources: ReadonlyMap<string, string>, path: readonly (string | number)[]): string {
  if (file === undefined) return "";
  const shown = displayName(file);
  const text = sources.get(shown);
  if (text === undefined) return "";
  return `${formatLocation(parseYaml(text, shown).locate(path))} `;
}
