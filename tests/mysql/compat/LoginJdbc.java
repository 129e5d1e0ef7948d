// MariaDB Connector/J with a password over a plain connection (it answers mysql_native_password from the
// start, whatever the server announces); a wrong password is refused with 1045.
// Usage: java -cp mariadb-java-client.jar LoginJdbc.java PORT USER PASSWORD
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;

public class LoginJdbc {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:mariadb://127.0.0.1:" + args[0] + "/";
        try (Connection c = DriverManager.getConnection(url, args[1], args[2]);
             ResultSet rs = c.createStatement().executeQuery("SELECT CURRENT_USER()")) {
            if (!rs.next()) throw new AssertionError("no row");
            System.out.println("jdbc " + rs.getString(1));
        }
        try (Connection c = DriverManager.getConnection(url, args[1], args[2] + "x")) {
            System.out.println("jdbc wrong password accepted");
        } catch (SQLException e) {
            System.out.println("jdbc refused " + e.getErrorCode());
        }
    }
}
