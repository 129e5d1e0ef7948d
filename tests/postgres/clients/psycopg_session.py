"""PostgreSQL's session settings over psycopg 3: SET in its forms, SHOW answers, ParameterStatus reports the
settings PostgreSQL reports, and errors speak PostgreSQL. PG_DSN names the test server."""

import os
import sys

import psycopg

with psycopg.connect(os.environ["PG_DSN"], autocommit=True, application_name="at-startup") as conn:
    def show(name):
        return conn.execute(f"SHOW {name}").fetchone()[0]

    def fail(msg):
        print("FAIL:", msg)
        sys.exit(1)

    if conn.info.parameter_status("application_name") != "at-startup":
        fail(f"startup application_name: {conn.info.parameter_status('application_name')}")
    if show("application_name") != "at-startup":
        fail(f"SHOW application_name after startup: {show('application_name')!r}")
    for sql in [
        "SET application_name = 'my app'",
        "SET DateStyle TO 'ISO, MDY'",
        "SET TIME ZONE 'UTC'",
        "SET search_path TO public, \"$user\"",
        "SET extra_float_digits = 3",
        "SET statement_timeout = '5s'",
        "SET client_encoding = 'UTF8'",
        "SET default_transaction_isolation = 'serializable'",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    ]:
        conn.execute(sql)
    # ParameterStatus after SET, as PostgreSQL sends it for reported settings.
    if conn.info.parameter_status("application_name") != "my app":
        fail(f"ParameterStatus application_name: {conn.info.parameter_status('application_name')}")
    if conn.info.parameter_status("DateStyle") != "ISO, MDY":
        fail(f"ParameterStatus DateStyle: {conn.info.parameter_status('DateStyle')}")
    for name, want in [
        ("application_name", "my app"),
        ("extra_float_digits", "3"),
        ("statement_timeout", "5s"),
        ("search_path", 'public, "$user"'),
        ("TimeZone", "UTC"),
        ("standard_conforming_strings", "on"),
        ("transaction isolation level", None),
    ]:
        got = show(name)
        if want is not None and got != want:
            fail(f"SHOW {name}: {got!r}, want {want!r}")
    try:
        conn.execute("SELEC 1")
        fail("a syntax error was accepted")
    except psycopg.errors.SyntaxError as e:
        if "MySQL" in str(e) or 'syntax error at or near "SELEC"' not in str(e):
            fail(f"syntax error message: {e}")
    try:
        conn.execute("SET no_such_setting = 1")
        fail("an unknown setting was accepted")
    except psycopg.Error as e:
        if e.sqlstate != "42704":
            fail(f"unknown setting: {e.sqlstate} {e}")

    # Nested transactions are savepoints.
    conn.execute("CREATE TABLE nest (id INT PRIMARY KEY)")
    with conn.transaction():
        conn.execute("INSERT INTO nest VALUES (1)")
        try:
            with conn.transaction():
                conn.execute("INSERT INTO nest VALUES (2)")
                raise RuntimeError("roll the inner one back")
        except RuntimeError:
            pass
    ids = [r[0] for r in conn.execute("SELECT id FROM nest ORDER BY id").fetchall()]
    if [int(i) for i in ids] != [1]:
        fail(f"nested transaction rows: {ids}")

print("psycopg session ok")
