// pgjdbc client test for zhenjie: what a JDBC tool (DBeaver, Metabase, Tableau) does over
// pgjdbc, with concrete assertions. One line per check: "ok name" or "FAIL name: message";
// exit status 1 if any check failed.
//
// Run (no compile step, Java 11+):
//   java -cp /usr/share/java/postgresql.jar tests/clients/java/ClientTest.java 127.0.0.1 5433 [database]
//
// Users town, village, city, admin with password demo (the demo catalog). The expected
// comments, column types and masks below are those of the demo city (`zhenjie demo`).
// Against a plain PostgreSQL loaded with the same tables, comments and functions (to check the
// test itself), everything passes except the gov.* checks, fetch.village_fetchsize_governed and
// types.table.audit_log, which need zhenjie's governance.

import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

public class ClientTest {
    static String host = "127.0.0.1";
    static String port = "5433";
    static String database = "zhenjie";
    static final String PASSWORD = "demo";

    static int passed = 0;
    static int failed = 0;

    /** Tables and their column types (pg type names) as the demo catalog declares them. */
    static final Map<String, String> TABLES = new LinkedHashMap<>();
    static {
        TABLES.put("agri_subsidies", "household_no text,payee_id_number text,subsidy_type text,area_mu float8,amount numeric,year int4,grid_code text");
        TABLES.put("areas", "code text,parent_code text,level text,name text,lng float8,lat float8");
        TABLES.put("audit_log", "time timestamptz,user text,level text,area text,client_addr text,session_id int8,statement text,datasets _text,columns _text,masks _text,rows int8,status text,sqlstate text,duration_ms float8,plan_kept bool");
        TABLES.put("dept_list", "row_id int8,id_number text,name text,sex text,birth_date date,phone text,address text,source_dept text,item text,reported_on date");
        TABLES.put("disability_certs", "cert_no text,id_number text,disability_type text,grade int4,issued_date date,grid_code text");
        TABLES.put("employment", "id_number text,status text,since date,last_certified date,grid_code text");
        TABLES.put("enterprises", "credit_code text,name text,org_type text,legal_rep_id text,industry text,employees int4,status text,established_date date,address text,lng float8,lat float8,grid_code text");
        TABLES.put("farmland", "household_no text,contractor_id_number text,land_type text,crop text,area_mu float8,grid_code text");
        TABLES.put("household_income", "household_no text,year int4,per_capita_monthly numeric,dibao_line numeric,grid_code text");
        TABLES.put("households", "household_no text,head_id_number text,address text,members int4,grid_code text");
        TABLES.put("persons", "id_number text,name text,sex text,birth_date date,ethnicity text,phone text,household_no text,relation text,marital_status text,address text,grid_code text,village_code text,town_code text,county_code text,is_alive bool,death_date date");
        TABLES.put("safety_inspections", "inspection_id text,credit_code text,site_type text,inspected_on date,result text,rectification_status text,due_date date,grid_code text");
        TABLES.put("social_security_cards", "id_number text,card_type text,channel text,issued_on date");
        TABLES.put("special_groups", "id_number text,group_type text,status text,since_date date,end_date date,grid_code text");
        TABLES.put("subsidy_payments", "payment_id int8,id_number text,subsidy_type text,month date,amount numeric,grid_code text");
        TABLES.put("veterans", "id_number text,category text,discharged_on date,grid_code text");
        TABLES.put("vehicles", "plate_no text,owner_id_number text,vehicle_type text,brand text,registered_on date,grid_code text");
    }

    /** pg type name -> the Java class pgjdbc's getObject returns for it. */
    static final Map<String, Class<?>> JAVA_CLASS = new HashMap<>();
    static {
        JAVA_CLASS.put("text", String.class);
        JAVA_CLASS.put("varchar", String.class);
        JAVA_CLASS.put("int2", Integer.class);
        JAVA_CLASS.put("int4", Integer.class);
        JAVA_CLASS.put("int8", Long.class);
        JAVA_CLASS.put("float4", Float.class);
        JAVA_CLASS.put("float8", Double.class);
        JAVA_CLASS.put("numeric", BigDecimal.class);
        JAVA_CLASS.put("bool", Boolean.class);
        JAVA_CLASS.put("date", Date.class);
        JAVA_CLASS.put("timestamp", Timestamp.class);
        JAVA_CLASS.put("timestamptz", Timestamp.class);
        JAVA_CLASS.put("_text", Array.class);
        JAVA_CLASS.put("_int4", Array.class);
        JAVA_CLASS.put("_int8", Array.class);
    }

    static final String PERSONS_COMMENT = "人口基础信息（户籍人口，含已死亡未注销人员）";

    // ------------------------------------------------------------------ harness

    interface Body {
        void run() throws Exception;
    }

    static void check(String name, Body body) {
        try {
            body.run();
            passed++;
            System.out.println("ok " + name);
        } catch (Throwable t) {
            failed++;
            System.out.println("FAIL " + name + ": " + describe(t));
        }
        System.out.flush();
    }

    static String describe(Throwable t) {
        String s;
        if (t instanceof SQLException) {
            SQLException e = (SQLException) t;
            s = "SQLException [" + e.getSQLState() + "] " + e.getMessage();
        } else if (t instanceof AssertionError) {
            s = String.valueOf(t.getMessage());
        } else {
            s = t.getClass().getName() + ": " + t.getMessage();
        }
        s = s.replace('\n', ' ').replace('\r', ' ');
        return s.length() > 600 ? s.substring(0, 600) + "..." : s;
    }

    static void expect(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }

