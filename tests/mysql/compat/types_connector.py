"""mysql-connector-python's prepared cursor (binary protocol both ways): typed parameters are stored
canonically and come back as Python's types.

Usage: types_connector.py PORT USER DATABASE
"""
import datetime
import decimal
import sys

import mysql.connector

port, user, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = mysql.connector.connect(
    host="127.0.0.1", port=port, user=user, password="", database=db, autocommit=True, use_pure=True
)
cur = conn.cursor(prepared=True)
cur.execute(
    "INSERT INTO typed (id, dt, ts, d, t, b, vb, bn, amount, big) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    (
        2,
        datetime.datetime(2023, 3, 4, 5, 6, 7, 890000),
        datetime.datetime(2023, 8, 9, 10, 11, 12),
        datetime.date(2023, 2, 28),
        datetime.timedelta(hours=1, minutes=2, seconds=3),
        b"\x00\xfe",
        b"\x03\x04",
        b"wxyz",
        decimal.Decimal("99.50"),
        4294967296,
    ),
)
cur.execute("SELECT dt, ts, d, t, b, vb, bn, amount, big FROM typed WHERE id = ?", (2,))
row = cur.fetchone()
assert row[0] == datetime.datetime(2023, 3, 4, 5, 6, 7, 890000), row[0]
assert row[1] == datetime.datetime(2023, 8, 9, 10, 11, 12), row[1]
assert row[2] == datetime.date(2023, 2, 28), row[2]
assert row[3] == datetime.timedelta(hours=1, minutes=2, seconds=3), row[3]
assert bytes(row[4]) == b"\x00\xfe", row[4]
assert bytes(row[5]) == b"\x03\x04", row[5]
assert bytes(row[6]) == b"wxyz", row[6]
assert row[7] == decimal.Decimal("99.50"), row[7]
assert row[8] == 4294967296, row[8]
cur.close()
# The same row through the text protocol.
cur = conn.cursor()
cur.execute("SELECT dt, d, t, amount FROM typed WHERE id = 2")
row = cur.fetchone()
assert row[0] == datetime.datetime(2023, 3, 4, 5, 6, 7, 890000), row[0]
assert row[1] == datetime.date(2023, 2, 28), row[1]
assert row[2] == datetime.timedelta(hours=1, minutes=2, seconds=3), row[2]
assert row[3] == decimal.Decimal("99.50"), row[3]
conn.close()
print("ok")
