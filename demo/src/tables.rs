//! The layout of every demo dataset: columns, types, Chinese comments and
//! sensitivity classes. The Parquet schemas and the catalog entries are both
//! derived from these, so they cannot disagree.

use crate::sink::{ColSpec, Kind, Place, TableSpec};

const fn col(
    name: &'static str,
    kind: Kind,
    nullable: bool,
    comment: &'static str,
    class: Option<&'static str>,
) -> ColSpec {
    ColSpec {
        name,
        kind,
        nullable,
        comment,
        class,
    }
}

const ID: Option<&str> = Some("id_number");
const NAME: Option<&str> = Some("name");
const PHONE: Option<&str> = Some("phone");
const ADDRESS: Option<&str> = Some("address");
const HEALTH: Option<&str> = Some("health");
const BIRTH: Option<&str> = Some("birth_date");
const SEX: Option<&str> = Some("sex");

const GRID: ColSpec = col(
    "grid_code",
    Kind::Str,
    false,
    "所属网格代码（15位：村社区代码+3位网格序号）",
    None,
);

/// 区划树.
pub(crate) static AREAS: TableSpec = TableSpec {
    name: "areas",
    comment: "行政区划与网格树（市-县区-乡镇街道-村社区-网格）",
    place: Place::Public,
    cols: &[
        col("code", Kind::Str, false, "区划代码（12位，网格15位）", None),
        col("parent_code", Kind::Str, true, "上级区划代码，市为空", None),
        col(
            "level",
            Kind::Str,
            false,
            "层级：city 市、county 县区、town 乡镇街道、village 村社区、grid 网格",
            None,
        ),
        col("name", Kind::Str, false, "区划名称", None),
        col("lng", Kind::Float64, false, "中心点经度（示意）", None),
        col("lat", Kind::Float64, false, "中心点纬度（示意）", None),
    ],
};

/// 人口基础信息.
pub(crate) static PERSONS: TableSpec = TableSpec {
    name: "persons",
    comment: "人口基础信息（户籍人口，含已死亡未注销人员）",
    place: Place::Grid,
    cols: &[
        col(
            "id_number",
            Kind::Str,
            false,
            "公民身份号码（GB 11643，18位）",
            ID,
        ),
        col("name", Kind::Str, false, "姓名", NAME),
        col(
            "sex",
            Kind::Str,
            false,
            "性别：男/女，与身份号码第17位一致",
            SEX,
        ),
        col(
            "birth_date",
            Kind::Date,
            false,
            "出生日期，与身份号码第7-14位一致",
            BIRTH,
        ),
        col("ethnicity", Kind::Str, false, "民族", None),
        col("phone", Kind::Str, true, "手机号码", PHONE),
        col(
            "household_no",
            Kind::Str,
            false,
            "户号（网格代码+4位户序号）",
            Some("household"),
        ),
        col(
            "relation",
            Kind::Str,
            false,
            "与户主关系（GB/T 4761：02户主、10配偶、2x子、3x女、38儿媳、4x孙辈、5x父母）",
            None,
        ),
        col(
            "marital_status",
            Kind::Str,
            false,
            "婚姻状况：未婚/已婚/离婚/丧偶",
            None,
        ),
        col("address", Kind::Str, false, "户籍地址", ADDRESS),
        GRID,
        col(
            "village_code",
            Kind::Str,
            false,
            "所属村（社区）代码（12位）",
            None,
        ),
        col(
            "town_code",
            Kind::Str,
            false,
            "所属乡镇（街道）代码（12位）",
            None,
        ),
        col(
            "county_code",
            Kind::Str,
            false,
            "所属县市区代码（12位）",
            None,
        ),
        col("is_alive", Kind::Bool, false, "是否健在", None),
        col(
            "death_date",
            Kind::Date,
            true,
            "死亡日期，健在为空",
            Some("public"),
        ),
    ],
};

/// 户籍户.
pub(crate) static HOUSEHOLDS: TableSpec = TableSpec {
    name: "households",
    comment: "户籍户（每户一名户主）",
    place: Place::Grid,
    cols: &[
        col("household_no", Kind::Str, false, "户号", None),
        col("head_id_number", Kind::Str, false, "户主公民身份号码", ID),
        col("address", Kind::Str, false, "户籍地址", ADDRESS),
        col(
            "members",
            Kind::Int32,
            false,
            "户内人数（含已死亡未注销人员）",
            None,
        ),
        GRID,
    ],
};

