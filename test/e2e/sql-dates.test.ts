// PostgreSQL `date` and `timestamp` (without time zone) values came out moved by this machine's time
// zone: pg made them a Date at local midnight, so in Tokyo `2024-01-15` became
// `2024-01-14T15:00:00.000Z`, the day before. They now stay the server's text on every machine.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { atomiton, useTempDir } from "../helpers/cli.js";
import { postgresAvailability, startPostgres, type TestPostgres } from "../helpers/postgres.js";

const availability = postgresAvailability();
if (!availability.available) console.warn(`\n⚠ ${availability.reason}\n`);

describe.runIf(availability.available)("sql on PostgreSQL: values without a time zone", () => {
  let server: TestPostgres;
  let dir: string;
  useTempDir((d) => (dir = d), "atomiton-sql-dates-");
  beforeAll(async () => {
    server = await startPostgres();
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  test.each(["Asia/Tokyo", "America/New_York", "UTC"])("TZ=%s: a date is its day, a timestamp its wall time, a timestamptz its instant", async (tz) => {
    await writeFile(
      path.join(dir, "flow.yaml"),
      `name: dates
secrets: [PG_URL]
nodes:
  - id: q
    type: sql
    parameters:
      connection: "{{ $env.PG_URL }}"
      mode: first
      query: "SELECT '2024-01-15'::date AS d, '2024-01-15 10:30:00'::timestamp AS ts, '2024-01-15 10:30:00+00'::timestamptz AS tz, 'infinity'::date AS inf, ARRAY['2024-01-15'::date, '2024-02-29'::date] AS days"
`,
    );
    const r = await atomiton(["run", "flow.yaml", "--reporter", "plain", "--storage", "memory", "--output", "-"], { cwd: dir, env: { TZ: tz, PG_URL: server.url } });
    expect(r.stderr).toMatch(/run succeeded/);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ d: "2024-01-15", ts: "2024-01-15 10:30:00", tz: "2024-01-15T10:30:00.000Z", inf: "infinity", days: ["2024-01-15", "2024-02-29"] });
  });
});
