"""PyMySQL: dates, times, bytes, decimals and unsigned integers come back as Python's types.

Usage: types_pymysql.py PORT USER DATABASE
"""
import datetime
import decimal
import sys

import pymysql

port, user, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = pymysql.connect(host="127.0.0.1", port=port, user=user, password="", database=db, autocommit=True)
with conn.cursor() as cur:
    cur.execute(
        "INSERT INTO typed (id, dt, ts, d, t, b, vb, bn, amount, big) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            1,
            datetime.datetime(2024, 1, 2, 3, 4, 5, 123456),
            datetime.datetime(2024, 5, 6, 7, 8, 9),
            datetime.date(2024, 12, 31),
            datetime.timedelta(hours=12, minutes=34, seconds=56),
            b"\x00\xffraw",
            b"\x01\x02",
            b"abcd",
            decimal.Decimal("12.34"),
            9007199254740993,
        ),
    )
    cur.execute("SELECT dt, ts, d, t, b, vb, bn, amount, big FROM typed WHERE id = 1")
    row = cur.fetchone()
    # PyMySQL converts by the column's wire type and character set: wrong ones come back as str.
    assert row[0] == datetime.datetime(2024, 1, 2, 3, 4, 5, 123456), row[0]
    assert row[1] == datetime.datetime(2024, 5, 6, 7, 8, 9), row[1]
    assert row[2] == datetime.date(2024, 12, 31), row[2]
    assert row[3] == datetime.timedelta(hours=12, minutes=34, seconds=56), row[3]
    assert row[4] == b"\x00\xffraw", row[4]
    assert row[5] == b"\x01\x02", row[5]
    assert row[6] == b"abcd", row[6]
    assert row[7] == decimal.Decimal("12.34") and isinstance(row[7], decimal.Decimal), row[7]
    assert row[8] == 9007199254740993, row[8]
    desc = {d[0]: d for d in cur.description}
    assert desc["amount"][5] == 2, desc["amount"]  # scale
    flags = {f.name: f for f in cur._result.fields}
    assert flags["big"].flags & 32, "BIGINT UNSIGNED without the UNSIGNED flag"
    assert flags["b"].charsetnr == 63 and flags["vb"].charsetnr == 63, "bytes without the binary charset"
conn.close()
print("ok")
