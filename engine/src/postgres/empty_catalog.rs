//! Empty catalog tables of the right shape for what zhenjie does not have —
//! locks, replication, extensions, sequences, indexes, policies, constraints
//! — so tools that look for them get no rows instead of an error. The column
//! names and types are PostgreSQL 15's (read off its `information_schema`).

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::catalog::{MemTable, TableProvider};
use std::sync::Arc;

/// `pg_catalog` views zhenjie has no rows for: `(name, "column:udt,…")`.
/// Some replace the crate's tables, whose columns have other types
/// (DBeaver unnests `pg_extension.extconfig` and joins `aggfnoid` to
/// `pg_proc.oid`); zhenjie has no extensions and no user-defined aggregates.
pub(crate) const PG_CATALOG: &[(&str, &str)] = &[
    ("pg_available_extension_versions", "name:name,version:text,installed:bool,superuser:bool,trusted:bool,relocatable:bool,schema:name,requires:_name,comment:text"),
    ("pg_available_extensions", "name:name,default_version:text,installed_version:text,comment:text"),
    // Replacing the crate's: key columns are arrays, functions OIDs (psql's
    // `\dp`, `\drds`, `\dy` read the arrays).
    ("pg_aggregate", "aggfnoid:regproc,aggkind:char,aggnumdirectargs:int2,aggtransfn:regproc,aggfinalfn:regproc,aggcombinefn:regproc,aggserialfn:regproc,aggdeserialfn:regproc,aggmtransfn:regproc,aggminvtransfn:regproc,aggmfinalfn:regproc,aggfinalextra:bool,aggmfinalextra:bool,aggfinalmodify:char,aggmfinalmodify:char,aggsortop:oid,aggtranstype:oid,aggtransspace:int4,aggmtranstype:oid,aggmtransspace:int4,agginitval:text,aggminitval:text"),
    ("pg_extension", "oid:oid,extname:name,extowner:oid,extnamespace:oid,extrelocatable:bool,extversion:text,extconfig:_oid,extcondition:_text"),
    ("pg_policy", "oid:oid,polname:name,polrelid:oid,polcmd:char,polpermissive:bool,polroles:_oid,polqual:pg_node_tree,polwithcheck:pg_node_tree"),
    ("pg_db_role_setting", "setdatabase:oid,setrole:oid,setconfig:_text"),
    ("pg_event_trigger", "oid:oid,evtname:name,evtevent:name,evtowner:oid,evtfoid:oid,evtenabled:char,evttags:_text"),
    ("pg_statistic_ext", "oid:oid,stxrelid:oid,stxname:name,stxnamespace:oid,stxowner:oid,stxstattarget:int4,stxkeys:_int2,stxkind:_char,stxexprs:pg_node_tree"),
    ("pg_user_mappings", "umid:oid,srvid:oid,srvname:name,umuser:oid,usename:name,umoptions:_text"),
    ("pg_cursors", "name:text,statement:text,is_holdable:bool,is_binary:bool,is_scrollable:bool,creation_time:timestamptz"),
    ("pg_group", "groname:name,grosysid:oid,grolist:_oid"),
    ("pg_indexes", "schemaname:name,tablename:name,indexname:name,tablespace:name,indexdef:text"),
    ("pg_locks", "locktype:text,database:oid,relation:oid,page:int4,tuple:int2,virtualxid:text,transactionid:xid,classid:oid,objid:oid,objsubid:int2,virtualtransaction:text,pid:int4,mode:text,granted:bool,fastpath:bool,waitstart:timestamptz"),
    ("pg_policies", "schemaname:name,tablename:name,policyname:name,permissive:text,roles:_name,cmd:text,qual:text,with_check:text"),
    ("pg_prepared_statements", "name:text,statement:text,prepare_time:timestamptz,parameter_types:_regtype,from_sql:bool,generic_plans:int8,custom_plans:int8"),
    ("pg_prepared_xacts", "transaction:xid,gid:text,prepared:timestamptz,owner:name,database:name"),
    ("pg_rules", "schemaname:name,tablename:name,rulename:name,definition:text"),
    ("pg_sequences", "schemaname:name,sequencename:name,sequenceowner:name,data_type:regtype,start_value:int8,min_value:int8,max_value:int8,increment_by:int8,cycle:bool,cache_size:int8,last_value:int8"),
    ("pg_stat_activity", "datid:oid,datname:name,pid:int4,leader_pid:int4,usesysid:oid,usename:name,application_name:text,client_addr:inet,client_hostname:text,client_port:int4,backend_start:timestamptz,xact_start:timestamptz,query_start:timestamptz,state_change:timestamptz,wait_event_type:text,wait_event:text,state:text,backend_xid:xid,backend_xmin:xid,query_id:int8,query:text,backend_type:text"),
    ("pg_stat_database", "datid:oid,datname:name,numbackends:int4,xact_commit:int8,xact_rollback:int8,blks_read:int8,blks_hit:int8,tup_returned:int8,tup_fetched:int8,tup_inserted:int8,tup_updated:int8,tup_deleted:int8,conflicts:int8,temp_files:int8,temp_bytes:int8,deadlocks:int8,checksum_failures:int8,checksum_last_failure:timestamptz,blk_read_time:float8,blk_write_time:float8,session_time:float8,active_time:float8,idle_in_transaction_time:float8,sessions:int8,sessions_abandoned:int8,sessions_fatal:int8,sessions_killed:int8,stats_reset:timestamptz"),
    ("pg_stat_replication", "pid:int4,usesysid:oid,usename:name,application_name:text,client_addr:inet,client_hostname:text,client_port:int4,backend_start:timestamptz,backend_xmin:xid,state:text,sent_lsn:pg_lsn,write_lsn:pg_lsn,flush_lsn:pg_lsn,replay_lsn:pg_lsn,write_lag:interval,flush_lag:interval,replay_lag:interval,sync_priority:int4,sync_state:text,reply_time:timestamptz"),
    ("pg_stat_ssl", "pid:int4,ssl:bool,version:text,cipher:text,bits:int4,client_dn:text,client_serial:numeric,issuer_dn:text"),
    ("pg_stat_user_indexes", "relid:oid,indexrelid:oid,schemaname:name,relname:name,indexrelname:name,idx_scan:int8,idx_tup_read:int8,idx_tup_fetch:int8"),
    ("pg_statio_user_tables", "relid:oid,schemaname:name,relname:name,heap_blks_read:int8,heap_blks_hit:int8,idx_blks_read:int8,idx_blks_hit:int8,toast_blks_read:int8,toast_blks_hit:int8,tidx_blks_read:int8,tidx_blks_hit:int8"),
    ("pg_user", "usename:name,usesysid:oid,usecreatedb:bool,usesuper:bool,userepl:bool,usebypassrls:bool,passwd:text,valuntil:timestamptz,useconfig:_text"),
];

