-- Catalog and query SQL that JDBC tools send to a PostgreSQL server, for zhenjie to run.
--
-- Format: blocks separated by a blank line; each block is one comment line
-- "-- tool: what it is for" followed by one statement whose last line ends with ";".
-- tool is pgjdbc (DatabaseMetaData / ResultSetMetaData, which DBeaver's generic views,
-- Metabase's sync and Tableau's JDBC connector all call), dbeaver, metabase or tableau.
--
-- Sources: the pgjdbc statements are what pgjdbc 42.5.5 sent to PostgreSQL 15 (log_statement =
-- all) while tests/clients/java/ClientTest.java ran, bind values written in; the others were
-- written from DBeaver's PostgreSQL plugin (org.jkiss.dbeaver.ext.postgresql: PostgreDataSource,
-- PostgreDatabase, PostgreSchema, PostgreTable*, PostgreExecutionContext), Metabase's
-- driver/postgres.clj and sql_jdbc/sync, and Tableau's postgres_jdbc connector sample
-- (dialect.tdd) and metadata enumeration docs. Where a tool binds an OID it read earlier, the
-- statement has a subquery on pg_namespace/pg_class/pg_proc in its place. Long generated lists
-- (pgjdbc's per-type CASE in getUDTs) are shortened.
--
-- Run: java -cp /usr/share/java/postgresql.jar tests/clients/java/RunSql.java HOST PORT USER tests/clients/sql/jdbc_tools.sql
-- (extended protocol, as the tools) or psql -X -v ON_ERROR_STOP=0 -f tests/clients/sql/jdbc_tools.sql.
-- Written against the demo city: table persons, function id_valid, user town.

-- pgjdbc: connection start-up (sent before anything else on every connection)
SET extra_float_digits = 3;

-- pgjdbc: connection start-up, ApplicationName property / setClientInfo
SET application_name = 'DBeaver 24.2.3 - Main';

-- pgjdbc: DatabaseMetaData.getSchemas()
SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG
FROM pg_catalog.pg_namespace
WHERE nspname <> 'pg_toast'
  AND (nspname !~ '^pg_temp_' OR nspname = (pg_catalog.current_schemas(true))[1])
  AND (nspname !~ '^pg_toast_temp_' OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))
ORDER BY TABLE_SCHEM;

-- pgjdbc: DatabaseMetaData.getTables(null, "public", "%", {"TABLE"}) with REMARKS from pg_description
SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,
  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'
    WHEN true THEN CASE
      WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind WHEN 'r' THEN 'SYSTEM TABLE' WHEN 'v' THEN 'SYSTEM VIEW' WHEN 'i' THEN 'SYSTEM INDEX' ELSE NULL END
      WHEN n.nspname = 'pg_toast' THEN CASE c.relkind WHEN 'r' THEN 'SYSTEM TOAST TABLE' WHEN 'i' THEN 'SYSTEM TOAST INDEX' ELSE NULL END
      ELSE CASE c.relkind WHEN 'r' THEN 'TEMPORARY TABLE' WHEN 'p' THEN 'TEMPORARY TABLE' WHEN 'i' THEN 'TEMPORARY INDEX' WHEN 'S' THEN 'TEMPORARY SEQUENCE' WHEN 'v' THEN 'TEMPORARY VIEW' ELSE NULL END
    END
    WHEN false THEN CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'i' THEN 'INDEX' WHEN 'P' then 'PARTITIONED INDEX' WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'c' THEN 'TYPE' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END
    ELSE NULL
  END AS TABLE_TYPE,
  d.description AS REMARKS, '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION
FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c
LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0 and d.classoid = 'pg_class'::regclass)
WHERE c.relnamespace = n.oid AND n.nspname LIKE 'public' AND c.relname LIKE '%'
  AND (false OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ))
ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME;

-- pgjdbc: DatabaseMetaData.getColumns(null, "public", "persons", "%") with REMARKS, typmod and defaults
SELECT * FROM (
  SELECT n.nspname, c.relname, a.attname, a.atttypid, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,
    a.atttypmod, a.attlen, t.typtypmod, row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum,
    nullif(a.attidentity, '') as attidentity, nullif(a.attgenerated, '') as attgenerated,
    pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc, dsc.description, t.typbasetype, t.typtype
  FROM pg_catalog.pg_namespace n
  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)
  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)
  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)
  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)
  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')
  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')
  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped
    AND n.nspname LIKE 'public' AND c.relname LIKE 'persons'
) c WHERE true AND attname LIKE '%'
ORDER BY nspname,c.relname,attnum;

-- pgjdbc: DatabaseMetaData.getPrimaryKeys(null, "public", "persons")
SELECT result.TABLE_CAT, result.TABLE_SCHEM, result.TABLE_NAME, result.COLUMN_NAME, result.KEY_SEQ, result.PK_NAME
FROM (
  SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME,
    (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,
    information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM
  FROM pg_catalog.pg_class ct
  JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)
  JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)
  JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid)
  JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)
  WHERE true AND n.nspname = 'public' AND ct.relname = 'persons' AND i.indisprimary
) result
where result.A_ATTNUM = (result.KEYS).x
ORDER BY result.table_name, result.pk_name, result.key_seq;

