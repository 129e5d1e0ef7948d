"""psycopg 3 named (server-side) cursors: DECLARE with server-side parameters, FETCH in batches, scroll,
WITH HOLD across a commit, rollback closing cursors, binary results, and PostgreSQL's errors.
PG_DSN names the test server."""

import datetime
import decimal
import os
import sys

import psycopg
from psycopg import sql


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def expect(got, want, what):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")


ROWS = 2500

with psycopg.connect(os.environ["PG_DSN"], autocommit=True) as setup:
    setup.execute("DROP TABLE IF EXISTS readings")
    setup.execute(
        "CREATE TABLE readings (id INT PRIMARY KEY, label TEXT, amount NUMERIC(10,2), taken TIMESTAMP)"
    )
    with setup.cursor() as cur:
        base = datetime.datetime(2024, 1, 2, 3, 4, 5)
        cur.executemany(
            "INSERT INTO readings VALUES (%s, %s, %s, %s)",
            [
                (i, f"r{i}", decimal.Decimal(i) / 4, base + datetime.timedelta(minutes=i))
                for i in range(1, ROWS + 1)
            ],
        )

with psycopg.connect(os.environ["PG_DSN"]) as conn:
    # Iterating a named cursor fetches itersize rows at a time; parameters are bound server-side.
    with conn.cursor(name="big") as cur:
        cur.itersize = 300
        cur.execute("SELECT id, label, amount, taken FROM readings WHERE id > %s ORDER BY id", (500,))
        expect([d.name for d in cur.description], ["id", "label", "amount", "taken"], "description")
        seen = 0
        for row in cur:
            seen += 1
            if seen == 1:
                expect(row[0], 501, "first id")
                expect(row[1], "r501", "first label")
                expect(row[2], decimal.Decimal("125.25"), "first amount (NUMERIC keeps its value)")
                expect(row[3], datetime.datetime(2024, 1, 2, 11, 25, 5), "first timestamp")
        expect(seen, ROWS - 500, "rows iterated")

    # fetchone / fetchmany / fetchall and scroll on one cursor.
    with conn.cursor(name="pages", scrollable=True) as cur:
        cur.execute("SELECT id FROM readings WHERE id <= %s ORDER BY id", (10,))
        expect(cur.fetchone(), (1,), "fetchone")
        expect(cur.fetchmany(3), [(2,), (3,), (4,)], "fetchmany")
        cur.scroll(-2)
        expect(cur.fetchone(), (3,), "after scroll(-2)")
        cur.scroll(7, mode="absolute")
        expect(cur.fetchall(), [(8,), (9,), (10,)], "fetchall after absolute scroll")
        expect(cur.fetchall(), [], "fetchall at the end")
        cur.scroll(0, mode="absolute")
        expect(cur.fetchone(), (1,), "back at the start")
        open_names = conn.execute("SELECT name FROM pg_cursors ORDER BY name").fetchall()
        expect(open_names, [("pages",)], "pg_cursors while open")
    conn.commit()
    expect(conn.execute("SELECT count(*) FROM pg_cursors").fetchone(), (0,), "closed cursors")
    conn.commit()

    # NO SCROLL refuses to go back, with PostgreSQL's SQLSTATE.
    with conn.cursor(name="forward", scrollable=False) as cur:
        cur.execute("SELECT id FROM readings ORDER BY id")
        cur.fetchmany(2)
        try:
            cur.scroll(-1)
            fail("a NO SCROLL cursor went backward")
        except psycopg.errors.ObjectNotInPrerequisiteState as e:
            expect(e.sqlstate, "55000", "NO SCROLL error")
    conn.rollback()

    # Rollback closes the cursors of the transaction, WITH HOLD ones too.
    cur = conn.cursor(name="gone", withhold=True)
    cur.execute("SELECT id FROM readings")
    conn.rollback()
    expect(conn.execute("SELECT count(*) FROM pg_cursors").fetchone(), (0,), "after rollback")
    conn.rollback()

    # A cursor of a name already open is refused; one that does not exist is 34000.
    with conn.cursor(name="twice") as one:
        one.execute("SELECT 1")
        try:
            conn.execute('DECLARE "twice" CURSOR FOR SELECT 2')
            fail("a second cursor of the same name was declared")
        except psycopg.errors.DuplicateCursor as e:
            expect(e.sqlstate, "42P03", "duplicate cursor")
    conn.rollback()
    try:
        conn.execute('FETCH 1 FROM "nowhere"')
        fail("FETCH from a cursor that does not exist")
    except psycopg.errors.InvalidCursorName as e:
        expect(e.sqlstate, "34000", "missing cursor")
    conn.rollback()

# WITH HOLD outlives the commit of its transaction; without it, DECLARE needs a transaction.
with psycopg.connect(os.environ["PG_DSN"], autocommit=True) as conn:
    with conn.cursor(name="held", withhold=True) as cur:
        cur.execute("SELECT label FROM readings WHERE id BETWEEN %s AND %s ORDER BY id", (7, 9))
        expect(cur.fetchmany(2), [("r7",), ("r8",)], "held cursor")
        conn.execute("INSERT INTO readings VALUES (%s, 'late', 0, NULL)", (ROWS + 1,))
        expect(cur.fetchall(), [("r9",)], "held cursor after another statement committed")
    try:
        with conn.cursor(name="loose") as cur:
            cur.execute("SELECT 1")
        fail("DECLARE without HOLD outside a transaction")
    except psycopg.errors.NoActiveSqlTransaction as e:
        expect(e.sqlstate, "25P01", "DECLARE outside a transaction")

# Binary results from a named cursor.
with psycopg.connect(os.environ["PG_DSN"]) as conn:
    with conn.cursor(name="bin", binary=True) as cur:
        cur.execute("SELECT id, amount FROM readings WHERE id = %s", (4,))
        expect(cur.fetchall(), [(4, decimal.Decimal("1.00"))], "binary fetch")
    # A quoted name that needs quoting.
    with conn.cursor(name="Mixed Case") as cur:
        cur.execute(sql.SQL("SELECT {} FROM readings WHERE id = 1").format(sql.Identifier("label")))
        expect(cur.fetchone(), ("r1",), "quoted cursor name")

print("psycopg cursors ok")