/// `information_schema` views zhenjie has no rows for (no keys, no
/// constraints, no sequences, no triggers).
pub(crate) const INFORMATION_SCHEMA: &[(&str, &str)] = &[
    ("check_constraints", "constraint_catalog:name,constraint_schema:name,constraint_name:name,check_clause:varchar"),
    ("column_privileges", "grantor:name,grantee:name,table_catalog:name,table_schema:name,table_name:name,column_name:name,privilege_type:varchar,is_grantable:varchar"),
    ("constraint_column_usage", "table_catalog:name,table_schema:name,table_name:name,column_name:name,constraint_catalog:name,constraint_schema:name,constraint_name:name"),
    ("domains", "domain_catalog:name,domain_schema:name,domain_name:name,data_type:varchar,character_maximum_length:int4,character_octet_length:int4,character_set_catalog:name,character_set_schema:name,character_set_name:name,collation_catalog:name,collation_schema:name,collation_name:name,numeric_precision:int4,numeric_precision_radix:int4,numeric_scale:int4,datetime_precision:int4,interval_type:varchar,interval_precision:int4,domain_default:varchar,udt_catalog:name,udt_schema:name,udt_name:name,scope_catalog:name,scope_schema:name,scope_name:name,maximum_cardinality:int4,dtd_identifier:name"),
    ("element_types", "object_catalog:name,object_schema:name,object_name:name,object_type:varchar,collection_type_identifier:name,data_type:varchar,character_maximum_length:int4,character_octet_length:int4,character_set_catalog:name,character_set_schema:name,character_set_name:name,collation_catalog:name,collation_schema:name,collation_name:name,numeric_precision:int4,numeric_precision_radix:int4,numeric_scale:int4,datetime_precision:int4,interval_type:varchar,interval_precision:int4,domain_default:varchar,udt_catalog:name,udt_schema:name,udt_name:name,scope_catalog:name,scope_schema:name,scope_name:name,maximum_cardinality:int4,dtd_identifier:name"),
    ("key_column_usage", "constraint_catalog:name,constraint_schema:name,constraint_name:name,table_catalog:name,table_schema:name,table_name:name,column_name:name,ordinal_position:int4,position_in_unique_constraint:int4"),
    ("referential_constraints", "constraint_catalog:name,constraint_schema:name,constraint_name:name,unique_constraint_catalog:name,unique_constraint_schema:name,unique_constraint_name:name,match_option:varchar,update_rule:varchar,delete_rule:varchar"),
    ("role_table_grants", "grantor:name,grantee:name,table_catalog:name,table_schema:name,table_name:name,privilege_type:varchar,is_grantable:varchar,with_hierarchy:varchar"),
    ("sequences", "sequence_catalog:name,sequence_schema:name,sequence_name:name,data_type:varchar,numeric_precision:int4,numeric_precision_radix:int4,numeric_scale:int4,start_value:varchar,minimum_value:varchar,maximum_value:varchar,increment:varchar,cycle_option:varchar"),
    ("table_constraints", "constraint_catalog:name,constraint_schema:name,constraint_name:name,table_catalog:name,table_schema:name,table_name:name,constraint_type:varchar,is_deferrable:varchar,initially_deferred:varchar,enforced:varchar,nulls_distinct:varchar"),
    ("table_privileges", "grantor:name,grantee:name,table_catalog:name,table_schema:name,table_name:name,privilege_type:varchar,is_grantable:varchar,with_hierarchy:varchar"),
    ("triggers", "trigger_catalog:name,trigger_schema:name,trigger_name:name,event_manipulation:varchar,event_object_catalog:name,event_object_schema:name,event_object_table:name,action_order:int4,action_condition:varchar,action_statement:varchar,action_orientation:varchar,action_timing:varchar,action_reference_old_table:name,action_reference_new_table:name,action_reference_old_row:name,action_reference_new_row:name,created:timestamptz"),
];