-- pgjdbc: getImportedKeys/getExportedKeys first read max_index_keys (no row => "Unable to determine a value for MaxIndexKeys")
SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys';

-- pgjdbc: DatabaseMetaData.getImportedKeys(null, "public", "persons") (getExportedKeys is the same with pkn/pkc filters)
SELECT NULL::text AS PKTABLE_CAT, pkn.nspname AS PKTABLE_SCHEM, pkc.relname AS PKTABLE_NAME, pka.attname AS PKCOLUMN_NAME,
  NULL::text AS FKTABLE_CAT, fkn.nspname AS FKTABLE_SCHEM, fkc.relname AS FKTABLE_NAME, fka.attname AS FKCOLUMN_NAME,
  pos.n AS KEY_SEQ,
  CASE con.confupdtype WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS UPDATE_RULE,
  CASE con.confdeltype WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS DELETE_RULE,
  con.conname AS FK_NAME, pkic.relname AS PK_NAME,
  CASE WHEN con.condeferrable AND con.condeferred THEN 5 WHEN con.condeferrable THEN 6 ELSE 7 END AS DEFERRABILITY
FROM pg_catalog.pg_namespace pkn, pg_catalog.pg_class pkc, pg_catalog.pg_attribute pka,
  pg_catalog.pg_namespace fkn, pg_catalog.pg_class fkc, pg_catalog.pg_attribute fka,
  pg_catalog.pg_constraint con, pg_catalog.generate_series(1, 32) pos(n), pg_catalog.pg_class pkic
WHERE pkn.oid = pkc.relnamespace AND pkc.oid = pka.attrelid AND pka.attnum = con.confkey[pos.n] AND con.confrelid = pkc.oid
  AND fkn.oid = fkc.relnamespace AND fkc.oid = fka.attrelid AND fka.attnum = con.conkey[pos.n] AND con.conrelid = fkc.oid
  AND con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND pkic.oid = con.conindid
  AND fkn.nspname = 'public' AND fkc.relname = 'persons'
ORDER BY pkn.nspname,pkc.relname, con.conname,pos.n;

-- pgjdbc: DatabaseMetaData.getIndexInfo(null, "public", "persons", false, true)
SELECT tmp.TABLE_CAT, tmp.TABLE_SCHEM, tmp.TABLE_NAME, tmp.NON_UNIQUE, tmp.INDEX_QUALIFIER, tmp.INDEX_NAME, tmp.TYPE, tmp.ORDINAL_POSITION,
  trim(both '"' from pg_catalog.pg_get_indexdef(tmp.CI_OID, tmp.ORDINAL_POSITION, false)) AS COLUMN_NAME,
  CASE tmp.AM_NAME WHEN 'btree' THEN CASE tmp.I_INDOPTION[tmp.ORDINAL_POSITION - 1] & 1::smallint WHEN 1 THEN 'D' ELSE 'A' END ELSE NULL END AS ASC_OR_DESC,
  tmp.CARDINALITY, tmp.PAGES, tmp.FILTER_CONDITION
FROM (
  SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, ct.relname AS TABLE_NAME, NOT i.indisunique AS NON_UNIQUE,
    NULL AS INDEX_QUALIFIER, ci.relname AS INDEX_NAME,
    CASE i.indisclustered WHEN true THEN 1 ELSE CASE am.amname WHEN 'hash' THEN 2 ELSE 3 END END AS TYPE,
    (information_schema._pg_expandarray(i.indkey)).n AS ORDINAL_POSITION,
    ci.reltuples AS CARDINALITY, ci.relpages AS PAGES, pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS FILTER_CONDITION,
    ci.oid AS CI_OID, i.indoption AS I_INDOPTION, am.amname AS AM_NAME
  FROM pg_catalog.pg_class ct
  JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)
  JOIN pg_catalog.pg_index i ON (ct.oid = i.indrelid)
  JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)
  JOIN pg_catalog.pg_am am ON (ci.relam = am.oid)
  WHERE true AND n.nspname = 'public' AND ct.relname = 'persons'
) AS tmp
ORDER BY NON_UNIQUE, TYPE, INDEX_NAME, ORDINAL_POSITION;

-- pgjdbc: DatabaseMetaData.getTypeInfo(), list of types (correlated scalar subquery on pg_class)
SELECT t.typname,t.oid
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON (t.typnamespace = n.oid)
WHERE n.nspname != 'pg_toast' AND (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid));

-- pgjdbc: TypeInfoCache preload (getTypeInfo, getColumns of unknown types): array types via regproc and current_schemas
SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid
FROM pg_catalog.pg_type
LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r
           from pg_namespace as ns
           join ( select s.r, (current_schemas(false))[s.r] as nspname
                  from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r
           using ( nspname )
          ) as sp
  ON sp.nspoid = typnamespace
