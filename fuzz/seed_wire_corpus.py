#!/usr/bin/env python3
"""Writes the seed inputs of the wire fuzz targets (mysql_packets, pg_messages) into fuzz/corpus/.

Each seed is one session after login, in the framing fuzz/src/mysql_wire.rs and fuzz/src/pg_wire.rs describe:
the commands drivers send (queries, prepared statements with bound values of each type, LOCAL INFILE data,
the extended query protocol) and some malformed ones. The fuzzer grows the corpus from these; the normal suite
replays every file (tests/mysql/fuzz_corpus.rs, tests/postgres/fuzz_corpus.rs)."""
import hashlib
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


# MySQL: [len u16 LE][seq][payload]
def pkt(payload, seq=0):
    return struct.pack("<HB", len(payload), seq) + payload


def q(sql):
    return pkt(b"\x03" + sql.encode())


def prepare(sql):
    return pkt(b"\x16" + sql.encode())


def execute(stmt, types_values, new_types=True, nulls=0):
    n = len(types_values)
    body = struct.pack("<IBI", stmt, 0, 1)
    if n:
        body += nulls.to_bytes((n + 7) // 8, "little")
        body += b"\x01" if new_types else b"\x00"
        if new_types:
            body += b"".join(bytes([t, 0]) for t, _ in types_values)
        body += b"".join(v for _, v in types_values)
    return pkt(b"\x17" + body)


def lenenc(b):
    return bytes([len(b)]) + b


LONGLONG, DOUBLE, VAR_STRING, BLOB, DATETIME, DATE, TIME, NEWDECIMAL, TINY = 8, 5, 253, 252, 12, 10, 11, 246, 1
SETUP = q("CREATE TABLE IF NOT EXISTS t (a INT PRIMARY KEY, b VARCHAR(20), c DATETIME, d DECIMAL(10,2), e BLOB)")
mysql = [
    q("SELECT 1"),
    SETUP + q("INSERT INTO t (a, b) VALUES (1, 'x') ON DUPLICATE KEY UPDATE b = 'y'") + q("SELECT * FROM t"),
    q("SELECT @@version, @@autocommit, DATABASE(), USER()") + q("SHOW PROCESSLIST"),
    q("BEGIN") + q("SELECT 1") + q("ROLLBACK"),
    prepare("SELECT ?, ?") + execute(1, [(LONGLONG, struct.pack("<q", 7)), (VAR_STRING, lenenc(b"abc"))]),
    SETUP + prepare("INSERT INTO t (a, b, c, d, e) VALUES (?, ?, ?, ?, ?)")
    + execute(1, [
        (LONGLONG, struct.pack("<q", 2)),
        (VAR_STRING, lenenc("caf\u00e9".encode())),
        (DATETIME, bytes([7]) + struct.pack("<HBBBBB", 2024, 2, 29, 23, 59, 58)),
        (NEWDECIMAL, lenenc(b"12.34")),
        (BLOB, lenenc(b"\x00\xff")),
    ]),
    prepare("SELECT ?") + execute(1, [(DOUBLE, struct.pack("<d", 0.5))]) + execute(1, [], new_types=False)
    + pkt(b"\x19" + struct.pack("<I", 1)),
    prepare("SELECT ?, ?") + pkt(b"\x18" + struct.pack("<IH", 1, 0) + b"long data") + execute(1, [(BLOB, b""), (TINY, b"\x01")], nulls=2)
    + pkt(b"\x1a" + struct.pack("<I", 1)),
    prepare("SELECT ?") + execute(1, [(TIME, bytes([8, 1]) + struct.pack("<IBBB", 1, 2, 3, 4))]) + execute(1, [(DATE, bytes([4]) + struct.pack("<HBB", 2020, 1, 1))]),
    prepare("SELECT ?") + execute(9, [(LONGLONG, struct.pack("<q", 1))]) + pkt(b"\x17\x01\x00"),
    pkt(b"\x02test") + pkt(b"\x0e") + pkt(b"\x04t\x00") + pkt(b"\x09") + pkt(b"\x1b\x00\x00") + pkt(b"\x1f"),
    pkt(b"\x0c" + struct.pack("<I", 999999)) + pkt(b"\x0c") + pkt(b"\x99") + pkt(b""),
    SETUP + q("LOAD DATA LOCAL INFILE 'f.csv' INTO TABLE t FIELDS TERMINATED BY ',' (a, b)") + pkt(b"10,ten\n11,eleven\n", 2) + pkt(b"", 3)
    + q("SELECT count(*) FROM t"),
    SETUP + q("LOAD DATA LOCAL INFILE 'f.csv' INTO TABLE t") + pkt(b"12\tcut short", 2),
    q("SELECT 1") + pkt(b"", 0xFF) + b"\xff\xff\xff\x00\x03SELECT",
    q("SELECT 1") + pkt(b"", 0xFF) + b"\x05\x00\x00\x07\x03SELECT 2",
    q("SELECT json_extract('[[[[1]]]]', '$[0][0][0][0]'), REPEAT('a', 100)"),
    q("SELECT 1; SELECT 2") + q("/*!40101 SET NAMES utf8mb4 */") + q("SELECT _binary'\x80\xff'"),
    q("SET wait_timeout = 5") + q("KILL QUERY CONNECTION_ID()"),
]
for seed in mysql:
    write("mysql_packets", seed)


# PostgreSQL: [type][len u16 LE][body]
def msg(tag, body):
    return bytes([ord(tag)]) + struct.pack("<H", len(body)) + body


def cstr(s):
    return s.encode() + b"\0"


def parse(name, sql, oids=()):
    return msg("P", cstr(name) + cstr(sql) + struct.pack(">H", len(oids)) + b"".join(struct.pack(">I", o) for o in oids))


def bind(portal, stmt, params, formats=(), result_formats=()):
    body = cstr(portal) + cstr(stmt) + struct.pack(">H", len(formats)) + b"".join(struct.pack(">H", f) for f in formats)
    body += struct.pack(">H", len(params))
    for p in params:
        body += struct.pack(">i", -1) if p is None else struct.pack(">i", len(p)) + p
    body += struct.pack(">H", len(result_formats)) + b"".join(struct.pack(">H", f) for f in result_formats)
    return msg("B", body)


def describe(kind, name):
    return msg("D", kind.encode() + cstr(name))


def execute_pg(portal, rows=0):
    return msg("E", cstr(portal) + struct.pack(">i", rows))


SYNC = msg("S", b"")
PSETUP = msg("Q", cstr("CREATE TABLE IF NOT EXISTS pt (a INT PRIMARY KEY, b TEXT, c TIMESTAMP, d NUMERIC(10,2))"))
pg = [
    msg("Q", cstr("SELECT 1")),
    PSETUP + msg("Q", cstr("INSERT INTO pt VALUES (1, 'x', '2024-01-01 00:00:00', 1.5) ON CONFLICT DO NOTHING; SELECT * FROM pt")),
    msg("Q", cstr("SHOW JOBS")) + msg("Q", cstr("SELECT version(), current_database(), current_user")),
    msg("Q", cstr("BEGIN")) + msg("Q", cstr("SAVEPOINT s")) + msg("Q", cstr("ROLLBACK TO SAVEPOINT s")) + msg("Q", cstr("COMMIT")),
    parse("", "SELECT $1::int + 1, $2::text", (23, 25)) + bind("", "", [b"41", b"hi"]) + describe("P", "") + execute_pg("") + SYNC,
    PSETUP + parse("s1", "INSERT INTO pt (a, b, c, d) VALUES ($1, $2, $3, $4)", (23, 25, 1114, 1700))
    + bind("p1", "s1", [struct.pack(">i", 2), b"two", None, b"2.25"], formats=(1, 0, 0, 0)) + execute_pg("p1") + SYNC
    + describe("S", "s1") + msg("C", b"S" + cstr("s1")) + SYNC,
    parse("", "SELECT $1") + bind("", "", [b"x"], result_formats=(1,)) + execute_pg("", 1) + msg("H", b"") + SYNC,
    parse("", "SELECT $1, $2") + bind("", "", [b"only one"]) + execute_pg("") + SYNC,
    bind("", "missing", []) + execute_pg("nope") + describe("X", "") + SYNC,
    msg("Q", b"SELECT 1") + msg("Q", cstr("")) + msg("d", b"copy data") + msg("c", b"") + msg("f", cstr("fail")),
    msg("F", struct.pack(">IH", 1, 0)) + msg("?", b"") + SYNC,
    msg("Q", cstr("SELECT 1")) + b"\xff\x00\x00" + b"Q\x7f\xff\xff\xffSELECT",
    msg("Q", cstr("SELECT 1")) + b"\xff\x00\x00" + b"Q\x00\x00\x00\x02",
    msg("Q", cstr("SET statement_timeout = '5s'; SET application_name = 'fuzz'; SHOW statement_timeout")),
    msg("Q", cstr("SELECT json_extract('[[[[1]]]]', '$[0][0][0][0]')")) + msg("X", b""),
]
for seed in pg:
    write("pg_messages", seed)
