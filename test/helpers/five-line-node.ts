/** The first custom node: only `type` and `execute` are required (SPEC §3). */
export const fiveLineNode = (factor = 2): string => `import { defineNode } from "atomiton";
import { z } from "zod";
export default defineNode({ type: "double", parameters: z.object({ n: z.number() }), execute: ({ parameters }) => parameters.n * ${factor} });
`;
