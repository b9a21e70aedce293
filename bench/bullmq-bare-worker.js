// The bare BullMQ worker of bench/queue.js: the same library, connection and concurrency as
// `atomiton worker`, a processor that returns at once. node bench/bullmq-bare-worker.js <url> <prefix> <concurrency>
import { Worker } from "bullmq";

const [url, prefix, concurrency] = process.argv.slice(2);
const worker = new Worker("runs", async () => ({}), { connection: { url, maxRetriesPerRequest: null }, prefix, concurrency: Number(concurrency) });
await worker.waitUntilReady();
process.stderr.write("ready\n");
process.once("SIGTERM", () => void worker.close().then(() => process.exit(0)));
