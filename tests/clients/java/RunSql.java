// Runs every statement of a tests/clients/sql/*.sql file over pgjdbc (extended protocol, like
// the tools that send them) and prints one line per statement:
//   ok <n> <tool: what> (<rows> rows)        or        FAIL <n> <tool: what>: [SQLSTATE] message
// With -v, also prints the first row of each result. Exit status 1 if any statement failed.
//
//   java -cp /usr/share/java/postgresql.jar tests/clients/java/RunSql.java HOST PORT USER FILE [-v]
//
// File format: blocks separated by blank lines; a block is comment lines ("-- tool: what") and
// one statement ending with ";". Password: PGPASSWORD, else "demo". Database: PGDATABASE, else zhenjie.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public class RunSql {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: RunSql HOST PORT USER FILE [-v]");
            System.exit(2);
        }
        boolean verbose = args.length > 4 && args[4].equals("-v");
        String db = System.getenv().getOrDefault("PGDATABASE", "zhenjie");
        Properties p = new Properties();
        p.setProperty("user", args[2]);
        p.setProperty("password", System.getenv().getOrDefault("PGPASSWORD", "demo"));
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "60");
        String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + db;

        List<String[]> blocks = parse(Files.readString(Path.of(args[3]), StandardCharsets.UTF_8));
        int failed = 0;
        Connection c = null;
        for (int i = 0; i < blocks.size(); i++) {
            String label = blocks.get(i)[0];
            String sql = blocks.get(i)[1];
            try {
                if (c == null || c.isClosed()) {
                    c = DriverManager.getConnection(url, p);
                }
                try (Statement st = c.createStatement()) {
                    boolean isQuery = st.execute(sql);
                    if (isQuery) {
                        try (ResultSet rs = st.getResultSet()) {
                            ResultSetMetaData md = rs.getMetaData();
                            int rows = 0;
                            StringBuilder first = new StringBuilder();
                            while (rs.next()) {
                                if (rows == 0 && verbose) {
                                    for (int col = 1; col <= md.getColumnCount(); col++) {
                                        String v = rs.getString(col);
                                        if (v != null && v.length() > 60) {
                                            v = v.substring(0, 60) + "...";
                                        }
                                        first.append(col > 1 ? " | " : "").append(md.getColumnLabel(col)).append('=').append(v);
                                    }
                                }
                                rows++;
                            }
                            System.out.println("ok " + (i + 1) + " " + label + " (" + rows + " rows)"
                                    + (verbose && rows > 0 ? "\n    " + first : ""));
                        }
                    } else {
                        System.out.println("ok " + (i + 1) + " " + label);
                    }
                }
            } catch (SQLException e) {
                failed++;
                String msg = String.valueOf(e.getMessage()).replace('\n', ' ');
                if (msg.length() > 400) {
                    msg = msg.substring(0, 400) + "...";
                }
                System.out.println("FAIL " + (i + 1) + " " + label + ": [" + e.getSQLState() + "] " + msg);
                try {
                    if (c != null && !c.isClosed() && !c.getAutoCommit()) {
                        c.rollback();
                    }
                } catch (SQLException ignored) {
                    // next statement reconnects if needed
                }
            }
        }
        if (c != null) {
            c.close();
        }
        System.out.println("# " + (blocks.size() - failed) + " ok, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    /** Blocks of [label, statement without its final ';']. */
    static List<String[]> parse(String text) {
        List<String[]> out = new ArrayList<>();
        for (String block : text.split("\\r?\\n\\s*\\r?\\n")) {
            String label = null;
            StringBuilder sql = new StringBuilder();
            for (String line : block.split("\\r?\\n")) {
                if (sql.length() == 0 && line.trim().startsWith("--")) {
                    label = line.trim().substring(2).trim();
                } else if (!line.isBlank()) {
                    sql.append(line).append('\n');
                }
            }
            String s = sql.toString().trim();
            if (s.isEmpty()) {
                continue;
            }
            if (s.endsWith(";")) {
                s = s.substring(0, s.length() - 1);
            }
            out.add(new String[] {label, s});
        }
        return out;
    }
}
