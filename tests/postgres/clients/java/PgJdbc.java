// pgjdbc (Debian's libpostgresql-jdbc-java) against Tenantry: connects, sets the session settings drivers and
// tools set, reads them back with SHOW, runs a PreparedStatement of several types and a transaction, and reads
// the schema through DatabaseMetaData (getTables, getColumns).
// Usage: java -cp /usr/share/java/postgresql.jar:. PgJdbc jdbc:postgresql://127.0.0.1:PORT/test user
import java.math.BigDecimal;
import java.sql.*;
import java.util.Properties;

public class PgJdbc {
    static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAIL: " + what);
            System.exit(1);
        }
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("ApplicationName", "tenantry-test");
        try (Connection c = DriverManager.getConnection(args[0], props)) {
            DatabaseMetaData md = c.getMetaData();
            check(md.getDatabaseProductName().equals("PostgreSQL"), "product " + md.getDatabaseProductName());
            try (Statement s = c.createStatement()) {
                for (String set : new String[] {
                        "SET extra_float_digits = 3", "SET application_name = 'jdbc app'", "SET DateStyle = 'ISO, MDY'",
                        "SET TimeZone = 'UTC'", "SET search_path = public", "SET client_encoding = 'UTF8'",
                        "SET statement_timeout = 0", "SET default_transaction_isolation = 'serializable'",
                        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE" }) {
                    s.execute(set);
                }
                try (ResultSet rs = s.executeQuery("SHOW application_name")) {
                    check(rs.next() && rs.getString(1).equals("jdbc app"), "SHOW application_name");
                }
                try (ResultSet rs = s.executeQuery("SHOW extra_float_digits")) {
                    check(rs.next() && rs.getString(1).equals("3"), "SHOW extra_float_digits");
                }
                try (ResultSet rs = s.executeQuery("SHOW server_version")) {
                    check(rs.next() && !rs.getString(1).isEmpty(), "SHOW server_version");
                }
                s.execute("CREATE TABLE jt (id BIGINT PRIMARY KEY, name VARCHAR(20), price NUMERIC(10,2), "
                        + "at TIMESTAMPTZ, d DATE, ok BOOLEAN, score DOUBLE PRECISION)");
                s.execute("CREATE INDEX jt_name ON jt (name)");
            }
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO jt (id, name, price, at, d, ok, score) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 3; i++) {
                    p.setLong(1, i);
                    p.setString(2, "n" + i);
                    p.setBigDecimal(3, new BigDecimal("1234.5" + i));
                    p.setTimestamp(4, Timestamp.valueOf("2024-01-02 03:04:05"));
                    p.setDate(5, Date.valueOf("2024-01-0" + i));
                    p.setBoolean(6, i % 2 == 0);
                    p.setDouble(7, i / 4.0);
                    check(p.executeUpdate() == 1, "insert " + i);
                }
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("DELETE FROM jt WHERE id = 3");
            }
            c.rollback();
            c.setAutoCommit(true);
            try (PreparedStatement q = c.prepareStatement(
                    "SELECT id, name, price, d, ok, score FROM jt WHERE id >= ? ORDER BY id")) {
                q.setLong(1, 1);
                try (ResultSet rs = q.executeQuery()) {
                    int n = 0;
                    while (rs.next()) {
                        n++;
                        check(rs.getLong(1) == n, "id " + n);
                        check(rs.getString(2).equals("n" + n), "name " + rs.getString(2));
                        check(rs.getBigDecimal(3).compareTo(new BigDecimal("1234.5" + n)) == 0, "price " + rs.getBigDecimal(3));
                        check(rs.getDate(4).toString().equals("2024-01-0" + n), "date " + rs.getDate(4));
                        check(rs.getBoolean(5) == (n % 2 == 0), "ok");
                        check(rs.getDouble(6) == n / 4.0, "score");
                    }
                    check(n == 3, "rows after rollback: " + n);
                }
            }
            // DatabaseMetaData, as tools (DBeaver, IDEs) and frameworks read the schema.
            DatabaseMetaData meta = c.getMetaData();
            try (ResultSet rs = meta.getTables(null, "public", "jt", new String[] {"TABLE"})) {
                check(rs.next() && rs.getString("TABLE_NAME").equals("jt"), "getTables");
                check(rs.getString("TABLE_TYPE").equals("TABLE"), "getTables type " + rs.getString("TABLE_TYPE"));
                check(!rs.next(), "getTables: one table");
            }
            try (ResultSet rs = meta.getColumns(null, "public", "jt", null)) {
                StringBuilder cols = new StringBuilder();
                while (rs.next()) {
                    cols.append(rs.getString("COLUMN_NAME")).append(':').append(rs.getString("TYPE_NAME")).append(' ');
                }
                check(cols.toString().equals("id:int8 name:varchar price:numeric at:timestamptz d:date ok:bool score:float8 "),
                        "getColumns " + cols);
            }
            // getPrimaryKeys reads `(information_schema._pg_expandarray(i.indkey)).n` and `(result.KEYS).x`.
            try (ResultSet rs = meta.getPrimaryKeys(null, "public", "jt")) {
                check(rs.next(), "getPrimaryKeys: a row");
                check(rs.getString("COLUMN_NAME").equals("id"), "getPrimaryKeys column " + rs.getString("COLUMN_NAME"));
                check(rs.getInt("KEY_SEQ") == 1, "getPrimaryKeys KEY_SEQ " + rs.getString("KEY_SEQ"));
                check(rs.getString("PK_NAME").equals("jt_pkey"), "getPrimaryKeys PK_NAME " + rs.getString("PK_NAME"));
                check(!rs.next(), "getPrimaryKeys: one column");
            }
            try (ResultSet rs = meta.getIndexInfo(null, "public", "jt", false, false)) {
                StringBuilder ix = new StringBuilder();
                while (rs.next()) {
                    ix.append(rs.getString("INDEX_NAME")).append(':').append(rs.getString("COLUMN_NAME"))
                            .append(':').append(rs.getInt("ORDINAL_POSITION")).append(':')
                            .append(rs.getBoolean("NON_UNIQUE")).append(':').append(rs.getString("ASC_OR_DESC"))
                            .append(' ');
                }
                check(ix.toString().equals("jt_pkey:id:1:false:A jt_name:name:1:true:A "), "getIndexInfo " + ix);
            }
            // Errors on this wire speak PostgreSQL, not MySQL.
            try (Statement s = c.createStatement()) {
                s.execute("SELEC 1");
                check(false, "a syntax error was accepted");
            } catch (SQLException e) {
                check("42601".equals(e.getSQLState()), "syntax error state " + e.getSQLState());
                check(!e.getMessage().contains("MySQL"), "message mentions MySQL: " + e.getMessage());
            }
        }
        System.out.println("pgjdbc ok");
    }
}