    static void eq(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) {
            String e = String.valueOf(expected);
            String a = String.valueOf(actual);
            if (e.equals(a) && expected != null && actual != null) {
                e += " (" + expected.getClass().getSimpleName() + ")";
                a += " (" + actual.getClass().getSimpleName() + ")";
            }
            throw new AssertionError(what + ": expected <" + e + "> but got <" + a + ">");
        }
    }

    /** Numeric equality whatever the boxed class (the class is checked by the types.* checks). */
    static void eqNum(long expected, Object actual, String what) {
        expect(actual instanceof Number, what + ": expected the number " + expected + " but got " + actual);
        eq(expected, ((Number) actual).longValue(), what);
    }

    static void isClass(Class<?> expected, Object value, String what) {
        expect(value != null, what + ": expected a " + expected.getSimpleName() + " but got null");
        expect(expected.isInstance(value), what + ": expected " + expected.getSimpleName() + " but got "
                + value.getClass().getName() + " (" + value + ")");
    }

    static Connection connect(String user) throws SQLException {
        return connect(user, PASSWORD, new Properties());
    }

    static Connection connect(String user, Properties extra) throws SQLException {
        return connect(user, PASSWORD, extra);
    }

    /** Connects, retrying for a while when the server is down (it may be restarting). */
    static Connection connect(String user, String password, Properties extra) throws SQLException {
        String url = "jdbc:postgresql://" + host + ":" + port + "/" + database;
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "120");
        p.setProperty("ApplicationName", "zhenjie ClientTest");
        p.putAll(extra);
        SQLException last = null;
        for (int attempt = 0; attempt < 15; attempt++) {
            try {
                return DriverManager.getConnection(url, p);
            } catch (SQLException e) {
                last = e;
                if (!"08001".equals(e.getSQLState())) {
                    throw e;
                }
                sleep(1000);
            }
        }
        throw last;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static final Map<String, Connection> pool = new HashMap<>();

    /** A shared connection per user, reopened if a failed check broke it; autocommit on. */
    static Connection conn(String user) throws SQLException {
        Connection c = pool.get(user);
        if (c != null) {
            boolean usable;
            try {
                usable = !c.isClosed();
                if (usable && !c.getAutoCommit()) {
                    c.rollback();
                    c.setAutoCommit(true);
                }
            } catch (SQLException e) {
                usable = false;
            }
            if (usable) {
                return c;
            }
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
        c = connect(user);
        pool.put(user, c);
        return c;
    }

    static List<Map<String, Object>> rows(ResultSet rs) throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        ResultSetMetaData md = rs.getMetaData();
        while (rs.next()) {
            Map<String, Object> row = new LinkedHashMap<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                row.put(md.getColumnLabel(i).toLowerCase(), rs.getObject(i));
            }
            out.add(row);
        }
        rs.close();
        return out;
    }

    static Object scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            expect(rs.next(), "no row from: " + sql);
            return rs.getObject(1);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        Object v = scalar(c, sql);
        expect(v instanceof Number, "count is not a number: " + v + " from " + sql);
        return ((Number) v).longValue();
    }

    static Map<String, Object> findRow(List<Map<String, Object>> rows, String column, Object value) {
        for (Map<String, Object> r : rows) {
            if (Objects.equals(r.get(column), value)) {
                return r;
            }
        }
        return null;
    }

    static Set<String> column(List<Map<String, Object>> rows, String column) {
        Set<String> s = new HashSet<>();
        for (Map<String, Object> r : rows) {
            s.add(String.valueOf(r.get(column)));
        }
        return s;
    }

    static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    // ------------------------------------------------------------------ main

    public static void main(String[] args) throws Exception {
        if (args.length >= 1) {
            host = args[0];
        }
        if (args.length >= 2) {
            port = args[1];
        }
        if (args.length >= 3) {
            database = args[2];
        }
        Class.forName("org.postgresql.Driver");
        System.out.println("# zhenjie pgjdbc client test against " + host + ":" + port + "/" + database);

        connection();
        catalogMetadata();
        describeAndResultMetadata();
        parameters();
        resultTypes();
        governance();
        fetching();
        sessionBehaviour();
        toolConnectionPatterns();

        for (Connection c : pool.values()) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        System.out.println("# " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    // ------------------------------------------------------------------ connection

    static void connection() {
        check("connect.town", () -> {
            Connection c = conn("town");
            expect(c.isValid(5), "connection not valid");
        });
        check("connect.current_user", () -> {
            // DBeaver shows session_user; Metabase checks privileges of current_user
            Connection c = conn("town");
            eq("town", scalar(c, "SELECT current_user"), "current_user");
            eq("town", scalar(c, "SELECT session_user"), "session_user");
        });
        for (String user : new String[] {"village", "city", "admin"}) {
            check("connect." + user, () -> {
                Connection c = conn(user);
                eqNum(1, scalar(c, "SELECT 1"), "SELECT 1");
            });
        }
        check("connect.wrong_password", () -> {
            try {
                connect("town", "not-the-password", new Properties()).close();
                throw new AssertionError("login with a wrong password succeeded");
            } catch (SQLException e) {
                eq("28P01", e.getSQLState(), "SQLState of a failed login");
            }
        });
        check("connect.current_database", () -> {
            eq(database, scalar(conn("town"), "SELECT current_database()"), "current_database()");
        });
    }

    // ------------------------------------------------------------------ DatabaseMetaData

    static void catalogMetadata() {
        check("meta.product", () -> {
            DatabaseMetaData md = conn("town").getMetaData();
            eq("PostgreSQL", md.getDatabaseProductName(), "getDatabaseProductName");
            String v = md.getDatabaseProductVersion();
            expect(v != null && v.matches("\\d+(\\.\\d+)*.*"), "getDatabaseProductVersion: " + v);
            expect(md.getDatabaseMajorVersion() >= 10, "getDatabaseMajorVersion " + md.getDatabaseMajorVersion());
        });
        check("meta.user_and_quotes", () -> {
            DatabaseMetaData md = conn("town").getMetaData();
            eq("town", md.getUserName(), "getUserName");
            eq("\"", md.getIdentifierQuoteString(), "getIdentifierQuoteString");
        });
        check("meta.getCatalogs", () -> {
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getCatalogs());
            expect(column(r, "table_cat").contains(database), "catalogs " + column(r, "table_cat") + " lack " + database);
        });
        check("meta.getSchemas", () -> {
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getSchemas());
            expect(column(r, "table_schem").contains("public"), "schemas " + column(r, "table_schem") + " lack public");
        });
        check("meta.getSchemas.pattern", () -> {
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getSchemas(null, "pub%"));
            eq(Set.of("public"), column(r, "table_schem"), "getSchemas(null, 'pub%')");
        });
        check("meta.getTableTypes", () -> {
            Set<String> types = column(rows(conn("town").getMetaData().getTableTypes()), "table_type");
            expect(types.contains("TABLE") && types.contains("VIEW"), "table types " + types);
        });
        check("meta.getTables", () -> {
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getTables(null, "public", "%", new String[] {"TABLE"}));
            Set<String> names = column(r, "table_name");
            for (String t : TABLES.keySet()) {
                if (!t.equals("audit_log")) {
                    expect(names.contains(t), "table " + t + " not listed; got " + names);
                }
            }
            Map<String, Object> p = findRow(r, "table_name", "persons");
            eq("TABLE", p.get("table_type"), "persons TABLE_TYPE");
            eq("public", p.get("table_schem"), "persons TABLE_SCHEM");
            eq(PERSONS_COMMENT, p.get("remarks"), "persons REMARKS");
            for (Map<String, Object> row : r) {
                Object remarks = row.get("remarks");
                expect(remarks != null && !remarks.toString().isEmpty(), "no REMARKS for " + row.get("table_name"));
            }
        });
        check("meta.getTables.null_types", () -> {
            // Metabase/DBeaver-generic style: no type filter, exact name
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getTables(null, null, "persons", null));
            eq(1, r.size(), "rows for getTables(null, null, 'persons', null)");
        });
        check("meta.getTables.metabase_types", () -> {
            String[] types = {"TABLE", "PARTITIONED TABLE", "VIEW", "FOREIGN TABLE", "MATERIALIZED VIEW", "EXTERNAL TABLE", "DYNAMIC_TABLE"};
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getTables(null, "public", "%", types));
            expect(column(r, "table_name").contains("persons"), "persons not listed: " + column(r, "table_name"));
        });
        check("meta.getColumns.persons", () -> {
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getColumns(null, "public", "persons", "%"));
            String[] cols = TABLES.get("persons").split(",");
            eq(cols.length, r.size(), "number of columns");
            for (int i = 0; i < cols.length; i++) {
                String[] nt = cols[i].split(" ");
                Map<String, Object> row = r.get(i);
                eq(nt[0], row.get("column_name"), "column " + (i + 1) + " name");
                eq(nt[1], row.get("type_name"), nt[0] + " TYPE_NAME");
                eq(i + 1, ((Number) row.get("ordinal_position")).intValue(), nt[0] + " ORDINAL_POSITION");
            }
            Map<String, Object> id = r.get(0);
            eq(Types.VARCHAR, ((Number) id.get("data_type")).intValue(), "id_number DATA_TYPE (Types.VARCHAR)");
            eq(DatabaseMetaData.columnNoNulls, ((Number) id.get("nullable")).intValue(), "id_number NULLABLE");
            eq("NO", id.get("is_nullable"), "id_number IS_NULLABLE");
            eq("公民身份号码（GB 11643，18位）", id.get("remarks"), "id_number REMARKS");
            Map<String, Object> phone = findRow(r, "column_name", "phone");
            eq(DatabaseMetaData.columnNullable, ((Number) phone.get("nullable")).intValue(), "phone NULLABLE");
            eq("手机号码", phone.get("remarks"), "phone REMARKS");
            eq(Types.DATE, ((Number) findRow(r, "column_name", "birth_date").get("data_type")).intValue(), "birth_date DATA_TYPE");
            eq(Types.BIT, ((Number) findRow(r, "column_name", "is_alive").get("data_type")).intValue(), "is_alive DATA_TYPE (pgjdbc maps bool to BIT)");
        });
        check("meta.getColumns.numeric_types", () -> {
            DatabaseMetaData md = conn("town").getMetaData();
            Map<String, Object> amount = findRow(rows(md.getColumns(null, "public", "agri_subsidies", "amount")), "column_name", "amount");
            expect(amount != null, "agri_subsidies.amount not listed");
            eq("numeric", amount.get("type_name"), "amount TYPE_NAME");
            eq(Types.NUMERIC, ((Number) amount.get("data_type")).intValue(), "amount DATA_TYPE");
            eq(12, ((Number) amount.get("column_size")).intValue(), "amount COLUMN_SIZE (precision)");
            eq(2, ((Number) amount.get("decimal_digits")).intValue(), "amount DECIMAL_DIGITS (scale)");
            List<Map<String, Object>> ent = rows(md.getColumns(null, "public", "enterprises", "%"));
            eq(Types.INTEGER, ((Number) findRow(ent, "column_name", "employees").get("data_type")).intValue(), "employees DATA_TYPE");
            eq(Types.DOUBLE, ((Number) findRow(ent, "column_name", "lng").get("data_type")).intValue(), "lng DATA_TYPE");
            List<Map<String, Object>> pay = rows(md.getColumns(null, "public", "subsidy_payments", "payment_id"));
            eq(Types.BIGINT, ((Number) pay.get(0).get("data_type")).intValue(), "payment_id DATA_TYPE");
        });
        check("meta.getColumns.all_tables", () -> {
            Connection c = conn("town");
            List<Map<String, Object>> r = rows(c.getMetaData().getColumns(null, "public", "%", "%"));
            for (String t : TABLES.keySet()) {
                if (t.equals("audit_log")) {
                    continue;
                }
                int n = 0;
                for (Map<String, Object> row : r) {
                    if (t.equals(row.get("table_name"))) {
                        n++;
                    }
                }
                eq(TABLES.get(t).split(",").length, n, "columns listed for " + t);
            }
        });
        check("meta.table_oid_stable_across_connections", () -> {
            // DBeaver (metadata and main connections) and Metabase (a pool) read OIDs on one
            // connection and use them on another
            Set<String> oids = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                try (Connection c = connect("town")) {
                    oids.add(String.valueOf(scalar(c, "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
                            + " ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = 'persons'")));
                }
            }
            eq(1, oids.size(), "distinct OIDs of public.persons over 3 connections " + oids);
        });
        check("meta.regclass_of_catalog_tables", () -> {
            // pg_description.classoid is compared with 'pg_class'::regclass by pgjdbc, DBeaver and Metabase
            Connection c = conn("town");
            eqNum(1259, scalar(c, "SELECT 'pg_class'::regclass::oid"), "'pg_class'::regclass::oid");
            eqNum(1259, scalar(c, "SELECT oid FROM pg_catalog.pg_class WHERE relname = 'pg_class'"), "pg_class row of pg_class");
        });
        check("meta.getPrimaryKeys", () -> {
            try (ResultSet rs = conn("town").getMetaData().getPrimaryKeys(null, "public", "persons")) {
                eq(6, rs.getMetaData().getColumnCount(), "getPrimaryKeys column count");
                while (rs.next()) {
                    rs.getString("COLUMN_NAME");
                }
            }
        });
        check("meta.getImportedKeys", () -> {
            try (ResultSet rs = conn("town").getMetaData().getImportedKeys(null, "public", "persons")) {
                eq(14, rs.getMetaData().getColumnCount(), "getImportedKeys column count");
                while (rs.next()) {
                    rs.getString("FKCOLUMN_NAME");
                }
            }
        });
        check("meta.getExportedKeys", () -> {
            try (ResultSet rs = conn("town").getMetaData().getExportedKeys(null, "public", "persons")) {
                eq(14, rs.getMetaData().getColumnCount(), "getExportedKeys column count");
                while (rs.next()) {
                    rs.getString("PKCOLUMN_NAME");
                }
            }
        });
        check("meta.getIndexInfo", () -> {
            try (ResultSet rs = conn("town").getMetaData().getIndexInfo(null, "public", "persons", false, true)) {
                expect(rs.getMetaData().getColumnCount() >= 13, "getIndexInfo column count " + rs.getMetaData().getColumnCount());
                while (rs.next()) {
                    rs.getString("INDEX_NAME");
                }
            }
        });
        check("meta.getTypeInfo", () -> {
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getTypeInfo());
            expect(r.size() > 10, "getTypeInfo returned " + r.size() + " rows");
            Map<String, Object> int4 = findRow(r, "type_name", "int4");
            expect(int4 != null, "no int4 in getTypeInfo");
            eq(Types.INTEGER, ((Number) int4.get("data_type")).intValue(), "int4 DATA_TYPE");
            Map<String, Object> text = findRow(r, "type_name", "text");
            expect(text != null, "no text in getTypeInfo");
            eq(Types.VARCHAR, ((Number) text.get("data_type")).intValue(), "text DATA_TYPE");
        });
        check("meta.getFunctions", () -> {
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getFunctions(null, "public", "id_valid"));
            expect(!r.isEmpty(), "getFunctions(null, 'public', 'id_valid') is empty");
            Map<String, Object> f = r.get(0);
            eq("id_valid", f.get("function_name"), "FUNCTION_NAME");
            Object remarks = f.get("remarks");
            expect(remarks != null && remarks.toString().startsWith("True if the value is a valid resident identity number"),
                    "id_valid REMARKS: " + remarks);
        });
        check("meta.getFunctions.all", () -> {
            Set<String> names = column(rows(conn("town").getMetaData().getFunctions(null, null, "%")), "function_name");
            for (String f : new String[] {"mask_phone", "name_similarity", "birth_year", "id_valid"}) {
                expect(names.contains(f), "function " + f + " not listed by getFunctions(null, null, '%') (" + names.size() + " functions)");
            }
        });
        check("meta.getFunctionColumns", () -> {
            List<Map<String, Object>> r = rows(conn("town").getMetaData().getFunctionColumns(null, "public", "id_valid", "%"));
            expect(!r.isEmpty(), "getFunctionColumns(id_valid) is empty");
            boolean hasReturn = false;
            boolean hasIn = false;
            for (Map<String, Object> row : r) {
                int kind = ((Number) row.get("column_type")).intValue();
                hasReturn |= kind == DatabaseMetaData.functionReturn;
                hasIn |= kind == DatabaseMetaData.functionColumnIn;
            }
            expect(hasReturn && hasIn, "id_valid: return column " + hasReturn + ", in column " + hasIn + ": " + r);
        });
        check("meta.getProcedures", () -> {
            // pgjdbc 42.5 on a server >= 11 lists only prokind = 'p' here (none in zhenjie, none in the
            // PostgreSQL copy); what matters is that the catalog query runs
            try (ResultSet rs = conn("town").getMetaData().getProcedures(null, "public", "%")) {
                eq(9, rs.getMetaData().getColumnCount(), "getProcedures column count");
                while (rs.next()) {
                    rs.getString("PROCEDURE_NAME");
                }
            }
        });
        check("meta.getProcedureColumns", () -> {
            try (ResultSet rs = conn("town").getMetaData().getProcedureColumns(null, "public", "id_valid", "%")) {
                int n = 0;
                while (rs.next()) {
                    n++;
                }
                expect(n >= 1, "getProcedureColumns(id_valid) is empty");
            }
        });
        check("meta.getTablePrivileges", () -> {
            try (ResultSet rs = conn("town").getMetaData().getTablePrivileges(null, "public", "persons")) {
                while (rs.next()) {
                    rs.getString("PRIVILEGE");
                }
            }
        });
        check("meta.getColumnPrivileges", () -> {
            try (ResultSet rs = conn("town").getMetaData().getColumnPrivileges(null, "public", "persons", "%")) {
                while (rs.next()) {
                    rs.getString("PRIVILEGE");
                }
            }
        });
        check("meta.getBestRowIdentifier", () -> {
            try (ResultSet rs = conn("town").getMetaData().getBestRowIdentifier(null, "public", "persons", DatabaseMetaData.bestRowSession, true)) {
                while (rs.next()) {
                    rs.getString("COLUMN_NAME");
                }
            }
        });
        check("meta.getSQLKeywords", () -> {
            String k = conn("town").getMetaData().getSQLKeywords();
            expect(k != null && k.length() > 10, "getSQLKeywords: " + k);
        });
        check("meta.getMaxColumnNameLength", () -> {
            eq(63, conn("town").getMetaData().getMaxColumnNameLength(), "getMaxColumnNameLength");
        });
        check("meta.getUDTs", () -> {
            try (ResultSet rs = conn("town").getMetaData().getUDTs(null, "public", "%", null)) {
                while (rs.next()) {
                    rs.getString("TYPE_NAME");
                }
            }
        });
    }

    // ------------------------------------------------------------------ describe / ResultSetMetaData

    static void describeAndResultMetadata() {
        check("rsmd.persons.types", () -> {
            try (Statement st = conn("town").createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM persons LIMIT 1")) {
                ResultSetMetaData md = rs.getMetaData();
                String[] cols = TABLES.get("persons").split(",");
                eq(cols.length, md.getColumnCount(), "column count");
                for (int i = 0; i < cols.length; i++) {
                    String[] nt = cols[i].split(" ");
                    eq(nt[0], md.getColumnName(i + 1), "column name " + (i + 1));
                    eq(nt[1], md.getColumnTypeName(i + 1), nt[0] + " getColumnTypeName");
                }
                eq(Types.VARCHAR, md.getColumnType(1), "id_number getColumnType");
                eq(Types.DATE, md.getColumnType(4), "birth_date getColumnType");
                eq(Types.BIT, md.getColumnType(15), "is_alive getColumnType");
            }
        });
        check("rsmd.persons.base_table", () -> {
            // pgjdbc resolves these from the table OID and attribute number in RowDescription
            // (DBeaver uses them to know which table a result column comes from)
            try (Statement st = conn("town").createStatement(); ResultSet rs = st.executeQuery("SELECT id_number, phone FROM persons LIMIT 1")) {
                org.postgresql.PGResultSetMetaData md = rs.getMetaData().unwrap(org.postgresql.PGResultSetMetaData.class);
                eq("persons", md.getBaseTableName(1), "getBaseTableName(1)");
                eq("public", md.getBaseSchemaName(1), "getBaseSchemaName(1)");
                eq("id_number", md.getBaseColumnName(1), "getBaseColumnName(1)");
                ResultSetMetaData rmd = rs.getMetaData();
                eq(ResultSetMetaData.columnNoNulls, rmd.isNullable(1), "isNullable(id_number)");
                eq(ResultSetMetaData.columnNullable, rmd.isNullable(2), "isNullable(phone)");
            }
        });
        check("rsmd.prepared_describe_without_execute", () -> {
            // Tableau: prepare "SELECT * FROM t" and read its metadata without executing it
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT * FROM \"public\".\"persons\"")) {
                ResultSetMetaData md = ps.getMetaData();
                expect(md != null, "PreparedStatement.getMetaData() is null");
                eq(16, md.getColumnCount(), "column count");
                eq("birth_date", md.getColumnName(4), "column 4");
                eq("date", md.getColumnTypeName(4), "column 4 type");
            }
        });
        check("rsmd.parameter_metadata", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT count(*) FROM persons WHERE county_code = ? AND birth_date < ?")) {
                ParameterMetaData pm = ps.getParameterMetaData();
                eq(2, pm.getParameterCount(), "parameter count");
                eq("text", pm.getParameterTypeName(1), "parameter 1 type");
                eq("date", pm.getParameterTypeName(2), "parameter 2 type");
            }
        });
        check("rsmd.where_false", () -> {
            // Tableau CAP_QUERY_WHERE_FALSE_METADATA
            try (Statement st = conn("town").createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM \"public\".\"persons\" WHERE 1=0")) {
                eq(16, rs.getMetaData().getColumnCount(), "column count");
                expect(!rs.next(), "WHERE 1=0 returned a row");
            }
        });
        check("rsmd.limit_0", () -> {
            try (Statement st = conn("town").createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM \"public\".\"persons\" LIMIT 0")) {
                eq(16, rs.getMetaData().getColumnCount(), "column count");
                expect(!rs.next(), "LIMIT 0 returned a row");
            }
        });
    }

    // ------------------------------------------------------------------ parameters

    static Object one(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            expect(rs.next(), "no row");
            Object v = rs.getObject(1);
            expect(!rs.next(), "more than one row");
            return v;
        }
    }

    static void parameters() {
        check("param.int", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::int4 + 1")) {
                ps.setInt(1, 41);
                eqNum(42, one(ps), "41 + 1");
            }
        });
        check("param.long", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::int8 * 2")) {
                ps.setLong(1, 5_000_000_000L);
                Object v = one(ps);
                isClass(Long.class, v, "result");
                eq(10_000_000_000L, v, "5e9 * 2");
            }
        });
        check("param.short", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::int2 + 1")) {
                ps.setShort(1, (short) 7);
                Object v = one(ps);
                expect(v instanceof Number, "result " + v);
                eq(8L, ((Number) v).longValue(), "7 + 1");
            }
        });
        check("param.bigdecimal", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::numeric * 2")) {
                ps.setBigDecimal(1, new BigDecimal("12.345"));
                Object v = one(ps);
                isClass(BigDecimal.class, v, "result");
                expect(new BigDecimal("24.690").compareTo((BigDecimal) v) == 0, "12.345 * 2 = " + v);
            }
        });
        check("param.double", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::float8 / 2")) {
                ps.setDouble(1, 3.5);
                Object v = one(ps);
                isClass(Double.class, v, "result");
                eq(1.75, v, "3.5 / 2");
            }
        });
        check("param.float", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::float4 * 2")) {
                ps.setFloat(1, 1.25f);
                Object v = one(ps);
                expect(v instanceof Number, "result " + v);
                eq(2.5, ((Number) v).doubleValue(), "1.25 * 2");
            }
        });
        check("param.boolean", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT NOT ?")) {
                ps.setBoolean(1, true);
                Object v = one(ps);
                isClass(Boolean.class, v, "result");
                eq(false, v, "NOT true");
            }
        });
        check("param.string", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ? || '街道', length(?)")) {
                ps.setString(1, "芝罘");
                ps.setString(2, "烟台市");
                try (ResultSet rs = ps.executeQuery()) {
                    expect(rs.next(), "no row");
                    eq("芝罘街道", rs.getString(1), "concatenation");
                    eq(3, rs.getInt(2), "length('烟台市')");
                }
            }
        });
        check("param.date", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::date")) {
                ps.setDate(1, Date.valueOf("1990-05-17"));
                Object v = one(ps);
                isClass(Date.class, v, "result");
                eq("1990-05-17", v.toString(), "date round trip");
            }
        });
        check("param.timestamp", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::timestamp")) {
                ps.setTimestamp(1, Timestamp.valueOf("2024-03-01 12:34:56.789"));
                Object v = one(ps);
                isClass(Timestamp.class, v, "result");
                eq(Timestamp.valueOf("2024-03-01 12:34:56.789"), v, "timestamp round trip");
            }
        });
        check("param.timestamp_untyped", () -> {
            // setTimestamp sends the value with an unspecified type; the server must infer it
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT count(*) FROM persons WHERE birth_date < ?")) {
                ps.setTimestamp(1, Timestamp.valueOf("1980-01-01 00:00:00"));
                Object v = one(ps);
                eq(count(conn("town"), "SELECT count(*) FROM persons WHERE birth_date < DATE '1980-01-01'"), ((Number) v).longValue(), "count");
            }
        });
        check("param.null_int", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::int4 IS NULL")) {
                ps.setNull(1, Types.INTEGER);
                eq(true, one(ps), "NULL IS NULL");
            }
        });
        check("param.null_varchar", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT coalesce(?, 'x')")) {
                ps.setNull(1, Types.VARCHAR);
                eq("x", one(ps), "coalesce(NULL, 'x')");
            }
        });
        check("param.setObject", () -> {
            Connection c = conn("town");
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int4 + 1")) {
                ps.setObject(1, 41);
                eqNum(42, one(ps), "setObject(Integer)");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::numeric + 1")) {
                ps.setObject(1, new BigDecimal("1.5"), Types.NUMERIC);
                expect(new BigDecimal("2.5").compareTo((BigDecimal) one(ps)) == 0, "setObject(BigDecimal, NUMERIC)");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT upper(?)")) {
                ps.setObject(1, "abc", Types.VARCHAR);
                eq("ABC", one(ps), "setObject(String, VARCHAR)");
            }
        });
        check("param.setObject_localdate", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::date")) {
                ps.setObject(1, LocalDate.of(1990, 5, 17));
                try (ResultSet rs = ps.executeQuery()) {
                    expect(rs.next(), "no row");
                    eq(LocalDate.of(1990, 5, 17), rs.getObject(1, LocalDate.class), "LocalDate round trip");
                }
            }
        });
        check("param.setObject_localdatetime", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT ?::timestamp")) {
                ps.setObject(1, LocalDateTime.of(2024, 3, 1, 12, 34, 56));
                try (ResultSet rs = ps.executeQuery()) {
                    expect(rs.next(), "no row");
                    eq(LocalDateTime.of(2024, 3, 1, 12, 34, 56), rs.getObject(1, LocalDateTime.class), "LocalDateTime round trip");
                }
            }
        });
        check("param.count_by_county", () -> {
            Connection c = conn("town");
            String county = (String) scalar(c, "SELECT county_code FROM persons ORDER BY id_number LIMIT 1");
            long plain = count(c, "SELECT count(*) FROM persons WHERE county_code = " + quote(county));
            expect(plain > 0, "plain count is 0");
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM persons WHERE county_code = ?")) {
                ps.setString(1, county);
                eq(plain, ((Number) one(ps)).longValue(), "prepared count vs plain Statement");
            }
        });
        check("param.count_mixed_types", () -> {
            Connection c = conn("town");
            long plain = count(c, "SELECT count(*) FROM persons WHERE is_alive = true AND birth_date >= DATE '1960-01-01' AND sex = '女'");
            expect(plain > 0, "plain count is 0");
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM persons WHERE is_alive = ? AND birth_date >= ? AND sex = ?")) {
                ps.setBoolean(1, true);
                ps.setDate(2, Date.valueOf("1960-01-01"));
                ps.setString(3, "女");
                eq(plain, ((Number) one(ps)).longValue(), "prepared count vs plain Statement");
            }
        });
        check("param.like_and_in", () -> {
            Connection c = conn("town");
            long plain = count(c, "SELECT count(*) FROM persons WHERE name LIKE '王%' AND marital_status IN ('已婚', '丧偶')");
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM persons WHERE name LIKE ? AND marital_status IN (?, ?)")) {
                ps.setString(1, "王%");
                ps.setString(2, "已婚");
                ps.setString(3, "丧偶");
                eq(plain, ((Number) one(ps)).longValue(), "prepared count vs plain Statement");
            }
        });
        check("param.array_any", () -> {
            Connection c = conn("town");
            String county = (String) scalar(c, "SELECT county_code FROM persons ORDER BY id_number LIMIT 1");
            long plain = count(c, "SELECT count(*) FROM persons WHERE county_code = " + quote(county));
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM persons WHERE county_code = ANY(?)")) {
                ps.setArray(1, c.createArrayOf("text", new String[] {county, "000000000000"}));
                eq(plain, ((Number) one(ps)).longValue(), "= ANY(text[] parameter)");
            }
        });
        check("param.limit", () -> {
            try (PreparedStatement ps = conn("town").prepareStatement("SELECT id_number FROM persons ORDER BY id_number LIMIT ?")) {
                ps.setInt(1, 5);
                eq(5, rows(ps.executeQuery()).size(), "rows with LIMIT ?");
            }
        });
        check("param.server_prepared_reuse", () -> {
            // pgjdbc switches to a named server statement (and binary results) after 5 executions
            Connection c = conn("town");
            List<Map<String, Object>> ids = rows(c.createStatement().executeQuery(
                    "SELECT id_number, name, birth_date, is_alive FROM persons ORDER BY id_number LIMIT 8"));
            eq(8, ids.size(), "sample rows");
            try (PreparedStatement ps = c.prepareStatement("SELECT id_number, name, birth_date, is_alive FROM persons WHERE id_number = ?")) {
                for (int i = 0; i < ids.size(); i++) {
                    ps.setString(1, (String) ids.get(i).get("id_number"));
                    List<Map<String, Object>> r = rows(ps.executeQuery());
                    eq(1, r.size(), "execution " + (i + 1) + " rows");
                    eq(ids.get(i), r.get(0), "execution " + (i + 1) + " row");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int4 * 3")) {
                for (int i = 0; i < 8; i++) {
                    ps.setInt(1, i);
                    eqNum(i * 3, one(ps), "execution " + (i + 1));
                }
            }
        });
        check("param.force_binary", () -> {
            // prepareThreshold=-1: server-prepared from the first execution, binary transfer
            Properties p = new Properties();
            p.setProperty("prepareThreshold", "-1");
            try (Connection c = connect("town", p)) {
                String sql = "SELECT id_number, birth_date, is_alive, death_date FROM persons ORDER BY id_number LIMIT 20";
                List<Map<String, Object>> text = rows(conn("town").createStatement().executeQuery(sql));
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    eq(text, rows(ps.executeQuery()), "binary rows vs text rows");
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT ?::int8 + 1, ?::float8, ?::numeric, ?::bool, ?::text")) {
                    ps.setLong(1, 41);
                    ps.setDouble(2, 2.5);
                    ps.setBigDecimal(3, new BigDecimal("7.25"));
                    ps.setBoolean(4, true);
                    ps.setString(5, "网格");
                    try (ResultSet rs = ps.executeQuery()) {
                        expect(rs.next(), "no row");
                        eq(42L, rs.getObject(1), "int8");
                        eq(2.5, rs.getObject(2), "float8");
                        expect(new BigDecimal("7.25").compareTo(rs.getBigDecimal(3)) == 0, "numeric " + rs.getBigDecimal(3));
                        eq(true, rs.getObject(4), "bool");
                        eq("网格", rs.getObject(5), "text");
                    }
                }
            }
        });
        check("param.force_binary_date_column", () -> {
            // a date parameter compared with a date column, server-prepared
            Properties p = new Properties();
            p.setProperty("prepareThreshold", "-1");
            try (Connection c = connect("town", p);
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM persons WHERE birth_date >= ?")) {
                ps.setDate(1, Date.valueOf("1970-01-01"));
                eqNum(count(conn("town"), "SELECT count(*) FROM persons WHERE birth_date >= DATE '1970-01-01'"), one(ps), "count");
            }
        });
    }

    // ------------------------------------------------------------------ result types

    static void resultTypes() {
        for (String table : TABLES.keySet()) {
            String user = "admin"; // raw values and every area: every table has rows
            check("types.table." + table, () -> {
                String[] cols = TABLES.get(table).split(",");
                Connection c = conn(user);
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + table + " LIMIT 50")) {
                    ResultSetMetaData md = rs.getMetaData();
                    eq(cols.length, md.getColumnCount(), table + " column count");
                    for (int i = 0; i < cols.length; i++) {
                        String[] nt = cols[i].split(" ");
                        eq(nt[1], md.getColumnTypeName(i + 1), table + "." + nt[0] + " getColumnTypeName");
                    }
                    boolean[] seen = new boolean[cols.length];
                    int n = 0;
                    while (rs.next()) {
                        n++;
                        for (int i = 0; i < cols.length; i++) {
                            String[] nt = cols[i].split(" ");
                            Object v = rs.getObject(i + 1);
                            if (v == null) {
                                continue;
                            }
                            seen[i] = true;
                            isClass(JAVA_CLASS.get(nt[1]), v, table + "." + nt[0]);
                            if (v instanceof Array) {
                                Object elems = ((Array) v).getArray();
                                isClass(String[].class, elems, table + "." + nt[0] + " array elements");
                            }
                        }
                    }
                    expect(n > 0, table + " returned no rows");
                }
            });
        }
        check("types.binary_matches_text", () -> {
            Properties p = new Properties();
            p.setProperty("prepareThreshold", "-1");
            try (Connection c = connect("admin", p)) {
                for (String table : TABLES.keySet()) {
                    if (table.equals("audit_log")) {
                        continue; // grows while we read it
                    }
                    String sql = "SELECT * FROM " + table + " ORDER BY 1, 2 LIMIT 20";
                    List<Map<String, Object>> text = rows(conn("admin").createStatement().executeQuery(sql));
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        List<Map<String, Object>> bin = rows(ps.executeQuery());
                        eq(text.toString(), bin.toString(), table + " binary vs text");
                    }
                }
            }
        });
        check("types.literals", () -> {
            String sql = "SELECT 1::int2 AS a, 2::int4 AS b, 3::int8 AS c, 1.5::float4 AS d, 2.5::float8 AS e,"
                    + " 12.34::numeric(10,2) AS f, 'x'::text AS g, 'y'::varchar AS h, true AS i,"
                    + " DATE '2024-01-02' AS j, TIMESTAMP '2024-01-02 03:04:05' AS k";
            String[] types = {"int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bool", "date", "timestamp"};
            Class<?>[] classes = {Integer.class, Integer.class, Long.class, Float.class, Double.class, BigDecimal.class,
                String.class, String.class, Boolean.class, Date.class, Timestamp.class};
            try (Statement st = conn("town").createStatement(); ResultSet rs = st.executeQuery(sql)) {
                ResultSetMetaData md = rs.getMetaData();
                expect(rs.next(), "no row");
                List<String> problems = new ArrayList<>();
                for (int i = 0; i < types.length; i++) {
                    if (!types[i].equals(md.getColumnTypeName(i + 1))) {
                        problems.add(md.getColumnLabel(i + 1) + " type " + md.getColumnTypeName(i + 1) + " (want " + types[i] + ")");
                    }
                    Object v = rs.getObject(i + 1);
                    if (!classes[i].isInstance(v)) {
                        problems.add(md.getColumnLabel(i + 1) + " class " + (v == null ? "null" : v.getClass().getSimpleName()));
                    }
                }
                expect(problems.isEmpty(), String.join("; ", problems));
            }
        });
        check("types.integer_literal", () -> {
            // PostgreSQL types 1 as int4, 5000000000 as int8; int4 + int4 stays int4
            try (Statement st = conn("town").createStatement();
                 ResultSet rs = st.executeQuery("SELECT 1 AS a, 5000000000 AS b, 2::int4 + 1 AS c, count(*) AS d FROM persons")) {
                ResultSetMetaData md = rs.getMetaData();
                expect(rs.next(), "no row");
                eq("int4", md.getColumnTypeName(1), "type of 1");
                isClass(Integer.class, rs.getObject(1), "getObject of 1");
                eq("int8", md.getColumnTypeName(2), "type of 5000000000");
                eq("int4", md.getColumnTypeName(3), "type of 2::int4 + 1");
                eq("int8", md.getColumnTypeName(4), "type of count(*)");
            }
        });
        check("types.timestamptz", () -> {
            try (Statement st = conn("town").createStatement();
                 ResultSet rs = st.executeQuery("SELECT TIMESTAMPTZ '2024-01-02 03:04:05+00' AS t")) {
                expect(rs.next(), "no row");
                eq("timestamptz", rs.getMetaData().getColumnTypeName(1), "type");
                isClass(Timestamp.class, rs.getObject(1), "value");
                eq(java.time.Instant.parse("2024-01-02T03:04:05Z"), rs.getTimestamp(1).toInstant(), "instant");
            }
        });
        check("types.arrays", () -> {
            try (Statement st = conn("town").createStatement();
                 ResultSet rs = st.executeQuery("SELECT ARRAY[1,2,3] AS a, ARRAY['x','y'] AS b")) {
                expect(rs.next(), "no row");
                eq("_int4", rs.getMetaData().getColumnTypeName(1), "int array type");
                eq("_text", rs.getMetaData().getColumnTypeName(2), "text array type");
                expect(Arrays.equals(new Integer[] {1, 2, 3}, (Object[]) rs.getArray(1).getArray()), "int array value");
                expect(Arrays.equals(new String[] {"x", "y"}, (Object[]) rs.getArray(2).getArray()), "text array value");
            }
        });
        check("types.time", () -> {
            try (Statement st = conn("town").createStatement(); ResultSet rs = st.executeQuery("SELECT TIME '12:34:56' AS t")) {
                expect(rs.next(), "no row");
                eq("time", rs.getMetaData().getColumnTypeName(1), "type");
                isClass(java.sql.Time.class, rs.getObject(1), "value");
                eq("12:34:56", rs.getObject(1).toString(), "value");
            }
        });
        check("types.date_minus_date", () -> {
            try (Statement st = conn("town").createStatement();
                 ResultSet rs = st.executeQuery("SELECT DATE '2024-03-01' - DATE '2024-02-01' AS d")) {
                expect(rs.next(), "no row");
                eq("int4", rs.getMetaData().getColumnTypeName(1), "type of date - date");
                eq(29, rs.getObject(1), "date - date (days)");
            }
        });
        check("types.interval", () -> {
            try (Statement st = conn("town").createStatement(); ResultSet rs = st.executeQuery("SELECT INTERVAL '1 day' AS i")) {
                expect(rs.next(), "no row");
                eq("interval", rs.getMetaData().getColumnTypeName(1), "interval type");
                isClass(org.postgresql.util.PGInterval.class, rs.getObject(1), "interval value");
                eq(1, ((org.postgresql.util.PGInterval) rs.getObject(1)).getDays(), "days");
            }
        });
        check("types.bytea", () -> {
            try (Statement st = conn("town").createStatement(); ResultSet rs = st.executeQuery("SELECT 'ab'::bytea AS b")) {
                expect(rs.next(), "no row");
                eq("bytea", rs.getMetaData().getColumnTypeName(1), "type");
                expect(Arrays.equals(new byte[] {'a', 'b'}, rs.getBytes(1)), "bytes " + Arrays.toString(rs.getBytes(1)));
            }
        });
        check("types.domain_functions", () -> {
            try (Statement st = conn("town").createStatement();
                 ResultSet rs = st.executeQuery("SELECT id_valid(id_number) AS v, birth_year(birth_date) AS y,"
                         + " name_similarity(name, name) AS s, mask_phone(phone) AS m FROM persons WHERE phone IS NOT NULL LIMIT 1")) {
                expect(rs.next(), "no row");
                isClass(Boolean.class, rs.getObject(1), "id_valid");
                isClass(Integer.class, rs.getObject(2), "birth_year");
                isClass(Double.class, rs.getObject(3), "name_similarity");
                isClass(String.class, rs.getObject(4), "mask_phone");
            }
        });
    }

    // ------------------------------------------------------------------ governance

    static final Pattern MASKED_PHONE = Pattern.compile("\\d{3}\\*{4}\\d{4}");
    static final Pattern RAW_PHONE = Pattern.compile("1\\d{10}");
    static final Pattern RAW_ID = Pattern.compile("\\d{17}[\\dX]");

    static void allMatch(List<Map<String, Object>> r, String col, Predicate<String> p, String what) {
        expect(!r.isEmpty(), "no rows");
        for (Map<String, Object> row : r) {
            String v = String.valueOf(row.get(col));
            expect(p.test(v), what + ": " + col + " = " + v);
        }
    }

    static void governance() {
        check("gov.village_sees_fewer_persons", () -> {
            long town = count(conn("town"), "SELECT count(*) FROM persons");
            long village = count(conn("village"), "SELECT count(*) FROM persons");
            long city = count(conn("city"), "SELECT count(*) FROM persons");
            expect(village > 0, "village sees no persons");
            expect(village < town, "village " + village + " not fewer than town " + town);
            expect(town < city, "town " + town + " not fewer than city " + city);
        });
        check("gov.village_phone_masked", () -> {
            List<Map<String, Object>> r = rows(conn("village").createStatement().executeQuery(
                    "SELECT phone FROM persons WHERE phone IS NOT NULL LIMIT 50"));
            allMatch(r, "phone", v -> MASKED_PHONE.matcher(v).matches(), "village phone not masked like 155****7956");
        });
        check("gov.village_name_and_id_masked", () -> {
            List<Map<String, Object>> r = rows(conn("village").createStatement().executeQuery(
                    "SELECT name, id_number FROM persons LIMIT 50"));
            allMatch(r, "name", v -> v.contains("*"), "village name not masked");
            allMatch(r, "id_number", v -> !RAW_ID.matcher(v).matches(), "village id_number is raw");
        });
        check("gov.town_phone_raw", () -> {
            List<Map<String, Object>> r = rows(conn("town").createStatement().executeQuery(
                    "SELECT phone FROM persons WHERE phone IS NOT NULL LIMIT 50"));
            allMatch(r, "phone", v -> RAW_PHONE.matcher(v).matches(), "town (pii) phone not raw");
        });
        check("gov.village_masked_prepared", () -> {
            // the extended protocol (parameters, binary) must be governed the same way
            Properties p = new Properties();
            p.setProperty("prepareThreshold", "-1");
            try (Connection c = connect("village", p);
                 PreparedStatement ps = c.prepareStatement("SELECT phone FROM persons WHERE phone IS NOT NULL AND sex = ? LIMIT 20")) {
                ps.setString(1, "男");
                allMatch(rows(ps.executeQuery()), "phone", v -> MASKED_PHONE.matcher(v).matches(), "village phone not masked");
            }
        });
        check("gov.village_metadata_counts", () -> {
            // what a tool shows as the table's columns must be what the user can query
            Connection c = conn("village");
            List<Map<String, Object>> r = rows(c.getMetaData().getColumns(null, "public", "persons", "%"));
            eq(16, r.size(), "persons columns for village");
        });
        check("gov.village_metadata_matches_results", () -> {
            // masks may change a column's type (a date masked to a year); the catalog a tool reads
            // must describe what the query then returns
            Connection c = conn("village");
            List<Map<String, Object>> cols = rows(c.getMetaData().getColumns(null, "public", "persons", "%"));
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM persons LIMIT 1")) {
                ResultSetMetaData md = rs.getMetaData();
                eq(cols.size(), md.getColumnCount(), "columns");
                for (int i = 0; i < cols.size(); i++) {
                    eq(cols.get(i).get("type_name"), md.getColumnTypeName(i + 1), "type of " + cols.get(i).get("column_name"));
                }
            }
        });
        check("gov.audit_log_hidden_from_town", () -> {
            Set<String> names = column(rows(conn("town").getMetaData().getTables(null, "public", "%", null)), "table_name");
            expect(!names.contains("audit_log"), "town (not an auditor) is shown audit_log");
            try (Statement st = conn("town").createStatement()) {
                st.executeQuery("SELECT count(*) FROM audit_log").close();
                throw new AssertionError("town can query audit_log");
            } catch (SQLException e) {
                expect(e.getSQLState() != null && (e.getSQLState().startsWith("42")), "SQLState " + e.getSQLState());
            }
        });
    }

    // ------------------------------------------------------------------ fetch size / portals

    static void fetching() {
        check("fetch.city_all_persons_fetchsize", () -> {
            Connection c = conn("city");
            long expected = count(c, "SELECT count(*) FROM persons");
            expect(expected >= 20000, "city sees " + expected + " persons, want >= 20000");
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(1000);
                Set<String> ids = new HashSet<>();
                long n = 0;
                try (ResultSet rs = st.executeQuery("SELECT id_number, name, birth_date FROM persons")) {
                    while (rs.next()) {
                        n++;
                        ids.add(rs.getString(1));
                    }
                }
                eq(expected, n, "rows read with fetchSize 1000");
                eq(n, (long) ids.size(), "distinct id_numbers (no batch read twice)");
            } finally {
                c.commit();
                c.setAutoCommit(true);
            }
        });
        check("fetch.prepared_fetchsize", () -> {
            Connection c = conn("admin"); // city sees birth_date masked to a year (integer)
            long expected = count(c, "SELECT count(*) FROM persons WHERE birth_date > DATE '1950-01-01'");
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT id_number, phone, is_alive FROM persons WHERE birth_date > ?")) {
                ps.setFetchSize(777);
                ps.setDate(1, Date.valueOf("1950-01-01"));
                long n = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        n++;
                    }
                }
                eq(expected, n, "rows read with fetchSize 777");
            } finally {
                c.commit();
                c.setAutoCommit(true);
            }
        });
        check("fetch.two_open_portals", () -> {
            Connection c = conn("city");
            c.setAutoCommit(false);
            try (Statement a = c.createStatement(); Statement b = c.createStatement()) {
                a.setFetchSize(100);
                b.setFetchSize(100);
                long na = 0;
                long nb = 0;
                try (ResultSet ra = a.executeQuery("SELECT id_number FROM persons ORDER BY id_number LIMIT 1000");
                     ResultSet rb = b.executeQuery("SELECT plate_no FROM vehicles ORDER BY plate_no LIMIT 1000")) {
                    boolean moreA = true;
                    boolean moreB = true;
                    while (moreA || moreB) {
                        if (moreA && (moreA = ra.next())) {
                            na++;
                        }
                        if (moreB && (moreB = rb.next())) {
                            nb++;
                        }
                    }
                }
                eq(1000L, na, "rows of the first cursor");
                eq(1000L, nb, "rows of the second cursor");
            } finally {
                c.commit();
                c.setAutoCommit(true);
            }
        });
        check("fetch.close_early_then_query", () -> {
            Connection c = conn("city");
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(100);
                try (ResultSet rs = st.executeQuery("SELECT id_number FROM persons")) {
                    for (int i = 0; i < 10; i++) {
                        expect(rs.next(), "row " + i);
                    }
                }
                eqNum(1, scalar(c, "SELECT 1"), "query after closing a half-read portal");
            } finally {
                c.commit();
                c.setAutoCommit(true);
            }
        });
        check("fetch.maxrows", () -> {
            try (Statement st = conn("city").createStatement()) {
                st.setMaxRows(10);
                eq(10, rows(st.executeQuery("SELECT id_number FROM persons")).size(), "rows with setMaxRows(10)");
            }
        });
        check("fetch.village_fetchsize_governed", () -> {
            Connection c = conn("village");
            long expected = count(c, "SELECT count(*) FROM persons");
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(100);
                long n = 0;
                try (ResultSet rs = st.executeQuery("SELECT phone FROM persons")) {
                    while (rs.next()) {
                        n++;
                        String phone = rs.getString(1);
                        expect(phone == null || MASKED_PHONE.matcher(phone).matches(), "unmasked phone " + phone);
                    }
                }
                eq(expected, n, "rows read");
            } finally {
                c.commit();
                c.setAutoCommit(true);
            }
        });
    }

    // ------------------------------------------------------------------ session behaviour

    static void sessionBehaviour() {
        check("session.schema", () -> {
            Connection c = conn("town");
            eq("public", c.getSchema(), "getSchema");
            c.setSchema("public");
            eq("public", c.getSchema(), "getSchema after setSchema");
        });
        check("session.transaction_isolation", () -> {
            Connection c = conn("town");
            eq(Connection.TRANSACTION_READ_COMMITTED, c.getTransactionIsolation(), "getTransactionIsolation");
        });
        check("session.read_only_transaction", () -> {
            Connection c = connect("town");
            try {
                c.setReadOnly(true);
                c.setAutoCommit(false);
                eqNum(1, scalar(c, "SELECT 1"), "query in a read-only transaction");
                c.commit();
            } finally {
                c.close();
            }
        });
        check("session.timezone", () -> {
            // Metabase: "SET SESSION TIMEZONE TO ..." and "show timezone;"
            Connection c = connect("town");
            try (Statement st = c.createStatement()) {
                st.execute("SET SESSION TIMEZONE TO 'Asia/Shanghai'");
                eq("Asia/Shanghai", scalar(c, "show timezone;"), "show timezone");
            } finally {
                c.close();
            }
        });
        check("session.application_name", () -> {
            Connection c = connect("town");
            try {
                c.setClientInfo("ApplicationName", "DBeaver 24.2.3 - Main");
                eq("DBeaver 24.2.3 - Main", scalar(c, "SHOW application_name"), "application_name");
            } finally {
                c.close();
            }
        });
        check("session.error_then_continue", () -> {
            Connection c = conn("town");
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT * FROM no_such_table");
                throw new AssertionError("query on a missing table succeeded");
            } catch (SQLException e) {
                eq("42P01", e.getSQLState(), "SQLState of a missing table");
            }
            eqNum(1, scalar(c, "SELECT 1"), "query after an error (autocommit)");
        });
        check("session.error_in_transaction", () -> {
            Connection c = connect("town");
            try {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.executeQuery("SELECT no_such_column FROM persons");
                    throw new AssertionError("query with a missing column succeeded");
                } catch (SQLException e) {
                    eq("42703", e.getSQLState(), "SQLState of a missing column");
                }
                try (Statement st = c.createStatement()) {
                    st.executeQuery("SELECT 1");
                    throw new AssertionError("query in an aborted transaction succeeded");
                } catch (SQLException e) {
                    eq("25P02", e.getSQLState(), "SQLState in an aborted transaction");
                }
                c.rollback();
                eqNum(1, scalar(c, "SELECT 1"), "query after rollback");
                c.commit();
            } finally {
                c.close();
            }
        });
        check("session.multiple_statements", () -> {
            try (Statement st = conn("town").createStatement()) {
                expect(st.execute("SELECT 1 AS a; SELECT 2 AS b"), "first result is not a result set");
                try (ResultSet rs = st.getResultSet()) {
                    expect(rs.next(), "no row in the first result");
                    eq(1, rs.getInt(1), "first result");
                }
                expect(st.getMoreResults(), "no second result set");
                try (ResultSet rs = st.getResultSet()) {
                    expect(rs.next(), "no row in the second result");
                    eq(2, rs.getInt(1), "second result");
                }
            }
        });
        check("session.query_timeout_cancels", () -> {
            Properties p = new Properties();
            p.setProperty("socketTimeout", "30");
            try (Connection c = connect("city", p); Statement st = c.createStatement()) {
                st.setQueryTimeout(1);
                long t0 = System.nanoTime();
                try {
                    st.executeQuery("SELECT count(*) FROM persons a, persons b, persons c WHERE a.name || b.name <> c.name");
                    throw new AssertionError("a 8e12-row join finished within the timeout");
                } catch (SQLException e) {
                    eq("57014", e.getSQLState(), "SQLState of a cancelled query (" + e.getMessage() + ")");
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                expect(ms < 15_000, "cancel took " + ms + " ms");
                eqNum(1, scalar(c, "SELECT 1"), "query after a cancel");
            }
        });
    }

    // ------------------------------------------------------------------ tool connection patterns

    static void toolConnectionPatterns() {
        check("tool.metabase_connection_setup", () -> {
            // Metabase: read-only, no autocommit, READ UNCOMMITTED, holdability, then a probe query
            try (Connection c = connect("town")) {
                c.setReadOnly(true);
                c.setAutoCommit(false);
                c.setTransactionIsolation(Connection.TRANSACTION_READ_UNCOMMITTED);
                c.setHoldability(ResultSet.CLOSE_CURSORS_AT_COMMIT);
                try (PreparedStatement ps = c.prepareStatement("SELECT TRUE AS \"_\" FROM \"public\".\"persons\" WHERE 1 <> 1 LIMIT 0")) {
                    ps.setQueryTimeout(15);
                    ps.execute();
                }
                expect(count(c, "SELECT count(*) FROM \"public\".\"persons\"") > 0, "no persons counted in the session");
                c.rollback();
            }
        });
        check("tool.metabase_sync_style_query", () -> {
            try (Connection c = connect("town")) {
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT \"public\".\"persons\".\"sex\" AS \"sex\", COUNT(*) AS \"count\" FROM \"public\".\"persons\""
                                + " GROUP BY \"public\".\"persons\".\"sex\" ORDER BY \"public\".\"persons\".\"sex\" ASC LIMIT 1048575")) {
                    List<Map<String, Object>> r = rows(ps.executeQuery());
                    eq(Set.of("男", "女"), column(r, "sex"), "sexes");
                }
                c.rollback();
            }
        });
        check("tool.dbeaver_data_viewer", () -> {
            // DBeaver's data editor: a plain SELECT with maxRows 200 and fetch size, in a transaction
            try (Connection c = connect("town")) {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
                    st.setMaxRows(200);
                    st.setFetchSize(200);
                    eq(200, rows(st.executeQuery("SELECT * FROM public.persons")).size(), "rows");
                }
                c.commit();
            }
        });
        check("tool.scrollable_resultset", () -> {
            // some tools (and DBeaver's 'fetch all') use scroll-insensitive result sets
            try (Statement st = conn("town").createStatement(ResultSet.TYPE_SCROLL_INSENSITIVE, ResultSet.CONCUR_READ_ONLY);
                 ResultSet rs = st.executeQuery("SELECT id_number FROM persons ORDER BY id_number LIMIT 30")) {
                expect(rs.last(), "last()");
                eq(30, rs.getRow(), "row count");
                expect(rs.absolute(5), "absolute(5)");
            }
        });
    }
}
