// Types for the parts of bench/e2e.js the test suite uses (the generated composites).
export function editFieldsChain(n: number, dialect: string): string;
export const DIALECTS: string[];