ORDER BY sp.r, pg_type.oid DESC;

-- pgjdbc: TypeInfoCache, is a type an array (sent on the first getObject of an interval column; typinput vs regproc)
SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid
FROM pg_catalog.pg_type
LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r
           from pg_namespace as ns
           join ( select s.r, (current_schemas(false))[s.r] as nspname
                  from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r
           using ( nspname )
          ) as sp
  ON sp.nspoid = typnamespace
WHERE pg_type.oid = '1186'
ORDER BY sp.r, pg_type.oid DESC;

-- pgjdbc: TypeInfoCache lookup of a result column's type OID it does not know (here 1186 interval)
SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid
WHERE t.oid = '1186';

-- pgjdbc: DatabaseMetaData.getFunctions(null, "public", "id_valid") with REMARKS
SELECT current_database() AS FUNCTION_CAT, n.nspname AS FUNCTION_SCHEM, p.proname AS FUNCTION_NAME, d.description AS REMARKS,
  CASE WHEN (format_type(p.prorettype, null) = 'unknown') THEN 0
       WHEN (substring(pg_get_function_result(p.oid) from 0 for 6) = 'TABLE') OR (substring(pg_get_function_result(p.oid) from 0 for 6) = 'SETOF') THEN 2
       ELSE 1 END AS FUNCTION_TYPE,
  p.proname || '_' || p.oid AS SPECIFIC_NAME
FROM pg_catalog.pg_proc p
INNER JOIN pg_catalog.pg_namespace n ON p.pronamespace=n.oid
LEFT JOIN pg_catalog.pg_description d ON p.oid=d.objoid
WHERE true AND p.prokind='f' AND n.nspname LIKE 'public' AND p.proname LIKE 'id_valid'
ORDER BY FUNCTION_SCHEM, FUNCTION_NAME, p.oid::text;

-- pgjdbc: DatabaseMetaData.getFunctionColumns / getProcedureColumns (argument and result types, must return id_valid's row)
SELECT n.nspname,p.proname,p.prorettype,p.proargtypes, t.typtype,t.typrelid, p.proargnames, p.proargmodes, p.proallargtypes, p.oid
FROM pg_catalog.pg_proc p, pg_catalog.pg_namespace n, pg_catalog.pg_type t
WHERE p.pronamespace=n.oid AND p.prorettype=t.oid AND n.nspname LIKE 'public' AND p.proname LIKE 'id_valid'
ORDER BY n.nspname, p.proname, p.oid::text;

-- pgjdbc: DatabaseMetaData.getProcedures(null, "public", "%") (three unnamed NULL columns)
SELECT NULL AS PROCEDURE_CAT, n.nspname AS PROCEDURE_SCHEM, p.proname AS PROCEDURE_NAME, NULL, NULL, NULL,
  d.description AS REMARKS, 2 AS PROCEDURE_TYPE, p.proname || '_' || p.oid AS SPECIFIC_NAME
FROM pg_catalog.pg_namespace n, pg_catalog.pg_proc p
LEFT JOIN pg_catalog.pg_description d ON (p.oid=d.objoid)
LEFT JOIN pg_catalog.pg_class c ON (d.classoid=c.oid AND c.relname='pg_proc')
LEFT JOIN pg_catalog.pg_namespace pn ON (c.relnamespace=pn.oid AND pn.nspname='pg_catalog')
WHERE p.pronamespace=n.oid AND p.prokind='p' AND n.nspname LIKE 'public' AND p.proname LIKE '%'
ORDER BY PROCEDURE_SCHEM, PROCEDURE_NAME, p.oid::text;

-- pgjdbc: DatabaseMetaData.getTablePrivileges(null, "public", "persons") (relacl)
SELECT n.nspname,c.relname,r.rolname,c.relacl
FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c, pg_catalog.pg_roles r
WHERE c.relnamespace = n.oid AND c.relowner = r.oid AND c.relkind IN ('r','p','v','m','f')
  AND n.nspname LIKE 'public' AND c.relname LIKE 'persons'
ORDER BY nspname, relname;

-- pgjdbc: DatabaseMetaData.getColumnPrivileges(null, "public", "persons", "%") (relacl, attacl)
SELECT n.nspname,c.relname,r.rolname,c.relacl, a.attacl, a.attname
FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c, pg_catalog.pg_roles r, pg_catalog.pg_attribute a
WHERE c.relnamespace = n.oid AND c.relowner = r.oid AND c.oid = a.attrelid AND c.relkind = 'r'
  AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname = 'public' AND c.relname = 'persons' AND a.attname LIKE '%'
ORDER BY attname;

-- pgjdbc: DatabaseMetaData.getBestRowIdentifier(null, "public", "persons", ...)
SELECT a.attname, a.atttypid, atttypmod
FROM pg_catalog.pg_class ct
JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)
JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)
JOIN (SELECT i.indexrelid, i.indrelid, i.indisprimary, information_schema._pg_expandarray(i.indkey) AS keys
      FROM pg_catalog.pg_index i) i ON (a.attnum = (i.keys).x AND a.attrelid = i.indrelid)
