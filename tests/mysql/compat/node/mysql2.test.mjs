// node mysql2 end to end: the text protocol (query) and the binary one (execute, server-side prepared
// statements) with values of every common type, insertId / affectedRows, transactions that roll back,
// multiple statements, a pool, and MySQL's error numbers and SQLSTATEs. MYSQL_PORT names the test server.
import assert from "node:assert/strict";
import mysql from "mysql2/promise";

const config = {
  host: "127.0.0.1",
  port: Number(process.env.MYSQL_PORT),
  user: "root@sys",
  password: "",
  database: "test",
  multipleStatements: true,
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
};
const c = await mysql.createConnection(config);
try {
  await c.query(`CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE,
    qty INT, big BIGINT, price DECIMAL(10,2), ratio DOUBLE, day DATE, at DATETIME(6), data BLOB, doc JSON)`);
  const [ins] = await c.execute(
    "INSERT INTO items (name, qty, big, price, ratio, day, at, data, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ["apple", 3, "9007199254740993", "12.50", 0.25, "2024-01-02", "2024-01-02 03:04:05.123456",
      Buffer.from([0, 1, 255]), JSON.stringify({ a: [1, 2] })],
  );
  assert.equal(ins.affectedRows, 1);
  assert.equal(ins.insertId, 1);
  const [ins2] = await c.query("INSERT INTO items (name, qty) VALUES ('pear', NULL), ('plum', 7)");
  assert.equal(ins2.affectedRows, 2);
  assert.equal(ins2.insertId, 2, "the first id of a multi-row insert");

  for (const run of [(sql, p) => c.query(sql, p), (sql, p) => c.execute(sql, p)]) {
    const [rows, fields] = await run("SELECT * FROM items WHERE id = ?", [1]);
    assert.equal(rows.length, 1);
    const r = rows[0];
    assert.equal(r.name, "apple");
    assert.equal(r.qty, 3);
    assert.equal(String(r.big), "9007199254740993");
    assert.equal(r.price, "12.50");
    assert.equal(r.ratio, 0.25);
    assert.equal(r.day, "2024-01-02");
    assert.equal(r.at, "2024-01-02 03:04:05.123456");
    assert.deepEqual([...r.data], [0, 1, 255]);
    assert.deepEqual(typeof r.doc === "string" ? JSON.parse(r.doc) : r.doc, { a: [1, 2] });
    assert.deepEqual(fields.map((f) => f.name), ["id", "name", "qty", "big", "price", "ratio", "day", "at", "data", "doc"]);
    const [nulls] = await run("SELECT qty FROM items WHERE name = ?", ["pear"]);
    assert.equal(nulls[0].qty, null);
  }

  // A transaction that rolls back leaves nothing; one that commits keeps its row.
  await c.beginTransaction();
  await c.execute("UPDATE items SET qty = ? WHERE name = ?", [100, "plum"]);
  await c.rollback();
  const [[plum]] = await c.query("SELECT qty FROM items WHERE name = 'plum'");
  assert.equal(plum.qty, 7, "rollback kept the update");
  await c.beginTransaction();
  const [upd] = await c.execute("UPDATE items SET qty = qty + 1 WHERE name = ?", ["plum"]);
  assert.equal(upd.affectedRows, 1);
  await c.commit();

  // Several statements in one query: one result each.
  const [multi] = await c.query("SELECT 'x' AS a; SELECT qty FROM items WHERE name = 'plum'");
  assert.deepEqual(multi[0], [{ a: "x" }]);
  assert.deepEqual(multi[1], [{ qty: 8 }]);

  // Errors carry MySQL's numbers and SQLSTATEs, on both protocols, and the connection goes on.
  for (const run of [(sql, p) => c.query(sql, p), (sql, p) => c.execute(sql, p)]) {
    await assert.rejects(run("INSERT INTO items (name) VALUES (?)", ["apple"]),
      (e) => e.errno === 1062 && e.sqlState === "23000" && e.code === "ER_DUP_ENTRY");
    await assert.rejects(run("SELECT nope FROM items", []),
      (e) => e.errno === 1054 && e.sqlState === "42S22");
  }
  await assert.rejects(c.query("SELEC 1"), (e) => e.errno === 1064 && e.sqlState === "42000");

  // A pool of four runs twenty statements concurrently.
  const pool = mysql.createPool({ ...config, connectionLimit: 4 });
  const counts = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    pool.execute("SELECT count(*) AS n FROM items WHERE id <= ?", [i % 3 + 1]).then(([r]) => Number(r[0].n))));
  assert.deepEqual(counts, Array.from({ length: 20 }, (_, i) => i % 3 + 1));
  await pool.end();
  console.log("mysql2 ok");
} finally {
  await c.end();
}
