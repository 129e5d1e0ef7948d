"""PyMySQL's LOAD DATA LOCAL INFILE: the client sends its own file; the connection goes on afterwards.

Usage: local_infile_pymysql.py PORT USER DATABASE
"""
import os
import sys
import tempfile

import pymysql

port, user, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rows = 20000
with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    for i in range(1, rows + 1):
        # Long enough that the file spans many packets.
        f.write(f'{i},"item {i}, {"x" * 40}"\n')
    path = f.name
try:
    conn = pymysql.connect(
        host="127.0.0.1", port=port, user=user, password="", database=db, autocommit=True, local_infile=True
    )
    with conn.cursor() as cur:
        cur.execute(
            f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE items FIELDS TERMINATED BY ',' ENCLOSED BY '\"'"
        )
        cur.execute("SELECT COUNT(*), MAX(id) FROM items")
        assert cur.fetchone() == (rows, rows)
        cur.execute("SELECT name FROM items WHERE id = 7")
        assert cur.fetchone()[0] == "item 7, " + "x" * 40
    conn.close()
    # A client that did not enable local files is refused as MySQL refuses it, and nothing is loaded.
    conn = pymysql.connect(host="127.0.0.1", port=port, user=user, password="", database=db, autocommit=True)
    with conn.cursor() as cur:
        try:
            cur.execute(f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE items")
            raise AssertionError("LOCAL INFILE without local files enabled")
        except pymysql.err.OperationalError as e:
            assert e.args[0] == 3948, e
        cur.execute("SELECT COUNT(*) FROM items")
        assert cur.fetchone()[0] == rows
    conn.close()
finally:
    os.unlink(path)
print("ok")
