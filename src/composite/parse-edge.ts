/** Parse the concise edge shorthand: `a -> b` or `a.port -> b.port`. */
export interface EdgeEnds {
  source: string;
  sourcePort?: string;
  target: string;
  targetPort?: string;
}

const ARROW = /^\s*([^\s.>-][^\s.]*?)(?:\.([^\s]+?))?\s*->\s*([^\s.]+?)(?:\.([^\s]+?))?\s*$/;

export function parseEdgeShorthand(text: string): EdgeEnds | undefined {
  const m = ARROW.exec(text);
  if (!m) return undefined;
  const ends: EdgeEnds = { source: m[1]!, target: m[3]! };
  if (m[2]) ends.sourcePort = m[2];
  if (m[4]) ends.targetPort = m[4];
  return ends;
}
