"""PyMySQL with its defaults (autocommit off): rows inserted and rolled back must be gone.

Usage: rollback_pymysql.py PORT USER DATABASE
"""
import sys

import pymysql

port, user, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = pymysql.connect(host="127.0.0.1", port=port, user=user, password="", database=db)
# PyMySQL reads autocommit from the handshake's status flags and sends SET autocommit=0 only if
# the server reports it on; a wrong flag leaves the server committing every statement.
assert conn.get_autocommit() is False
with conn.cursor() as cur:
    cur.execute("INSERT INTO accounts (id, owner) VALUES (1, 'ann'), (2, 'bob')")
    cur.execute("SELECT COUNT(*) FROM accounts")
    assert cur.fetchone()[0] == 2
conn.rollback()
with conn.cursor() as cur:
    cur.execute("SELECT COUNT(*) FROM accounts")
    assert cur.fetchone()[0] == 0, "rolled-back rows are visible in the same session"
    # A committed row stays.
    cur.execute("INSERT INTO accounts (id, owner) VALUES (3, 'cid')")
conn.commit()
conn.close()
print("ok")
