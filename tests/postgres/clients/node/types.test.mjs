// node-postgres sends every parameter as text with no declared type: a Date goes as
// '2024-01-02T04:04:05.000+01:00' (the process's local offset), a Buffer as '\x...'. Each must be stored in
// its column's canonical form, read back as the same value by this and every other client, and a value
// that does not fit its column must be refused with nothing written. PG_DSN names the test server.
import assert from "node:assert/strict";
import pg from "pg";

const client = new pg.Client({ connectionString: process.env.PG_DSN });
await client.connect();
try {
  await client.query(`CREATE TABLE items (id INT PRIMARY KEY, created TIMESTAMPTZ, day DATE, at TIME,
    price NUMERIC(10,2), ok BOOLEAN, data BYTEA, doc JSONB, u UUID, n BIGINT)`);
  const created = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120));
  const doc = { a: [1, 2], b: "x" };
  await client.query(
    "INSERT INTO items (id, created, day, at, price, ok, data, doc, u, n) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    [1, created, "2024-01-02", "03:04:05", "12345678.91", true, Buffer.from([0, 1, 255]), doc,
      "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "9007199254740993"],
  );
  const { rows } = await client.query("SELECT * FROM items");
  assert.equal(rows.length, 1);
  const r = rows[0];
  assert.equal(r.created.getTime(), created.getTime(), `created: ${r.created}`);
  assert.equal(r.price, "12345678.91");
  assert.equal(r.ok, true);
  assert.deepEqual([...r.data], [0, 1, 255]);
  assert.deepEqual(r.doc, doc);
  assert.equal(r.u, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  assert.equal(r.n, "9007199254740993");
  assert.equal(r.at, "03:04:05");
  // The stored forms are canonical (UTC, no offset, no 'T').
  const stored = await client.query("SELECT CAST(created AS TEXT) AS c, CAST(day AS TEXT) AS d, typeof(data) AS b FROM items");
  assert.deepEqual(stored.rows[0], { c: "2024-01-02 03:04:05.120000", d: "2024-01-02", b: "blob" });
  // A Date compared with the stored value finds it.
  const found = await client.query("SELECT id FROM items WHERE created = $1", [created]);
  assert.equal(found.rows.length, 1);

  // Values that do not fit are refused with PostgreSQL's SQLSTATEs, and nothing is written.
  for (const [col, bad, state] of [["created", "yesterday-ish", "22007"], ["day", "2024-02-30", "22007"],
    ["n", "12abc", "22P02"], ["u", "xyz", "22P02"], ["ok", "perhaps", "22P02"]]) {
    await assert.rejects(
      client.query(`INSERT INTO items (id, ${col}) VALUES ($1, $2)`, [2, bad]),
      (e) => e.code === state || assert.fail(`${col}=${bad}: ${e.code} ${e.message}`),
    );
  }
  const count = await client.query("SELECT count(*) AS n FROM items");
  assert.equal(count.rows[0].n, "1");
  // Unaliased expressions are named as PostgreSQL names them: code reads `rows[0].count`.
  const named = await client.query("SELECT count(*), max(id), now(), 1 + 1 FROM items");
  assert.deepEqual(named.fields.map((f) => f.name), ["count", "max", "now", "?column?"]);
  assert.equal(named.rows[0].count, "1");
  console.log("node-postgres types ok");
} finally {
  await client.end();
}
