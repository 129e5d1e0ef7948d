"""Every parameter type psycopg 3 sends, in binary and in text format, round-trips through a typed table
and reads back as the same Python value; a value that does not fit its column is refused and nothing is
written. Run by tests/postgres/drivers.rs with PG_DSN set to the test server."""

import datetime as dt
import decimal
import os
import sys
import uuid

import psycopg
from psycopg.types.json import Jsonb

DSN = os.environ["PG_DSN"]
UTC = dt.timezone.utc

ROW = {
    "b": True,
    "i2": 7,
    "i4": 70000,
    "i8": 2**40,
    "f4": 1.5,
    "f8": 2.25,
    "n": decimal.Decimal("12345678.91"),
    "t": "hello",
    "v": "world",
    "by": b"\x00\x01\xffbytes",
    "d": dt.date(2024, 1, 2),
    "tm": dt.time(3, 4, 5, 120000),
    "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 123456),
    "tz": dt.datetime(2024, 1, 2, 4, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    "iv": dt.timedelta(days=1, hours=2, minutes=3, seconds=4),
    "u": uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    "j": {"a": [1, 2, {"b": None}]},
}
COLUMNS = list(ROW)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check_row(got, fmt):
    for col, want in zip(COLUMNS, got):
        exp = ROW[col]
        if col == "j":
            ok = want == exp
        elif col == "tz":
            ok = want == exp and want.utcoffset() is not None
        elif col == "by":
            ok = bytes(want) == exp
        else:
            ok = want == exp and type(want) is type(exp)
        if not ok:
            fail(f"{fmt}: column {col}: got {want!r} ({type(want).__name__}), want {exp!r}")


with psycopg.connect(DSN, autocommit=True) as conn:
    conn.execute(
        """CREATE TABLE items (
            id INT PRIMARY KEY, b BOOLEAN, i2 SMALLINT, i4 INTEGER, i8 BIGINT, f4 REAL, f8 DOUBLE PRECISION,
            n NUMERIC(10,2), t TEXT, v VARCHAR(20), by BYTEA, d DATE, tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ,
            iv INTERVAL, u UUID, j JSONB)"""
    )
    placeholders = ", ".join(["%s"] * (len(COLUMNS) + 1))
    insert = f"INSERT INTO items (id, {', '.join(COLUMNS)}) VALUES ({placeholders})"
    values = [ROW[c] if c != "j" else Jsonb(ROW[c]) for c in COLUMNS]
    for rid, binary in [(1, True), (2, False)]:
        fmt = "binary" if binary else "text"
        with conn.cursor(binary=binary) as cur:
            cur.execute(insert, [rid, *values])
            # Every reader of the table can read it back, in both formats, as the same values.
            for read_binary in (True, False):
                with conn.cursor(binary=read_binary) as r:
                    r.execute(f"SELECT {', '.join(COLUMNS)} FROM items WHERE id = %s", [rid])
                    check_row(r.fetchone(), f"{fmt} write, {'binary' if read_binary else 'text'} read")

    # The stored forms are canonical: the same for both formats, times in UTC, no raw bytes.
    with conn.cursor() as cur:
        cur.execute(
            "SELECT typeof(d), typeof(ts), typeof(tz), CAST(tz AS TEXT), CAST(ts AS TEXT), CAST(n AS TEXT) FROM items ORDER BY id"
        )
        rows = cur.fetchall()
        if rows[0] != rows[1]:
            fail(f"binary and text writes stored differently: {rows}")
        if rows[0][:3] != ("text", "text", "text") or rows[0][3] != "2024-01-02 03:04:05":
            fail(f"stored forms: {rows[0]}")

    # Comparisons with parameters of either format meet the stored values.
    for binary in (True, False):
        with conn.cursor(binary=binary) as cur:
            cur.execute("SELECT count(*) FROM items WHERE tz = %s AND d = %s AND u = %s", [ROW["tz"], ROW["d"], ROW["u"]])
            if int(cur.fetchone()[0]) != 2:
                fail(f"comparison with {'binary' if binary else 'text'} parameters found no rows")

    # A value that does not fit its column is refused and nothing is written.
    for col, bad, state in [
        ("ts", "not a time", "22007"),
        ("d", "2024-02-30", "22007"),
        ("u", "not-a-uuid", "22P02"),
        ("i8", "twelve", "22P02"),
        ("j", "{oops", "22P02"),
    ]:
        try:
            with conn.cursor() as cur:
                cur.execute(f"INSERT INTO items (id, {col}) VALUES (%s, %s::text)", [99, bad])
            fail(f"{col} = {bad!r} was accepted")
        except psycopg.Error as e:
            if e.sqlstate != state:
                fail(f"{col} = {bad!r}: sqlstate {e.sqlstate} ({e}), want {state}")
    n = int(conn.execute("SELECT count(*) FROM items").fetchone()[0])
    if n != 2:
        fail(f"{n} rows after refused writes")

print("psycopg types ok")
