//! The demo city's report templates: base-level forms filled from data
//! (each runs as the user who renders it, so every area gets its own).

use zhenjie_catalog::{Report, ReportColumn};

/// `(name, label, totalled)` for each output column.
type Columns<'a> = &'a [(&'a str, &'a str, bool)];

fn report(
    name: &str,
    title: &str,
    description: &str,
    area_column: Option<&str>,
    sql: &str,
    columns: Columns<'_>,
) -> Report {
    Report {
        name: name.to_string(),
        title: title.to_string(),
        description: description.to_string(),
        sql: sql.to_string(),
        columns: columns
            .iter()
            .map(|(n, l, t)| ReportColumn {
                name: n.to_string(),
                label: l.to_string(),
                total: *t,
            })
            .collect(),
        area_column: area_column.map(str::to_string),
    }
}

/// The templates, in the order `zhenjie report --list` shows them.
pub(crate) fn demo_reports() -> Vec<Report> {
    vec![
        report(
            "population_by_grid",
            "网格人口统计表",
            "Residents, living residents and households per grid (replaces the grid population form).",
            Some("grid_code"),
            "SELECT grid_code, count(*) AS residents, \
               sum(CASE WHEN is_alive THEN 1 ELSE 0 END) AS alive, \
               count(DISTINCT household_no) AS households \
             FROM persons GROUP BY grid_code ORDER BY grid_code",
            &[
                ("grid_code", "网格代码", false),
                ("residents", "户籍人口", true),
                ("alive", "在世人口", true),
                ("households", "户数", true),
            ],
        ),
        report(
            "households_by_village",
            "村（社区）户籍户数统计表",
            "Households and their sizes per village or community.",
            Some("village_code"),
            "SELECT village_code, count(DISTINCT household_no) AS households, count(*) AS members, \
               round(CAST(count(*) AS DOUBLE) / count(DISTINCT household_no), 2) AS average_size \
             FROM persons WHERE is_alive GROUP BY village_code ORDER BY village_code",
            &[
                ("village_code", "村（社区）代码", false),
                ("households", "户数", true),
                ("members", "在世人口", true),
                ("average_size", "平均每户人数", false),
            ],
        ),
        report(
            "special_groups_by_kind",
            "特殊人群分类统计表",
            "Registered special-population groups (低保, 特困, 高龄, 残疾, 优抚, 留守老人) per grid, in register and left.",
            Some("grid_code"),
            "SELECT grid_code, group_type, \
               sum(CASE WHEN status = '在册' THEN 1 ELSE 0 END) AS active, \
               sum(CASE WHEN status = '已退出' THEN 1 ELSE 0 END) AS exited \
             FROM special_groups GROUP BY grid_code, group_type ORDER BY grid_code, group_type",
            &[
                ("grid_code", "网格代码", false),
                ("group_type", "人群类别", false),
                ("active", "在册人数", true),
                ("exited", "已退出人数", true),
            ],
        ),
        report(
            "subsidies_by_month",
            "补贴发放月报表",
            "Subsidy payments per grid, month and kind: count and amount.",
            Some("grid_code"),
            "SELECT grid_code, CAST(month AS VARCHAR) AS month, subsidy_type, count(*) AS payments, \
               sum(amount) AS amount \
             FROM subsidy_payments GROUP BY grid_code, month, subsidy_type \
             ORDER BY grid_code, month, subsidy_type",
            &[
                ("grid_code", "网格代码", false),
                ("month", "发放月份", false),
                ("subsidy_type", "补贴类型", false),
                ("payments", "发放笔数", true),
                ("amount", "发放金额（元）", true),
            ],
        ),
        report(
            "deceased_still_paid",
            "死亡人员仍发放补贴核查表",
            "Subsidies paid after the recipient's death (a clue to verify).",
            Some("grid_code"),
            "SELECT grid_code, id_number, name, CAST(death_date AS VARCHAR) AS death_date, subsidy_type, \
               count(*) AS months, sum(amount) AS amount \
             FROM deceased_still_paid \
             GROUP BY grid_code, id_number, name, death_date, subsidy_type \
             ORDER BY grid_code, id_number, subsidy_type",
            &[
                ("grid_code", "网格代码", false),
                ("id_number", "身份证号", false),
                ("name", "姓名", false),
                ("death_date", "死亡日期", false),
                ("subsidy_type", "补贴类型", false),
                ("months", "死亡后发放月数", true),
                ("amount", "死亡后发放金额（元）", true),
            ],
        ),
        report(
            "disability_changes",
            "残疾人证变化核查表",
            "Disability certificates added, cancelled or re-graded since the last load, per grid (线索核查 over as_of).",
            Some("grid_code"),
            "SELECT grid_code, change, count(*) AS persons FROM disability_changes \
             GROUP BY grid_code, change ORDER BY grid_code, change",
            &[
                ("grid_code", "网格代码", false),
                ("change", "变化类型", false),
                ("persons", "人数", true),
            ],
        ),
        report(
            "enterprises_by_industry",
            "市场主体分行业统计表",
            "Operating enterprises per grid and industry, with their employees.",
            Some("grid_code"),
            "SELECT grid_code, industry, count(*) AS enterprises, sum(employees) AS employees \
             FROM enterprises WHERE status IN ('存续', '在业') \
             GROUP BY grid_code, industry ORDER BY grid_code, industry",
            &[
                ("grid_code", "网格代码", false),
                ("industry", "行业门类", false),
                ("enterprises", "市场主体数", true),
                ("employees", "从业人数", true),
            ],
        ),
        report(
            "inspections_and_rectifications",
            "安全生产检查及整改情况表",
            "Safety inspections per grid: failed, rectified, still open.",
            Some("grid_code"),
            "SELECT grid_code, count(*) AS inspections, \
               sum(CASE WHEN result <> '合格' THEN 1 ELSE 0 END) AS failed, \
               sum(CASE WHEN result <> '合格' AND rectification_status = '已整改' THEN 1 ELSE 0 END) AS rectified, \
               sum(CASE WHEN result <> '合格' AND rectification_status <> '已整改' THEN 1 ELSE 0 END) AS open \
             FROM safety_inspections GROUP BY grid_code ORDER BY grid_code",
            &[
                ("grid_code", "网格代码", false),
                ("inspections", "检查次数", true),
                ("failed", "不合格", true),
                ("rectified", "已整改", true),
                ("open", "未整改", true),
            ],
        ),
        report(
            "overdue_rectifications",
            "隐患整改逾期提醒表",
            "Open hazards whose rectification is past due (city, county and town users).",
            Some("grid_code"),
            "SELECT grid_code, enterprise_name, industry, CAST(inspected_on AS VARCHAR) AS inspected_on, \
               CAST(due_date AS VARCHAR) AS due_date, rectification_status \
             FROM open_hazards WHERE due_date < current_date ORDER BY grid_code, due_date",
            &[
                ("grid_code", "网格代码", false),
                ("enterprise_name", "企业名称", false),
                ("industry", "行业", false),
                ("inspected_on", "检查日期", false),
                ("due_date", "整改期限", false),
                ("rectification_status", "整改状态", false),
            ],
        ),
        report(
            "card_coverage",
            "电子社保卡覆盖情况表",
            "Living residents with and without an electronic social-security card, per village.",
            Some("village_code"),
            "SELECT p.village_code, count(*) AS residents, count(c.id_number) AS with_card, \
               count(*) - count(c.id_number) AS without_card \
             FROM persons p LEFT JOIN social_security_cards c ON c.id_number = p.id_number \
             WHERE p.is_alive GROUP BY p.village_code ORDER BY p.village_code",
            &[
                ("village_code", "村（社区）代码", false),
                ("residents", "在世人口", true),
                ("with_card", "已领卡", true),
                ("without_card", "未领卡", true),
            ],
        ),
        report(
            "vehicles_by_grid",
            "网格车辆统计表",
            "Registered vehicles and their owners per grid (person–vehicle association).",
            Some("grid_code"),
            "SELECT grid_code, vehicle_type, count(*) AS vehicles, count(DISTINCT owner_id_number) AS owners \
             FROM vehicles GROUP BY grid_code, vehicle_type ORDER BY grid_code, vehicle_type",
            &[
                ("grid_code", "网格代码", false),
                ("vehicle_type", "车辆类型", false),
                ("vehicles", "车辆数", true),
                ("owners", "车主人数", true),
            ],
        ),
        report(
            "farmland_and_agri_subsidies",
            "承包地及农业补贴统计表",
            "Contracted land per grid and kind, with the 2024 farmland subsidies paid.",
            Some("grid_code"),
            "SELECT f.grid_code, f.land_type, count(DISTINCT f.household_no) AS households, \
               round(sum(f.area_mu), 2) AS area_mu \
             FROM farmland f GROUP BY f.grid_code, f.land_type ORDER BY f.grid_code, f.land_type",
            &[
                ("grid_code", "网格代码", false),
                ("land_type", "地类", false),
                ("households", "承包户数", true),
                ("area_mu", "承包面积（亩）", true),
            ],
        ),
        report(
            "monitored_households",
            "防返贫监测户资产核验表",
            "低保 and 特困 households whose members own vehicles, lead enterprises or farm over ten mu (农户资产核验).",
            Some("town_code"),
            "SELECT town_code, household_no, members, vehicles, enterprises, farmland_mu \
             FROM farmer_asset_check ORDER BY town_code, household_no",
            &[
                ("town_code", "乡镇（街道）代码", false),
                ("household_no", "户号", false),
                ("members", "在世家庭成员数", true),
                ("vehicles", "名下车辆", true),
                ("enterprises", "任法定代表人企业", true),
                ("farmland_mu", "承包地（亩）", true),
            ],
        ),
        report(
            "elderly_allowances",
            "高龄津贴对象统计表",
            "Residents registered for the elderly allowance (高龄) per grid, living and deceased.",
            Some("grid_code"),
            "SELECT g.grid_code, count(*) AS registered, \
               sum(CASE WHEN p.is_alive THEN 1 ELSE 0 END) AS alive, \
               sum(CASE WHEN p.is_alive THEN 0 ELSE 1 END) AS deceased \
             FROM special_groups g JOIN persons p ON p.id_number = g.id_number \
             WHERE g.group_type = '高龄' AND g.status = '在册' \
             GROUP BY g.grid_code ORDER BY g.grid_code",
            &[
                ("grid_code", "网格代码", false),
                ("registered", "在册人数", true),
                ("alive", "在世", true),
                ("deceased", "已死亡（待核查）", true),
            ],
        ),
        report(
            "returned_list_rows",
            "部门名单数据返还统计表",
            "Rows of the province list matched to residents, per grid and department (数据返还 through link_persons).",
            Some("grid_code"),
            "SELECT p.grid_code, l.source_dept, count(*) AS rows_returned \
             FROM link_persons('dept_list') l JOIN persons p ON p.id_number = l.match_id_number \
             WHERE l.match_band = 'accept' \
             GROUP BY p.grid_code, l.source_dept ORDER BY p.grid_code, l.source_dept",
            &[
                ("grid_code", "网格代码", false),
                ("source_dept", "来源部门", false),
                ("rows_returned", "返还条数", true),
            ],
        ),
        report(
            "policy_gaps_by_grid",
            "政策找人核查表",
            "Per grid and policy: eligible residents not served, and served residents no longer eligible (policy_gaps).",
            Some("grid_code"),
            "SELECT grid_code, title, \
               sum(CASE WHEN gap = 'unserved' THEN 1 ELSE 0 END) AS unserved, \
               sum(CASE WHEN gap = 'ineligible' THEN 1 ELSE 0 END) AS ineligible \
             FROM policy_gaps GROUP BY grid_code, title ORDER BY grid_code, title",
            &[
                ("grid_code", "网格代码", false),
                ("title", "政策", false),
                ("unserved", "应享未享", true),
                ("ineligible", "享受但不再符合", true),
            ],
        ),
        report(
            "one_map",
            "一张图：村（社区）与企业",
            "Villages (filled by living residents) and operating enterprises with coordinates: --format geojson for map tools, svg for a picture.",
            Some("area_code"),
            "SELECT kind, code, name, lng, lat, measure, area_code FROM map_points \
             ORDER BY area_code, kind, code",
            &[
                ("kind", "类型", false),
                ("code", "代码", false),
                ("name", "名称", false),
                ("lng", "经度", false),
                ("lat", "纬度", false),
                ("measure", "度量（村：在世人口；企业：从业人数）", false),
                ("area_code", "所在区划代码", false),
            ],
        ),
    ]
}
