import { stripVTControlCharacters } from "node:util";

// Anything outside XML 1.0's Char production: C0 controls but TAB/LF/CR, lone surrogates, U+FFFE/U+FFFF.
const INVALID_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text that XML 1.0 can hold: ANSI sequences stripped, forbidden characters → U+FFFD. */
export function toXmlChars(text: string): string {
  return stripVTControlCharacters(text).replace(INVALID_XML_CHAR, "\uFFFD");
}

/** Escapes element content. */
export function escapeXmlText(text: string): string {
  return toXmlChars(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes a double-quoted attribute value; TAB/LF/CR become references so parsers keep them. */
export function escapeXmlAttr(text: string): string {
  return escapeXmlText(text)
    .replace(/"/g, "&quot;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}

/** ` a="1" b="x"` from the defined entries, in order. */
export function xmlAttrs(attrs: Record<string, string | number | undefined>): string {
  let out = "";
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined) out += ` ${name}="${escapeXmlAttr(String(value))}"`;
  }
  return out;
}
