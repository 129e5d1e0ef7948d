// MariaDB Connector/J: setAutoCommit(false), insert, rollback: the rows must be gone.
// Usage: java -cp mariadb-java-client.jar RollbackJdbc.java PORT USER DATABASE
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

public class RollbackJdbc {
    static int count(Statement st) throws Exception {
        try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM accounts")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:mariadb://127.0.0.1:" + args[0] + "/" + args[2];
        try (Connection c = DriverManager.getConnection(url, args[1], "")) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO accounts (id, owner) VALUES (20, 'gus'), (21, 'hal')");
                if (count(st) != 2) throw new AssertionError("inserted rows not visible");
                c.rollback();
                if (count(st) != 0) throw new AssertionError("rolled-back rows still visible");
                st.executeUpdate("INSERT INTO accounts (id, owner) VALUES (22, 'ivy')");
                c.commit();
            }
        }
        System.out.println("ok");
    }
}
