"""A user with a password over a plain connection, through PyMySQL and mysql-connector-python: the server
announces caching_sha2_password, a plain connection never carries the password, so both drivers are switched
to mysql_native_password and log in; a wrong password is refused with 1045.

Usage: login_password.py PORT USER PASSWORD
"""
import sys

import mysql.connector
import pymysql

port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def current_user(conn):
    cur = conn.cursor()
    cur.execute("SELECT CURRENT_USER()")
    (who,) = cur.fetchone()
    conn.close()
    return who


for attempt in ("first", "second"):
    c = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password)
    print("pymysql", attempt, current_user(c))
    c = mysql.connector.connect(host="127.0.0.1", port=port, user=user, password=password,
                                ssl_disabled=True)
    print("connector", attempt, current_user(c))

try:
    pymysql.connect(host="127.0.0.1", port=port, user=user, password=password + "x")
    print("pymysql wrong password accepted")
except pymysql.err.OperationalError as e:
    print("pymysql refused", e.args[0])
try:
    mysql.connector.connect(host="127.0.0.1", port=port, user=user, password=password + "x",
                            ssl_disabled=True)
    print("connector wrong password accepted")
except mysql.connector.Error as e:
    print("connector refused", e.errno)