/// 残疾证.
pub(crate) static DISABILITY_CERTS: TableSpec = TableSpec {
    name: "disability_certs",
    comment: "残疾人证（第二代，证号=身份号码+残疾类别+等级）",
    place: Place::Grid,
    cols: &[
        col("cert_no", Kind::Str, false, "残疾人证号（含身份号码）", ID),
        col("id_number", Kind::Str, false, "持证人公民身份号码", ID),
        col(
            "disability_type",
            Kind::Str,
            false,
            "残疾类别：视力/听力/言语/肢体/智力/精神/多重",
            HEALTH,
        ),
        col(
            "grade",
            Kind::Int32,
            false,
            "残疾等级：1-4级（1级最重）",
            HEALTH,
        ),
        col("issued_date", Kind::Date, false, "发证日期", Some("public")),
        GRID,
    ],
};

/// 特殊人群.
pub(crate) static SPECIAL_GROUPS: TableSpec = TableSpec {
    name: "special_groups",
    comment: "特殊人群认定（低保、特困、高龄、残疾、孤儿、优抚、留守老人儿童等，见 policy_rules）",
    place: Place::Grid,
    cols: &[
        col("id_number", Kind::Str, false, "公民身份号码", ID),
        col(
            "group_type",
            Kind::Str,
            false,
            "人群类别：低保/特困/高龄/重度残疾护理/困难残疾生活/孤儿/优抚/农村留守老人/… 与 policy_rules.group_type 一致",
            None,
        ),
        col("status", Kind::Str, false, "认定状态：在册/已退出", None),
        col(
            "since_date",
            Kind::Date,
            false,
            "纳入日期",
            Some("birth_date"),
        ),
        col(
            "end_date",
            Kind::Date,
            true,
            "退出日期，在册为空",
            Some("public"),
        ),
        GRID,
    ],
};

/// 补贴发放.
pub(crate) static SUBSIDY_PAYMENTS: TableSpec = TableSpec {
    name: "subsidy_payments",
    comment: "补贴按月发放记录（2023年1月至2024年6月；含死亡后仍发放的疑点）",
    place: Place::Grid,
    cols: &[
        col("payment_id", Kind::Int64, false, "发放流水号", None),
        col("id_number", Kind::Str, false, "领取人公民身份号码", ID),
        col(
            "subsidy_type",
            Kind::Str,
            false,
            "补贴项目：低保金/特困供养金/高龄津贴/重度残疾人护理补贴/困难残疾人生活补贴/优抚金",
            None,
        ),
        col(
            "month",
            Kind::Date,
            false,
            "发放月份（当月1日）",
            Some("public"),
        ),
        col(
            "amount",
            Kind::Money,
            false,
            "发放金额（元）",
            Some("health"),
        ),
        GRID,
    ],
};

/// 企业.
pub(crate) static ENTERPRISES: TableSpec = TableSpec {
    name: "enterprises",
    comment: "市场主体（企业、个体工商户、农民专业合作社）登记信息",
    place: Place::Grid,
    cols: &[
        col(
            "credit_code",
            Kind::Str,
            false,
            "统一社会信用代码（GB 32100；第3-8位为登记时区划代码，可能为已撤销代码）",
            None,
        ),
        col("name", Kind::Str, false, "市场主体名称", None),
        col(
            "org_type",
            Kind::Str,
            false,
            "主体类型：企业/个体工商户/农民专业合作社",
            None,
        ),
        col(
            "legal_rep_id",
            Kind::Str,
            false,
            "法定代表人（经营者）公民身份号码",
            ID,
        ),
        col("industry", Kind::Str, false, "国民经济行业门类", None),
        col("employees", Kind::Int32, false, "从业人数", None),
        col(
            "status",
            Kind::Str,
            false,
            "登记状态：存续/在业/吊销/注销",
            None,
        ),
        col(
            "established_date",
            Kind::Date,
            false,
            "成立日期",
            Some("public"),
        ),
        col("address", Kind::Str, false, "住所（经营场所）", None),
        col("lng", Kind::Float64, false, "经度（示意）", None),
        col("lat", Kind::Float64, false, "纬度（示意）", None),
        GRID,
    ],
};

/// 安全生产检查.
pub(crate) static SAFETY_INSPECTIONS: TableSpec = TableSpec {
    name: "safety_inspections",
    comment: "安全生产监管检查记录（检查-提醒-整改闭环）",
    place: Place::Grid,
    cols: &[
        col("inspection_id", Kind::Str, false, "检查记录编号", None),
        col(
            "credit_code",
            Kind::Str,
            false,
            "被检查单位统一社会信用代码",
            None,
        ),
        col("site_type", Kind::Str, false, "监管场所类别", None),
        col(
            "inspected_on",
            Kind::Date,
            false,
            "检查日期",
            Some("public"),
        ),
        col(
            "result",
            Kind::Str,
            false,
            "检查结果：合格/一般隐患/重大隐患",
            None,
        ),
        col(
            "rectification_status",
            Kind::Str,
            false,
            "整改状态：无需整改/整改中/已整改/逾期未整改",
            None,
        ),
        col(
            "due_date",
            Kind::Date,
            true,
            "整改期限，无隐患为空",
            Some("public"),
        ),
        GRID,
    ],
};