/// The Arrow type zhenjie uses for a PostgreSQL catalog column type.
fn arrow_type(udt: &str) -> DataType {
    match udt {
        "bool" => DataType::Boolean,
        "int2" => DataType::Int16,
        "int4" | "oid" | "xid" | "regclass" | "regtype" | "regproc" => DataType::Int32,
        "int8" | "cardinal_number" => DataType::Int64,
        "float4" | "float8" | "numeric" => DataType::Float64,
        "timestamptz" | "time_stamp" => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        array if array.starts_with('_') => DataType::List(Arc::new(Field::new_list_field(
            arrow_type(&array[1..]),
            true,
        ))),
        _ => DataType::Utf8,
    }
}

/// An empty table with the columns of `shape` (`"name:udt,…"`).
pub(crate) fn empty_table(shape: &str) -> datafusion::error::Result<Arc<dyn TableProvider>> {
    let fields: Vec<Field> = shape
        .split(',')
        .filter_map(|c| c.split_once(':'))
        .map(|(name, udt)| Field::new(name, arrow_type(udt), true))
        .collect();
    Ok(Arc::new(MemTable::try_new(
        Arc::new(Schema::new(fields)),
        vec![vec![]],
    )?))
}

/// The shape of a missing table, if zhenjie answers it empty.
pub(crate) fn shape(list: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    list.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}
