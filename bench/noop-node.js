// The no-op node every bench graph is made of: `execute` is `async () => undefined`.
// Plain object (not defineNode) so `atomiton run --nodes bench/noop-node.js` can load it too.
import { z } from "zod";

export default {
  type: "noop",
  title: "No-op",
  description: "Does nothing, asynchronously (benchmarks).",
  category: "bench",
  parameters: z.object({}),
  inputs: [{ id: "input" }],
  outputs: [{ id: "output" }],
  execute: async () => undefined,
};