/// 车辆.
pub(crate) static VEHICLES: TableSpec = TableSpec {
    name: "vehicles",
    comment: "机动车登记信息（个人名下）",
    place: Place::Grid,
    cols: &[
        col(
            "plate_no",
            Kind::Str,
            false,
            "号牌号码（鲁F/鲁Y为烟台）",
            None,
        ),
        col(
            "owner_id_number",
            Kind::Str,
            false,
            "所有人公民身份号码",
            ID,
        ),
        col("vehicle_type", Kind::Str, false, "车辆类型", None),
        col("brand", Kind::Str, false, "品牌", None),
        col(
            "registered_on",
            Kind::Date,
            false,
            "初次登记日期",
            Some("public"),
        ),
        GRID,
    ],
};

/// 承包地.
pub(crate) static FARMLAND: TableSpec = TableSpec {
    name: "farmland",
    comment: "农村土地承包经营权（按户）",
    place: Place::Grid,
    cols: &[
        col("household_no", Kind::Str, false, "承包户户号", None),
        col(
            "contractor_id_number",
            Kind::Str,
            false,
            "承包方代表（户主）公民身份号码",
            ID,
        ),
        col("land_type", Kind::Str, false, "地类：耕地/园地/林地", None),
        col("crop", Kind::Str, false, "主要种植作物", None),
        col("area_mu", Kind::Float64, false, "承包面积（亩）", None),
        GRID,
    ],
};

/// 农业补贴.
pub(crate) static AGRI_SUBSIDIES: TableSpec = TableSpec {
    name: "agri_subsidies",
    comment: "农业补贴发放（按户按年）",
    place: Place::Grid,
    cols: &[
        col("household_no", Kind::Str, false, "户号", None),
        col(
            "payee_id_number",
            Kind::Str,
            false,
            "领取人（户主）公民身份号码",
            ID,
        ),
        col(
            "subsidy_type",
            Kind::Str,
            false,
            "补贴项目：耕地地力保护补贴/实际种粮农民一次性补贴/农机购置补贴",
            None,
        ),
        col(
            "area_mu",
            Kind::Float64,
            true,
            "补贴面积（亩），非按面积补贴为空",
            None,
        ),
        col(
            "amount",
            Kind::Money,
            false,
            "补贴金额（元）",
            Some("public"),
        ),
        col("year", Kind::Int32, false, "补贴年度", None),
        GRID,
    ],
};

/// 电子社保卡.
pub(crate) static SOCIAL_SECURITY_CARDS: TableSpec = TableSpec {
    name: "social_security_cards",
    comment: "电子社保卡签发记录（约七成居民已领）",
    place: Place::PersonKey,
    cols: &[
        col("id_number", Kind::Str, false, "持卡人公民身份号码", ID),
        col(
            "card_type",
            Kind::Str,
            false,
            "实体卡类型：第二代/第三代社会保障卡",
            None,
        ),
        col("channel", Kind::Str, false, "电子社保卡签发渠道", None),
        col("issued_on", Kind::Date, false, "签发日期", Some("public")),
    ],
};

/// 部门名单.
pub(crate) static DEPT_LIST: TableSpec = TableSpec {
    name: "dept_list",
    comment: "省级部门下发名单（待比对回流到乡镇网格；号码与姓名未清洗）",
    place: Place::PersonKey,
    cols: &[
        col("row_id", Kind::Int64, false, "名单行号", None),
        col(
            "id_number",
            Kind::Str,
            true,
            "公民身份号码（原样：含15位旧号、小写x、全角数字、空格、缺失）",
            ID,
        ),
        col(
            "name",
            Kind::Str,
            false,
            "姓名（原样：含错别字、繁体字）",
            NAME,
        ),
        col("sex", Kind::Str, true, "性别（原样，可缺失）", SEX),
        col(
            "birth_date",
            Kind::Date,
            true,
            "出生日期（原样：可缺失，偶有月日颠倒）",
            BIRTH,
        ),
        col("phone", Kind::Str, true, "联系电话", PHONE),
        col(
            "address",
            Kind::Str,
            true,
            "住址（原样：常省略省市，可缺失）",
            ADDRESS,
        ),
        col("source_dept", Kind::Str, false, "来源部门", None),
        col("item", Kind::Str, false, "事项", None),
        col("reported_on", Kind::Date, false, "下发日期", Some("public")),
    ],
};