WHERE true AND n.nspname = 'public' AND ct.relname = 'persons' AND i.indisprimary
ORDER BY a.attnum;

-- pgjdbc: DatabaseMetaData.getSQLKeywords() (DBeaver calls it for its SQL editor; word list shortened)
select string_agg(word, ',') from pg_catalog.pg_get_keywords() where word <> ALL ('{a,abs,absolute,action,add,all,alter,and,any,array,as,asc,between,by,case,cast,select,from,where}'::text[]);

-- pgjdbc: DatabaseMetaData.getMaxColumnNameLength() and the other getMax*NameLength
SELECT t.typlen FROM pg_catalog.pg_type t, pg_catalog.pg_namespace n WHERE t.typnamespace=n.oid AND t.typname='name' AND n.nspname='pg_catalog';

-- pgjdbc: DatabaseMetaData.getUDTs(null, "public", "%", null) (per-type CASE shortened to two entries)
select null as type_cat, n.nspname as type_schem, t.typname as type_name, null as class_name,
  CASE WHEN t.typtype='c' then 2002 else 2001 end as data_type, pg_catalog.obj_description(t.oid, 'pg_type') as remarks,
  CASE WHEN t.typtype = 'd' then (select CASE when base_type.oid = 23 then 4 when base_type.oid = 25 then 12 else 1111 end
                                  from pg_catalog.pg_type base_type where base_type.oid=t.typbasetype) else null end as base_type
from pg_catalog.pg_type t, pg_catalog.pg_namespace n
where t.typnamespace = n.oid and n.nspname != 'pg_catalog' and n.nspname != 'pg_toast' and t.typtype IN ('c','d')
  and n.nspname like 'public' and t.typname like '%'
order by data_type, type_schem, type_name;

