#!/usr/bin/env node
// A tiny local API for examples/http-fanout.yaml: GET /users, GET /orders?status=paid, HEAD /health.
//
//   node examples/serve-fixtures.mjs          # http://127.0.0.1:8787 (the example's default)
//   node examples/serve-fixtures.mjs 9000     # another port; 0 picks a free one
//
// It prints its URL, then one line per request; Ctrl-C stops it. Only node's own modules are used.
import { createServer } from "node:http";

const users = [
  { id: 1, name: "Ada" },
  { id: 2, name: "Grace" },
  { id: 3, name: "Linus" },
];
const orders = [
  { id: 101, user: 1, status: "paid", amount: 10 },
  { id: 102, user: 2, status: "open", amount: 99 },
  { id: 103, user: 3, status: "paid", amount: 32.5 },
];

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  console.log(`${req.method} ${url.pathname}${url.search}`);
  const json = (body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  if (url.pathname === "/users") return json(users);
  if (url.pathname === "/orders") {
    const status = url.searchParams.get("status");
    return json(status === null ? orders : orders.filter((o) => o.status === status));
  }
  if (url.pathname === "/health") return res.writeHead(204).end();
  res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
});

const port = Number(process.argv[2] ?? process.env.PORT ?? 8787);
server.listen(port, "127.0.0.1", () => {
  console.log(`serving the http-fanout fixtures on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
