/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a randomised test: `ATOMITON_TEST_SEED` when set (to replay a failure), else a new one. */
export function testSeed(): number {
  const fromEnv = process.env.ATOMITON_TEST_SEED;
  if (fromEnv !== undefined && fromEnv !== "") {
    const n = Number(fromEnv);
    if (!Number.isSafeInteger(n)) throw new Error(`ATOMITON_TEST_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