-- pgjdbc: ResultSetMetaData.getBaseTableName/isNullable/isAutoIncrement for a result (table OID, attnum from RowDescription)
SELECT c.oid, a.attnum, a.attname, c.relname, n.nspname, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull),
  a.attidentity != '' OR pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%'
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON (c.relnamespace = n.oid)
JOIN pg_catalog.pg_attribute a ON (c.oid = a.attrelid)
JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)
LEFT JOIN pg_catalog.pg_attrdef d ON (d.adrelid = a.attrelid AND d.adnum = a.attnum)
JOIN (SELECT (SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons') AS oid, 1 AS attnum
      UNION ALL SELECT (SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons'), 6) vals
  ON (c.oid = vals.oid AND a.attnum = vals.attnum);

-- pgjdbc: Connection.getSchema()
select current_schema();

-- pgjdbc: Connection.getTransactionIsolation()
SHOW TRANSACTION ISOLATION LEVEL;

-- pgjdbc: Connection.setTransactionIsolation(TRANSACTION_READ_UNCOMMITTED) (Metabase sets it on every query connection)
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED;

-- pgjdbc: Connection.setReadOnly(true) with autocommit on, readOnlyMode=always (Metabase, DBeaver read-only connections)
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;

-- pgjdbc: Connection.setSchema("public")
SET SESSION search_path TO 'public';

-- dbeaver: connection bootstrap, name of the database when the URL has none
SELECT current_database();

-- dbeaver: server version string shown in the navigator and used for feature checks
SELECT version();

-- dbeaver: database list for the navigator (PostgreDataSource.prepareReadDatabaseListStatement)
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE 1 = 1 AND datallowconn AND NOT datistemplate OR db.datname ='zhenjie'
ORDER BY db.datname;

-- dbeaver: the connected database (PostgreDatabase refresh, by name)
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='zhenjie';

-- dbeaver: database comment (pg_shdescription)
select description from pg_shdescription join pg_database on objoid = pg_database.oid where datname = 'zhenjie';

-- dbeaver: template databases (shown in "create database")
SELECT db.datname FROM pg_catalog.pg_database db WHERE datistemplate;

-- dbeaver: database size in the database properties
SELECT db.datname,pg_database_size(db.oid) FROM pg_catalog.pg_database db WHERE db.oid=(SELECT oid FROM pg_catalog.pg_database WHERE datname = 'zhenjie');

-- dbeaver: session defaults of the execution context
SELECT current_schema(),session_user;

-- dbeaver: search path of the execution context
SHOW search_path;

-- dbeaver: server setting lookup (PostgreDataSource settings cache, by name)
select * from pg_catalog.pg_settings where name='standard_conforming_strings';

-- dbeaver: schema list with comments ('pg_namespace'::regclass)
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass
 ORDER BY nspname;

-- dbeaver: schema oid by name (PostgreSchema.readSchemaInfo)
SELECT s.oid as schema_id
from pg_catalog.pg_namespace s
WHERE s.nspname ='public';

-- dbeaver: pg_type column probe before reading data types (supportsSysTypCategoryColumn)
SELECT typcategory FROM pg_catalog.pg_type WHERE 1<>1 LIMIT 1;

-- dbeaver: all data types with base type names (PostgreDatabase data type cache, format_type)
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description
FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem
LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
WHERE t.typname IS NOT NULL
AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C');

-- dbeaver: one data type by OID (PostgreDataTypeCache.resolveDataType for a column type it has not cached)
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_class c ON c.oid=t.typrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
WHERE t.oid=25 ;

-- dbeaver: roles with comments (navigator "Roles")
SELECT a.oid,a.*,pd.description FROM pg_catalog.pg_roles a
left join pg_catalog.pg_shdescription pd on a.oid = pd.objoid
ORDER BY a.rolname;

-- dbeaver: access methods
SELECT am.oid,am.* FROM pg_catalog.pg_am am
ORDER BY am.oid;

-- dbeaver: encodings (pg_encoding_to_char)
SELECT c.contoencoding as encid,pg_catalog.pg_encoding_to_char(c.contoencoding) as encname
FROM pg_catalog.pg_conversion c
GROUP BY c.contoencoding
ORDER BY 2;

-- dbeaver: collations
SELECT c.oid,c.* FROM pg_catalog.pg_collation c
ORDER BY c.oid;

-- dbeaver: languages
SELECT l.oid,l.* FROM pg_catalog.pg_language l
ORDER BY l.oid;

-- dbeaver: tablespaces with their location
SELECT t.oid,t.*,pg_tablespace_location(t.oid) loc
FROM pg_catalog.pg_tablespace t
ORDER BY t.oid;

-- dbeaver: available extensions
SELECT name,default_version,installed_version,comment FROM pg_catalog.pg_available_extensions ORDER BY name;

-- dbeaver: installed extensions with their config tables (unnest, array_agg)
SELECT e.oid, cfg.tbls, n.nspname as schema_name, e.*
FROM pg_catalog.pg_extension e
join pg_namespace n on n.oid =e.extnamespace
left join (
  select ARRAY_AGG(ns.nspname || '.' || cls.relname) tbls, oid_ext
  from (select unnest(e1.extconfig) oid , e1.oid oid_ext from pg_catalog.pg_extension e1 ) c
  join pg_class cls on cls.oid = c.oid
  join pg_namespace ns on ns.oid = cls.relnamespace
  group by oid_ext
) cfg on cfg.oid_ext = e.oid
ORDER BY e.oid;

-- dbeaver: event triggers
SELECT pet.*, d.description FROM pg_catalog.pg_event_trigger pet
LEFT OUTER JOIN pg_catalog.pg_description d ON pet."oid" = d.objoid
ORDER BY pet.evtname;

-- dbeaver: enum values
SELECT * FROM pg_catalog.pg_enum;

-- dbeaver: tables/views of a schema with comments and partition info (PostgreSchema.TableCache)
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
WHERE c.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public') AND c.relkind not in ('i','I','c');

-- dbeaver: columns of a table with defaults, comments and owned sequences (PostgreSchema.TableCache children)
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=(SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons')
ORDER BY a.attnum;

-- dbeaver: columns of all tables of a schema at once (same query, by namespace)
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public')
ORDER BY a.attnum;

-- dbeaver: constraints of a table ('pg_constraint'::regclass, pg_get_constraintdef)
SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then "substring"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy
FROM pg_catalog.pg_constraint c
INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid
LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass
WHERE c.conrelid=(SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons')
ORDER BY c.oid;

-- dbeaver: indexes of a table with expressions, sizes and scan counts
SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans
FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid
INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid
LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid
WHERE  i.indrelid=(SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons') ORDER BY c.relname;

-- dbeaver: tables that reference this one (PostgreTable.getReferences)
SELECT DISTINCT connamespace FROM pg_catalog.pg_constraint WHERE confrelid=(SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons');

-- dbeaver: functions of a schema with argument defaults and comments ('pg_proc'::regclass)
SELECT p.oid as poid,p.*,pg_catalog.pg_get_expr(p.proargdefaults, 0) as arg_defaults,d.description
FROM pg_catalog.pg_proc p
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=p.oid and d.classoid='pg_proc'::regclass  AND d.objsubid = 0
WHERE p.pronamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public')
ORDER BY p.proname;

-- dbeaver: function source for the editor (pg_get_functiondef)
SELECT pg_catalog.pg_get_functiondef((SELECT oid FROM pg_catalog.pg_proc WHERE proname = 'id_valid'));

-- dbeaver: aggregates of a schema
SELECT p.oid AS proc_oid,p.proname AS proc_name,a.*
FROM pg_catalog.pg_aggregate a,pg_catalog.pg_proc p
WHERE p.oid=a.aggfnoid AND p.pronamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public')
ORDER BY p.proname;

-- dbeaver: collations of a schema
SELECT c.oid,c.* FROM pg_catalog.pg_collation c
WHERE c.collnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public')
ORDER BY c.oid;

-- dbeaver: table inheritance of a schema
SELECT i.inhrelid relid, pc.relnamespace parent_ns, pc.oid parent_oid, i.inhseqno
FROM pg_catalog.pg_inherits i, pg_class rc, pg_class pc
WHERE rc.oid=i.inhrelid AND rc.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public') AND pc.oid=i.inhparent;

-- dbeaver: parents of a table
SELECT i.*,c.relnamespace FROM pg_catalog.pg_inherits i,pg_catalog.pg_class c WHERE i.inhrelid=(SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons') AND c.oid=i.inhparent ORDER BY i.inhseqno;

-- dbeaver: partitions / children of a table
SELECT i.*,c.relnamespace FROM pg_catalog.pg_inherits i,pg_catalog.pg_class c WHERE i.inhparent=(SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons') AND c.oid=i.inhrelid;

-- dbeaver: relation sizes of a schema (navigator statistics)
select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size
FROM pg_class c
WHERE c.relnamespace=(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public');

-- dbeaver: relation size of one table (table properties)
select pg_catalog.pg_total_relation_size((SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons')) as total_rel_size,pg_catalog.pg_relation_size((SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons')) as rel_size;

-- dbeaver: triggers of a table
SELECT x.oid,x.*,p.pronamespace as func_schema_id,d.description
FROM pg_catalog.pg_trigger x
LEFT OUTER JOIN pg_catalog.pg_proc p ON p.oid=x.tgfoid
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=x.oid AND d.objsubid=0
WHERE x.tgrelid = (SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons') AND NOT x.tgisinternal;

-- dbeaver: rules of a table (pg_get_ruledef, '_RETURN'::name)
SELECT r.oid,r.*, pg_get_ruledef(r.oid) AS definition
FROM pg_rewrite r
WHERE r.ev_class=(SELECT oid FROM pg_catalog.pg_class WHERE relname = 'persons') AND r.rulename <> '_RETURN'::name;

-- dbeaver: row-level security policies of a table
select * from pg_catalog.pg_policies where schemaname='public' and tablename='persons';

-- dbeaver: default privileges of a schema
SELECT * FROM pg_default_acl WHERE defaclnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public');

-- dbeaver: table comment by name (PostgreUtils.getObjectComment)
select description from pg_catalog.pg_description
join pg_catalog.pg_class on pg_description.objoid = pg_class.oid
join pg_catalog.pg_namespace on pg_class.relnamespace = pg_namespace.oid
where pg_class.relname = 'persons' and pg_namespace.nspname='public';

-- dbeaver: data editor, first page of a table
SELECT * FROM public.persons
LIMIT 200;

-- dbeaver: data editor, "calculate total row count"
SELECT COUNT(*) FROM public.persons;

-- metabase: connection test and db-default-timezone
show timezone;

-- metabase: report timezone applied to each query connection
SET SESSION TIMEZONE TO 'Asia/Shanghai';

-- metabase: sync, enum types (describe-fields-pre-process)
SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e);

-- metabase: sync, tables with comments and row estimates (get-tables-sql, 'pg_class'::regclass, pg_stat_user_tables)
SELECT n.nspname AS "schema", c.relname AS "name",
  CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type",
  d.description AS "description", stat.n_live_tup AS "estimated_row_count"
FROM pg_catalog.pg_class AS c
INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
LEFT JOIN pg_catalog.pg_description AS d ON (c.oid = d.objoid) AND (d.objsubid = 0) AND (d.classoid = 'pg_class'::regclass)
LEFT JOIN pg_stat_user_tables AS stat ON (n.nspname = stat.schemaname) AND (c.relname = stat.relname)
WHERE (c.relnamespace = n.oid) AND (n.nspname !~ '^pg_') AND (n.nspname <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND (n.nspname IN ('public'))
ORDER BY "type" ASC, "schema" ASC, "name" ASC;

-- metabase: sync, which tables the user may select (current-user-table-privileges)
with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t;

-- metabase: sync, columns with types, primary keys and comments (describe-fields-sql: information_schema, format('%I.%I')::regclass::oid, col_description)
SELECT c.column_name AS "name",
  CASE WHEN c.udt_schema IN ('public', 'pg_catalog') THEN FORMAT('%s', c.udt_name) ELSE FORMAT('"%s"."%s"', c.udt_schema, c.udt_name) END AS "database-type",
  c.ordinal_position - 1 AS "database-position", c.table_schema AS "table-schema", c.table_name AS "table-name",
  pk.column_name IS NOT NULL AS "pk?",
  COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST(c.table_schema AS TEXT), CAST(c.table_name AS TEXT)) AS REGCLASS) AS OID), c.ordinal_position) AS "field-comment",
  ((column_default IS NULL) OR (LOWER(column_default) = 'null')) AND (is_nullable = 'NO') AND NOT (((column_default IS NOT NULL) AND (column_default LIKE '%nextval(%')) OR (is_identity <> 'NO')) AS "database-required",
  ((column_default IS NOT NULL) AND (column_default LIKE '%nextval(%')) OR (is_identity <> 'NO') AS "database-is-auto-increment"
FROM information_schema.columns AS c
LEFT JOIN (SELECT tc.table_schema, tc.table_name, kc.column_name
           FROM information_schema.table_constraints AS tc
           INNER JOIN information_schema.key_column_usage AS kc ON (tc.constraint_name = kc.constraint_name) AND (tc.table_schema = kc.table_schema) AND (tc.table_name = kc.table_name)
           WHERE tc.constraint_type = 'PRIMARY KEY') AS pk
  ON (c.table_schema = pk.table_schema) AND (c.table_name = pk.table_name) AND (c.column_name = pk.column_name)
WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND (c.table_schema IN ('public')) AND (c.table_name IN ('persons'))
UNION ALL
SELECT pa.attname AS "name",
  CASE WHEN ptn.nspname IN ('public', 'pg_catalog') THEN FORMAT('%s', pt.typname) ELSE FORMAT('"%s"."%s"', ptn.nspname, pt.typname) END AS "database-type",
  pa.attnum - 1 AS "database-position", pn.nspname AS "table-schema", pc.relname AS "table-name",
  FALSE AS "pk?", NULL AS "field-comment", FALSE AS "database-required", FALSE AS "database-is-auto-increment"
FROM pg_catalog.pg_class AS pc
INNER JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
INNER JOIN pg_catalog.pg_attribute AS pa ON pa.attrelid = pc.oid
INNER JOIN pg_catalog.pg_type AS pt ON pt.oid = pa.atttypid
INNER JOIN pg_catalog.pg_namespace AS ptn ON ptn.oid = pt.typnamespace
WHERE (pc.relkind = 'm') AND (pa.attnum >= 1) AND (pn.nspname IN ('public')) AND (pc.relname IN ('persons'))
ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC;

-- metabase: sync, foreign keys (describe-fks-sql: ANY(conkey), 'f'::char)
SELECT fk_ns.nspname AS "fk-table-schema", fk_table.relname AS "fk-table-name", fk_column.attname AS "fk-column-name",
  pk_ns.nspname AS "pk-table-schema", pk_table.relname AS "pk-table-name", pk_column.attname AS "pk-column-name"
FROM pg_constraint AS c
INNER JOIN pg_class AS fk_table ON c.conrelid = fk_table.oid
INNER JOIN pg_namespace AS fk_ns ON c.connamespace = fk_ns.oid
INNER JOIN pg_attribute AS fk_column ON c.conrelid = fk_column.attrelid
INNER JOIN pg_class AS pk_table ON c.confrelid = pk_table.oid
INNER JOIN pg_namespace AS pk_ns ON pk_table.relnamespace = pk_ns.oid
INNER JOIN pg_attribute AS pk_column ON c.confrelid = pk_column.attrelid
WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND (c.contype = 'f'::char)
  AND (fk_column.attnum = ANY(c.conkey)) AND (pk_column.attnum = ANY(c.confkey))
  AND (fk_table.relname IN ('persons')) AND (fk_ns.nspname IN ('public'))
ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC;

-- metabase: sync, first column of each index (describe-indexes-sql: _pg_expandarray(...).n, pg_get_indexdef)
SELECT tmp."table-schema", tmp."table-name", TRIM(BOTH '"' FROM pg_catalog.pg_get_indexdef(tmp.ci_oid, tmp.pos, FALSE)) AS "field-name"
FROM (SELECT n.nspname AS "table-schema", ct.relname AS "table-name", ci.oid AS ci_oid, (information_schema._pg_expandarray(i.indkey)).n AS pos
      FROM pg_catalog.pg_class AS ct
      INNER JOIN pg_catalog.pg_namespace AS n ON ct.relnamespace = n.oid
      INNER JOIN pg_catalog.pg_index AS i ON ct.oid = i.indrelid
      INNER JOIN pg_catalog.pg_class AS ci ON ci.oid = i.indexrelid
      WHERE (pg_catalog.pg_get_expr(i.indpred, i.indrelid) IS NULL) AND n.nspname !~ '^information_schema|catalog_history|pg_'
        AND (n.nspname IN ('public')) AND (ct.relname IN ('persons'))) AS tmp
WHERE tmp.pos = 1;

-- metabase: sync, select-privilege probe on a table
SELECT TRUE AS "_" FROM "public"."persons" WHERE 1 <> 1 LIMIT 0;

-- metabase: sync, sample rows for fingerprinting (text truncated with SUBSTRING)
SELECT "public"."persons"."id_number" AS "id_number", SUBSTRING("public"."persons"."address", 1, 1234) AS "substring", "public"."persons"."birth_date" AS "birth_date", "public"."persons"."is_alive" AS "is_alive"
FROM "public"."persons"
LIMIT 10000;

-- metabase: sync, distinct values of a category field (field values)
SELECT "public"."persons"."marital_status" AS "marital_status"
FROM "public"."persons"
GROUP BY "public"."persons"."marital_status"
ORDER BY "public"."persons"."marital_status" ASC
LIMIT 1000;

-- metabase: question, count by month of a date column (date_trunc cast back to date)
SELECT CAST(DATE_TRUNC('month', "public"."persons"."birth_date") AS date) AS "birth_date", COUNT(*) AS "count"
FROM "public"."persons"
GROUP BY CAST(DATE_TRUNC('month', "public"."persons"."birth_date") AS date)
ORDER BY CAST(DATE_TRUNC('month', "public"."persons"."birth_date") AS date) ASC
LIMIT 1048575;

-- metabase: question, relative date filter and day-of-week extraction
SELECT (CAST(extract(dow from "public"."persons"."birth_date") AS integer) + 1) AS "birth_date", COUNT(*) AS "count"
FROM "public"."persons"
WHERE ("public"."persons"."birth_date" >= CAST((CAST(NOW() AS date) + INTERVAL '-100 year') AS date)) AND ("public"."persons"."is_alive" = TRUE)
GROUP BY (CAST(extract(dow from "public"."persons"."birth_date") AS integer) + 1)
ORDER BY (CAST(extract(dow from "public"."persons"."birth_date") AS integer) + 1) ASC
LIMIT 1048575;

-- tableau: metadata of a table without rows (CAP_QUERY_WHERE_FALSE_METADATA)
SELECT * FROM "public"."persons" WHERE 1=0;

-- tableau: metadata of a table without rows (CAP_QUERY_TOP_0_METADATA)
SELECT * FROM "public"."persons" LIMIT 0;

-- tableau: custom SQL wrapped as a subquery for metadata
SELECT * FROM (SELECT county_code, count(*) AS n FROM persons GROUP BY county_code) "Custom SQL Query" WHERE (1 = 0);

-- tableau: number of records by a dimension (SUM(1), GROUP BY ordinal)
SELECT "persons"."county_code" AS "county_code", SUM(1) AS "sum:Number of Records:ok"
FROM "public"."persons" "persons"
GROUP BY 1;

-- tableau: year and month parts (CAST(EXTRACT(...) AS INTEGER), DATE_TRUNC on CAST AS TIMESTAMP)
SELECT CAST(EXTRACT(YEAR FROM "persons"."birth_date") AS INTEGER) AS "yr:birth_date:ok",
  DATE_TRUNC( 'MONTH', CAST("persons"."birth_date" AS TIMESTAMP) ) AS "tmn:birth_date:ok",
  COUNT(DISTINCT "persons"."household_no") AS "ctd:household_no:ok"
FROM "public"."persons" "persons"
GROUP BY 1, 2;

-- tableau: string functions (STRPOS, SUBSTR, CAST AS TEXT, LENGTH) and a Tableau date literal
SELECT SUBSTR(CAST("persons"."address" AS TEXT), 1, CAST(FLOOR(6) AS INTEGER)) AS "Calculation_1",
  (STRPOS(CAST("persons"."address" AS TEXT),CAST('芝罘' AS TEXT)) > 0) AS "Calculation_2",
  LENGTH(CAST("persons"."name" AS TEXT)) AS "Calculation_3"
FROM "public"."persons" "persons"
WHERE ("persons"."birth_date" >= (DATE '1980-01-01'))
GROUP BY 1, 2, 3;

-- tableau: DATEDIFF('year') and DATEPART('weekday') formulas (EXTRACT on CAST AS TIMESTAMP, DOW)
SELECT CAST( EXTRACT(YEAR FROM CAST(CURRENT_DATE AS TIMESTAMP)) - EXTRACT(YEAR FROM CAST("persons"."birth_date" AS TIMESTAMP)) AS BIGINT) AS "age",
  (1 + CAST(EXTRACT(DOW FROM "persons"."birth_date") AS INTEGER)) AS "wd:birth_date:ok",
  AVG(CAST("persons"."is_alive" AS INTEGER)) AS "avg:alive:ok"
FROM "public"."persons" "persons"
GROUP BY 1, 2;

-- tableau: top N filter with a nested ranking subquery and a regex match
SELECT "persons"."ethnicity" AS "ethnicity", COUNT(1) AS "cnt"
FROM "public"."persons" "persons"
INNER JOIN (SELECT "persons"."village_code" AS "village_code", COUNT(1) AS "$__alias__0" FROM "public"."persons" "persons" GROUP BY 1 ORDER BY 2 DESC LIMIT 5) "t0"
  ON ("persons"."village_code" IS NOT DISTINCT FROM "t0"."village_code")
WHERE ("persons"."phone" ~ '^1[3-9]')
GROUP BY 1;
