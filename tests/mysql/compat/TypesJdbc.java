// MariaDB Connector/J, with client-side and server-side prepared statements: typed parameters go in,
// and getObject returns the JDBC types of DATETIME, DATE, TIME, DECIMAL and VARBINARY columns.
// Usage: java -cp mariadb-java-client.jar TypesJdbc.java PORT USER DATABASE ID SERVER_PREPARE(true|false)
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Time;
import java.sql.Timestamp;
import java.util.Arrays;

public class TypesJdbc {
    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:mariadb://127.0.0.1:" + args[0] + "/" + args[2] + "?useServerPrepStmts=" + args[4];
        int id = Integer.parseInt(args[3]);
        Timestamp dt = Timestamp.valueOf("2022-06-07 08:09:10.5");
        Date d = Date.valueOf("2022-01-31");
        Time t = Time.valueOf("23:59:58");
        BigDecimal amount = new BigDecimal("7.25");
        byte[] vb = new byte[] {0, (byte) 0x80, 0x7f};
        try (Connection c = DriverManager.getConnection(url, args[1], "")) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO typed (id, dt, d, t, vb, amount, big) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                ps.setInt(1, id);
                ps.setTimestamp(2, dt);
                ps.setDate(3, d);
                ps.setTime(4, t);
                ps.setBytes(5, vb);
                ps.setBigDecimal(6, amount);
                ps.setLong(7, 1234567890123L);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT dt, d, t, vb, amount, big FROM typed WHERE id = ?")) {
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next(), "row");
                    Object odt = rs.getObject(1);
                    check(odt instanceof Timestamp && odt.equals(dt), "dt " + odt + " " + (odt == null ? "" : odt.getClass()));
                    check(rs.getDate(2).toString().equals("2022-01-31"), "d " + rs.getObject(2));
                    check(rs.getObject(2) instanceof Date, "d class " + rs.getObject(2).getClass());
                    check(rs.getTime(3).toString().equals("23:59:58"), "t " + rs.getObject(3));
                    check(rs.getObject(3) instanceof Time, "t class " + rs.getObject(3).getClass());
                    check(Arrays.equals(rs.getBytes(4), vb), "vb");
                    check(rs.getObject(4) instanceof byte[], "vb class " + rs.getObject(4).getClass());
                    Object oamount = rs.getObject(5);
                    check(oamount instanceof BigDecimal && oamount.equals(amount), "amount " + oamount);
                    check(rs.getMetaData().getScale(5) == 2, "scale " + rs.getMetaData().getScale(5));
                    check(rs.getLong(6) == 1234567890123L, "big");
                    check(!rs.getMetaData().isSigned(6), "BIGINT UNSIGNED reads as signed");
                }
            }
        }
        System.out.println("ok");
    }
}
