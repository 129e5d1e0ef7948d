"""PyMySQL with CLIENT.MULTI_STATEMENTS: one execute() of several statements returns one result per
statement (nextset), and the first error ends the sequence (what follows it does not run).

Usage: multi_pymysql.py PORT USER DATABASE
"""
import sys

import pymysql
from pymysql.constants import CLIENT

port, user, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = pymysql.connect(
    host="127.0.0.1",
    port=port,
    user=user,
    password="",
    database=db,
    autocommit=True,
    client_flag=CLIENT.MULTI_STATEMENTS,
)
with conn.cursor() as cur:
    cur.execute("SELECT 1; SELECT 2, 'a;b'; INSERT INTO accounts (id, owner) VALUES (1, 'x'), (2, 'y')")
    assert cur.fetchall() == ((1,),), "first result"
    assert cur.nextset()
    assert cur.fetchall() == ((2, "a;b"),), "second result"
    assert cur.nextset()
    assert cur.rowcount == 2, cur.rowcount
    assert not cur.nextset()
    cur.execute("INSERT INTO accounts (id, owner) VALUES (3, 'z'); SELECT nope FROM accounts; INSERT INTO accounts (id, owner) VALUES (4, 'w')")
    try:
        while cur.nextset():
            pass
        raise AssertionError("the failing statement did not fail")
    except pymysql.MySQLError as e:
        assert e.args[0] == 1054, e
    # The connection is usable after the failed sequence.
    cur.execute("SELECT COUNT(*) FROM accounts")
    assert cur.fetchone()[0] == 3
conn.close()
print("ok")