/// Whom each row of the province list names, beside it for measuring
/// linkage (`resident_id` NULL: not registered here; `dirt`: how the row was
/// dirtied). Not in the catalog: no user queries the answer key.
pub(crate) static DEPT_LIST_TRUTH: TableSpec = TableSpec {
    name: "dept_list_truth",
    comment: "部门名单比对真值（仅用于评测，不入目录）",
    place: Place::Public,
    cols: &[
        col("row_id", Kind::Int64, false, "名单行号", None),
        col("resident_id", Kind::Str, true, "所指居民的公民身份号码", ID),
        col("dirt", Kind::Str, false, "脏数据种类（分号分隔）", None),
    ],
};

/// 家庭收入核对.
pub(crate) static HOUSEHOLD_INCOME: TableSpec = TableSpec {
    name: "household_income",
    comment: "家庭经济状况核对（上年度家庭月人均收入与当地低保标准）",
    place: Place::Grid,
    cols: &[
        col("household_no", Kind::Str, false, "户号", None),
        col("year", Kind::Int32, false, "核对年度", None),
        col(
            "per_capita_monthly",
            Kind::Money,
            false,
            "家庭月人均收入（元）",
            Some("income"),
        ),
        col(
            "dibao_line",
            Kind::Money,
            false,
            "当地月低保标准（元，城市/农村）",
            Some("public"),
        ),
        GRID,
    ],
};

/// 就业与养老保险.
pub(crate) static EMPLOYMENT: TableSpec = TableSpec {
    name: "employment",
    comment: "人社就业与养老保险状态（外出务工、登记失业、退休领取养老金及资格认证）",
    place: Place::Grid,
    cols: &[
        col("id_number", Kind::Str, false, "公民身份号码", ID),
        col(
            "status",
            Kind::Str,
            false,
            "状态：外出务工/登记失业/退休",
            None,
        ),
        col("since", Kind::Date, false, "状态起始日期", Some("public")),
        col(
            "last_certified",
            Kind::Date,
            true,
            "养老待遇领取资格最近认证日期（退休人员）",
            Some("public"),
        ),
        GRID,
    ],
};

/// 退役军人.
pub(crate) static VETERANS: TableSpec = TableSpec {
    name: "veterans",
    comment: "退役军人及优抚对象信息",
    place: Place::Grid,
    cols: &[
        col("id_number", Kind::Str, false, "公民身份号码", ID),
        col(
            "category",
            Kind::Str,
            false,
            "类别：退役士兵/伤残军人/烈士遗属",
            None,
        ),
        col(
            "discharged_on",
            Kind::Date,
            false,
            "退役（认定）日期",
            Some("public"),
        ),
        GRID,
    ],
};

/// 居住登记.
pub(crate) static RESIDENCE: TableSpec = TableSpec {
    name: "residence_registrations",
    comment: "居住登记（公安）：户籍人口现居住网格，与户籍网格不同即人户分离",
    place: Place::PersonKey,
    cols: &[
        col("id_number", Kind::Str, false, "公民身份号码", ID),
        col(
            "living_grid_code",
            Kind::Str,
            false,
            "现居住网格代码",
            Some("address"),
        ),
        col(
            "registered_on",
            Kind::Date,
            false,
            "登记日期",
            Some("public"),
        ),
    ],
};

/// The dated loads the demo keeps of datasets with snapshots, oldest first.
pub(crate) const LOADS: [&str; 2] = ["2024-05-31", "2024-06-30"];

/// Whether a table is kept as dated loads (a folder per load).
pub(crate) fn has_snapshots(spec: &TableSpec) -> bool {
    spec.name == DISABILITY_CERTS.name
}

/// What the generator planted for each policy rule, beside the city for
/// testing `policy_gaps` (not in the catalog).
pub(crate) static SCENARIO_TRUTH: TableSpec = TableSpec {
    name: "scenario_truth",
    comment: "场景真值（仅用于评测，不入目录）",
    place: Place::Public,
    cols: &[
        col("scenario", Kind::Str, false, "场景或规则名", None),
        col("gap", Kind::Str, false, "unserved/ineligible", None),
        col("id_number", Kind::Str, false, "公民身份号码", ID),
        col("grid_code", Kind::Str, false, "网格代码", None),
        col("reason", Kind::Str, false, "原因", None),
    ],
};

/// Every table, in the order they appear in the catalog.
pub(crate) static ALL: [&TableSpec; 17] = [
    &AREAS,
    &PERSONS,
    &HOUSEHOLDS,
    &DISABILITY_CERTS,
    &SPECIAL_GROUPS,
    &SUBSIDY_PAYMENTS,
    &ENTERPRISES,
    &SAFETY_INSPECTIONS,
    &VEHICLES,
    &FARMLAND,
    &AGRI_SUBSIDIES,
    &SOCIAL_SECURITY_CARDS,
    &DEPT_LIST,
    &HOUSEHOLD_INCOME,
    &EMPLOYMENT,
    &VETERANS,
    &RESIDENCE,
];
