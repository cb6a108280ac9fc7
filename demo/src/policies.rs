//! The demo city's policy rules (政策找人), twice: as catalog data (SQL the
//! engine runs) and as the generator's own reading of the same policy over
//! the people it makes. The generator enrols people by the second, makes
//! the mistakes real registers have (eligible people never enrolled, people
//! enrolled by mistake, deaths never reported, people who moved away), and
//! writes down what it did (`scenario_truth.parquet`), so a test can check
//! that the SQL finds exactly the planted gaps.

use crate::dates::{add_years, age_on};
use zhenjie_catalog::{Rule, RuleExit, RuleServed};

/// What the generator knows about one grid's people when it enrols them.
pub(crate) struct Facts<'a> {
    pub persons: &'a [crate::gen::Person],
    pub households: &'a [crate::gen::Household],
    pub rural: bool,
    pub today: i32,
    /// Disability certificate: (grade, issued day).
    pub cert: &'a [Option<(i32, i32)>],
    /// Per household: per-capita monthly income below the local line.
    pub low_income: &'a [bool],
    /// Per household: income under 1.3 × the line (where mistakes happen).
    pub near_low_income: &'a [bool],
    /// Employment status (外出务工/登记失业/退休).
    pub work: &'a [Option<&'static str>],
    pub veteran: &'a [bool],
    /// Groups each person is served by so far (`在册` rows written).
    pub served: &'a std::collections::HashMap<&'static str, Vec<bool>>,
}

impl Facts<'_> {
    fn age(&self, i: usize) -> i32 {
        age_on(self.persons[i].birth, self.today)
    }
    fn alive(&self, i: usize) -> bool {
        self.persons[i].death.is_none()
    }
    fn members(&self, i: usize) -> std::ops::Range<usize> {
        let h = &self.households[self.persons[i].household];
        h.first..h.first + h.len
    }
    fn is_child(&self, i: usize) -> bool {
        let r = self.persons[i].relation;
        (r.starts_with('2') || r.starts_with('3')) && r != "28" && r != "38"
    }
    fn is_parent(&self, i: usize) -> bool {
        let r = self.persons[i].relation;
        r == "02" || ("10".."13").contains(&r)
    }
    fn alone(&self, i: usize) -> bool {
        self.members(i).all(|o| o == i || !self.alive(o))
    }
    fn children(&self, i: usize) -> Vec<usize> {
        self.members(i).filter(|&c| self.is_child(c)).collect()
    }
    fn living_parents(&self, i: usize) -> Vec<usize> {
        self.members(i)
            .filter(|&o| self.alive(o) && self.is_parent(o))
            .collect()
    }
    fn low(&self, i: usize) -> bool {
        self.low_income[self.persons[i].household]
    }
    fn served_by(&self, i: usize, group: &str) -> bool {
        self.served.get(group).is_some_and(|v| v[i])
    }
    fn valid_cert(&self, i: usize, max_grade: i32) -> bool {
        self.cert[i]
            .is_some_and(|(g, issued)| g <= max_grade && issued > add_years(self.today, -10))
    }
}

/// A predicate of the generator's reading of a rule.
pub(crate) type Holds = Box<dyn Fn(&Facts, usize) -> bool + Send + Sync>;

/// One policy: the catalog rule and the generator's reading of it.
pub(crate) struct Policy {
    pub rule: Rule,
    /// The rule's group, as `special_groups.group_type` spells it.
    pub group: &'static str,
    /// Eligible, apart from being alive (the dead "would be" eligible: their
    /// enrolment is what leaks).
    pub eligible: Holds,
    /// Not eligible, but close enough to be enrolled by mistake.
    pub near: Holds,
    /// The generator's reading of each of the rule's exits, in order.
    pub exits: Vec<Holds>,
    /// Whether being alive is part of eligibility (all but burial aid).
    pub needs_alive: bool,
    /// Enrolment is decided for the whole household (低保).
    pub per_household: bool,
    /// Monthly payment, if the benefit is paid: (subsidy type, served only
    /// when paid in the reference month at this amount in cents, if fixed).
    pub pay: Option<&'static str>,
    /// Tier amount in yuan, for rules served by payments of one amount.
    pub tier_amount: Option<i64>,
}

const ALIVE: &str = "p.is_alive";
const RURAL: &str = "substr(p.village_code, 10, 3) >= '200'";
const CHILD: &str = "(substr(p.relation, 1, 1) IN ('2', '3') AND p.relation NOT IN ('28', '38'))";
const ALONE: &str = "NOT EXISTS (SELECT 1 FROM persons o WHERE o.household_no = p.household_no \
                     AND o.is_alive AND o.id_number <> p.id_number)";
const PARENT: &str = "(p.relation = '02' OR p.relation BETWEEN '10' AND '12')";
const LOW_INCOME: &str =
    "EXISTS (SELECT 1 FROM household_income h WHERE h.household_no = p.household_no \
                          AND h.per_capita_monthly < h.dibao_line)";
const ONE_CHILD: &str = "(SELECT count(*) FROM persons c WHERE c.household_no = p.household_no \
                         AND substr(c.relation, 1, 1) IN ('2', '3') AND c.relation NOT IN ('28', '38')) = 1";

fn age_at_least(n: i32) -> String {
    format!("p.birth_date <= CAST(reference_date() - INTERVAL '{n} years' AS DATE)")
}

fn age_under(n: i32) -> String {
    format!("p.birth_date > CAST(reference_date() - INTERVAL '{n} years' AS DATE)")
}

fn in_group(group: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM special_groups g WHERE g.id_number = p.id_number \
         AND g.group_type = '{group}' AND g.status = '在册')"
    )
}

fn cert(max_grade: i32) -> String {
    format!(
        "EXISTS (SELECT 1 FROM disability_certs d WHERE d.id_number = p.id_number AND d.grade <= {max_grade} \
         AND d.issued_date > CAST(reference_date() - INTERVAL '10 years' AS DATE))"
    )
}

fn work(status: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM employment e WHERE e.id_number = p.id_number AND e.status = '{status}')"
    )
}

fn all(parts: &[&str]) -> String {
    parts.join(" AND ")
}

struct Draft {
    name: &'static str,
    title: &'static str,
    group: &'static str,
    benefit: &'static str,
    basis: &'static str,
    eligible: String,
    served: (&'static str, String),
    exits: Vec<(String, String, Holds)>,
    class: Option<&'static str>,
}

fn dead() -> (String, String, Holds) {
    exit("已死亡", "NOT p.is_alive", |f, i| !f.alive(i))
}

fn otherwise(reason: &str) -> (String, String, Holds) {
    exit(reason, "true", |_, _| true)
}

fn exit(
    reason: &str,
    when: &str,
    holds: impl Fn(&Facts, usize) -> bool + Send + Sync + 'static,
) -> (String, String, Holds) {
    (reason.to_string(), when.to_string(), Box::new(holds))
}

fn group_served(group: &str) -> (&'static str, String) {
    (
        "special_groups",
        format!("s.group_type = '{group}' AND s.status = '在册'"),
    )
}

fn policy(d: Draft, eligible: Holds, near: Holds) -> Policy {
    let (exits_sql, exits): (Vec<RuleExit>, Vec<Holds>) = d
        .exits
        .into_iter()
        .map(|(reason, when, holds)| (RuleExit { reason, when }, holds))
        .unzip();
    Policy {
        rule: Rule {
            name: d.name.to_string(),
            title: d.title.to_string(),
            group: d.group.to_string(),
            benefit: d.benefit.to_string(),
            basis: d.basis.to_string(),
            effective_from: Some("2012-01-01".to_string()),
            effective_to: None,
            population: "persons".to_string(),
            eligible: d.eligible,
            served: RuleServed {
                dataset: d.served.0.to_string(),
                condition: d.served.1,
            },
            exits: exits_sql,
            class: d.class.map(str::to_string),
        },
        group: d.group,
        eligible,
        near,
        exits,
        needs_alive: true,
        per_household: false,
        pay: None,
        tier_amount: None,
    }
}

fn elderly(name: &'static str, title: &'static str, lo: i32, hi: Option<i32>, yuan: i64) -> Policy {
    let mut eligible = vec![ALIVE.to_string(), age_at_least(lo)];
    if let Some(h) = hi {
        eligible.push(age_under(h));
    }
    let mut exits = vec![dead()];
    exits.push(exit(
        &format!("未满{lo}周岁"),
        &age_under(lo),
        move |f, i| f.age(i) < lo,
    ));
    if hi.is_some() {
        exits.push(otherwise("年龄已进入更高档次"));
    }
    let mut p = policy(
        Draft {
            name,
            title,
            group: "高龄",
            benefit: "高龄津贴",
            basis: "山东省高龄津贴制度（80周岁以上老年人按年龄段按月发放）",
            eligible: all(&eligible.iter().map(String::as_str).collect::<Vec<_>>()),
            served: (
                "subsidy_payments",
                format!(
                    "s.subsidy_type = '高龄津贴' AND s.amount = {yuan} \
                     AND s.month > CAST(reference_date() - INTERVAL '1 month' AS DATE)"
                ),
            ),
            exits,
            class: None,
        },
        Box::new(move |f, i| f.age(i) >= lo && hi.is_none_or(|h| f.age(i) < h)),
        Box::new(move |f, i| (lo - 10..lo).contains(&f.age(i))),
    );
    p.pay = Some("高龄津贴");
    p.tier_amount = Some(yuan);
    p
}

/// Every rule of the demo city, in the order the generator enrols them
/// (rules that depend on another group's enrolment come after it).
pub(crate) fn all_policies() -> Vec<Policy> {
    let mut out = vec![
        elderly("elderly_80", "80-89周岁高龄津贴", 80, Some(90), 100),
        elderly("elderly_90", "90-99周岁高龄津贴", 90, Some(100), 200),
        elderly("elderly_100", "百岁老人长寿补贴", 100, None, 500),
    ];
    let mut dibao = policy(
        Draft {
            name: "dibao",
            title: "城乡最低生活保障",
            group: "低保",
            benefit: "低保金",
            basis: "《社会救助暂行办法》：家庭月人均收入低于当地低保标准",
            eligible: all(&[ALIVE, LOW_INCOME]),
            served: group_served("低保"),
            exits: vec![dead(), otherwise("家庭收入超过低保标准")],
            class: Some("income"),
        },
        Box::new(|f, i| f.low(i)),
        Box::new(|f, i| f.near_low_income[f.persons[i].household]),
    );
    dibao.per_household = true;
    dibao.pay = Some("低保金");
    out.push(dibao);
    let mut tekun = policy(
        Draft {
            name: "tekun",
            title: "特困人员救助供养",
            group: "特困",
            benefit: "特困供养金",
            basis: "《社会救助暂行办法》：60周岁以上、无劳动能力、无生活来源、无赡养人",
            eligible: all(&[ALIVE, &age_at_least(60), ALONE, LOW_INCOME]),
            served: group_served("特困"),
            exits: vec![dead(), otherwise("不再符合特困条件")],
            class: Some("income"),
        },
        Box::new(|f, i| f.age(i) >= 60 && f.alone(i) && f.low(i)),
        Box::new(|f, i| f.age(i) >= 60 && f.alone(i)),
    );
    tekun.pay = Some("特困供养金");
    out.push(tekun);
    let mut nursing = policy(
        Draft {
            name: "disability_nursing",
            title: "重度残疾人护理补贴",
            group: "重度残疾护理",
            benefit: "重度残疾人护理补贴",
            basis: "残疾人两项补贴制度：持有效期内一、二级残疾人证",
            eligible: all(&[ALIVE, &cert(2)]),
            served: group_served("重度残疾护理"),
            exits: vec![dead(), otherwise("残疾证过期或等级不符")],
            class: Some("health"),
        },
        Box::new(|f, i| f.valid_cert(i, 2)),
        Box::new(|f, i| f.cert[i].is_some()),
    );
    nursing.pay = Some("重度残疾人护理补贴");
    out.push(nursing);
    out.push(policy(
        Draft {
            name: "child_rehab",
            title: "残疾儿童康复救助",
            group: "残疾儿童康复",
            benefit: "康复救助",
            basis: "残疾儿童康复救助制度：0-6周岁持证残疾儿童",
            eligible: all(&[ALIVE, &age_under(7), &cert(4)]),
            served: group_served("残疾儿童康复"),
            exits: vec![
                dead(),
                exit("已满7周岁", &age_at_least(7), |f, i| f.age(i) >= 7),
                otherwise("残疾证过期"),
            ],
            class: Some("health"),
        },
        Box::new(|f, i| f.age(i) < 7 && f.valid_cert(i, 4)),
        Box::new(|f, i| (7..10).contains(&f.age(i)) && f.cert[i].is_some()),
    ));
    let orphan_where = format!(
        "{ALIVE} AND {} AND {CHILD} AND NOT EXISTS (SELECT 1 FROM persons o WHERE o.household_no = p.household_no \
         AND o.is_alive AND (o.relation = '02' OR o.relation BETWEEN '10' AND '12'))",
        age_under(18)
    );
    out.push(policy(
        Draft {
            name: "orphan",
            title: "孤儿基本生活保障",
            group: "孤儿",
            benefit: "孤儿基本生活费",
            basis: "孤儿基本生活保障制度：父母均已死亡的未满18周岁儿童",
            eligible: orphan_where,
            served: group_served("孤儿"),
            exits: vec![
                dead(),
                exit("已满18周岁", &age_at_least(18), |f, i| f.age(i) >= 18),
                otherwise("父母尚在"),
            ],
            class: None,
        },
        Box::new(|f, i| f.age(i) < 18 && f.is_child(i) && f.living_parents(i).is_empty()),
        Box::new(|_, _| false),
    ));
    let de_facto = format!(
        "{ALIVE} AND {} AND {CHILD} \
         AND EXISTS (SELECT 1 FROM persons o WHERE o.household_no = p.household_no AND NOT o.is_alive \
           AND (o.relation = '02' OR o.relation BETWEEN '10' AND '12')) \
         AND EXISTS (SELECT 1 FROM persons o JOIN disability_certs d ON d.id_number = o.id_number \
           WHERE o.household_no = p.household_no AND o.is_alive AND d.grade <= 2 \
           AND (o.relation = '02' OR o.relation BETWEEN '10' AND '12'))",
        age_under(18)
    );
    out.push(policy(
        Draft {
            name: "de_facto_orphan",
            title: "事实无人抚养儿童保障",
            group: "事实无人抚养儿童",
            benefit: "基本生活补贴",
            basis: "事实无人抚养儿童保障：父母一方死亡、另一方重度残疾的未满18周岁儿童",
            eligible: de_facto,
            served: group_served("事实无人抚养儿童"),
            exits: vec![
                dead(),
                exit("已满18周岁", &age_at_least(18), |f, i| f.age(i) >= 18),
                otherwise("不再符合条件"),
            ],
            class: Some("health"),
        },
        Box::new(|f, i| {
            f.age(i) < 18
                && f.is_child(i)
                && f.members(i).any(|o| f.is_parent(o) && !f.alive(o))
                && f.members(i)
                    .any(|o| f.is_parent(o) && f.alive(o) && f.cert[o].is_some_and(|(g, _)| g <= 2))
        }),
        Box::new(|_, _| false),
    ));
    let mut veterans = policy(
        Draft {
            name: "veterans",
            title: "优抚对象抚恤补助",
            group: "优抚",
            benefit: "优抚金",
            basis: "《军人抚恤优待条例》",
            eligible: all(&[
                ALIVE,
                "EXISTS (SELECT 1 FROM veterans v WHERE v.id_number = p.id_number)",
            ]),
            served: group_served("优抚"),
            exits: vec![dead(), otherwise("非优抚对象")],
            class: None,
        },
        Box::new(|f, i| f.veteran[i]),
        Box::new(|f, i| f.persons[i].male && f.age(i) >= 55),
    );
    veterans.pay = Some("优抚金");
    out.push(veterans);
    out.push(policy(
        Draft {
            name: "rural_veteran_elderly",
            title: "农村籍退役士兵老年生活补助",
            group: "农村退役士兵老年补助",
            benefit: "老年生活补助",
            basis: "农村籍退役士兵老年生活补助：农村户籍、60周岁以上",
            eligible: all(&[
                ALIVE,
                RURAL,
                &age_at_least(60),
                "EXISTS (SELECT 1 FROM veterans v WHERE v.id_number = p.id_number)",
            ]),
            served: group_served("农村退役士兵老年补助"),
            exits: vec![
                dead(),
                exit("未满60周岁", &age_under(60), |f, i| f.age(i) < 60),
                otherwise("非农村籍退役士兵"),
            ],
            class: None,
        },
        Box::new(|f, i| f.rural && f.age(i) >= 60 && f.veteran[i]),
        Box::new(|f, i| f.veteran[i] && (55..60).contains(&f.age(i))),
    ));
    out.push(policy(
        Draft {
            name: "left_behind_elderly",
            title: "农村留守老年人关爱服务",
            group: "农村留守老人",
            benefit: "关爱探访",
            basis: "农村留守老年人关爱服务：农村户籍、65周岁以上、独居",
            eligible: all(&[ALIVE, RURAL, &age_at_least(65), ALONE]),
            served: group_served("农村留守老人"),
            exits: vec![dead(), otherwise("非独居或未满65周岁")],
            class: None,
        },
        Box::new(|f, i| f.rural && f.age(i) >= 65 && f.alone(i)),
        Box::new(|f, i| f.rural && f.age(i) >= 65),
    ));
    let left_children = format!(
        "{ALIVE} AND {RURAL} AND {} AND {CHILD} \
         AND EXISTS (SELECT 1 FROM persons o JOIN employment e ON e.id_number = o.id_number \
           WHERE o.household_no = p.household_no AND o.is_alive AND e.status = '外出务工' \
           AND (o.relation = '02' OR o.relation BETWEEN '10' AND '12')) \
         AND NOT EXISTS (SELECT 1 FROM persons o LEFT JOIN employment e \
           ON e.id_number = o.id_number AND e.status = '外出务工' \
           WHERE o.household_no = p.household_no AND o.is_alive AND e.id_number IS NULL \
           AND (o.relation = '02' OR o.relation BETWEEN '10' AND '12'))",
        age_under(16)
    );
    out.push(policy(
        Draft {
            name: "left_behind_children",
            title: "农村留守儿童关爱保护",
            group: "农村留守儿童",
            benefit: "关爱保护",
            basis: "农村留守儿童关爱保护：父母均外出务工的未满16周岁农村儿童",
            eligible: left_children,
            served: group_served("农村留守儿童"),
            exits: vec![
                dead(),
                exit("已满16周岁", &age_at_least(16), |f, i| f.age(i) >= 16),
                otherwise("父母不再均外出务工"),
            ],
            class: None,
        },
        Box::new(|f, i| {
            let parents = f.living_parents(i);
            f.rural
                && f.age(i) < 16
                && f.is_child(i)
                && !parents.is_empty()
                && parents.iter().all(|&o| f.work[o] == Some("外出务工"))
        }),
        Box::new(|f, i| f.rural && f.age(i) < 16 && f.is_child(i)),
    ));
    out.push(policy(
        Draft {
            name: "unemployed",
            title: "登记失业人员就业援助",
            group: "就业援助",
            benefit: "就业援助",
            basis: "《就业服务与就业管理规定》：法定劳动年龄内登记失业人员",
            eligible: all(&[ALIVE, &age_at_least(16), &age_under(60), &work("登记失业")]),
            served: group_served("就业援助"),
            exits: vec![
                dead(),
                exit("超过法定劳动年龄", &age_at_least(60), |f, i| {
                    f.age(i) >= 60
                }),
                otherwise("已就业或未登记失业"),
            ],
            class: None,
        },
        Box::new(|f, i| (16..60).contains(&f.age(i)) && f.work[i] == Some("登记失业")),
        Box::new(|f, i| (16..60).contains(&f.age(i)) && f.work[i].is_none()),
    ));
    out.push(policy(
        Draft {
            name: "family_planning_reward",
            title: "农村部分计划生育家庭奖励扶助",
            group: "计生奖扶",
            benefit: "计生奖励扶助金",
            basis: "农村部分计划生育家庭奖励扶助：农村户籍、60周岁以上、只有一个子女的父母",
            eligible: all(&[ALIVE, RURAL, PARENT, &age_at_least(60), ONE_CHILD]),
            served: group_served("计生奖扶"),
            exits: vec![dead(), otherwise("不符合奖扶条件")],
            class: None,
        },
        Box::new(|f, i| f.rural && f.is_parent(i) && f.age(i) >= 60 && f.children(i).len() == 1),
        Box::new(|f, i| f.rural && f.is_parent(i) && f.age(i) >= 60),
    ));
    let special = format!(
        "{ALIVE} AND {PARENT} AND {} AND {ONE_CHILD} \
         AND EXISTS (SELECT 1 FROM persons c LEFT JOIN disability_certs d \
           ON d.id_number = c.id_number AND d.grade <= 3 \
           WHERE c.household_no = p.household_no \
           AND substr(c.relation, 1, 1) IN ('2', '3') AND c.relation NOT IN ('28', '38') \
           AND (NOT c.is_alive OR d.id_number IS NOT NULL))",
        age_at_least(49)
    );
    out.push(policy(
        Draft {
            name: "family_planning_special",
            title: "计划生育特殊家庭特别扶助",
            group: "计生特扶",
            benefit: "特别扶助金",
            basis: "计划生育家庭特别扶助：49周岁以上、独生子女死亡或三级以上残疾的父母",
            eligible: special,
            served: group_served("计生特扶"),
            exits: vec![dead(), otherwise("不符合特扶条件")],
            class: Some("health"),
        },
        Box::new(|f, i| {
            let kids = f.children(i);
            f.is_parent(i)
                && f.age(i) >= 49
                && kids.len() == 1
                && (!f.alive(kids[0]) || f.cert[kids[0]].is_some_and(|(g, _)| g <= 3))
        }),
        Box::new(|f, i| f.is_parent(i) && f.age(i) >= 49 && f.children(i).len() == 1),
    ));
    let mut pension = policy(
        Draft {
            name: "pension_certification",
            title: "养老待遇领取资格认证",
            group: "养老待遇资格认证",
            benefit: "养老金（资格认证有效）",
            basis: "社会保险待遇领取资格认证：领取养老金人员每12个月认证一次",
            eligible: all(&[ALIVE, &work("退休")]),
            served: (
                "employment",
                "s.status = '退休' AND s.last_certified > CAST(reference_date() - INTERVAL '12 months' AS DATE)"
                    .to_string(),
            ),
            exits: vec![dead(), otherwise("未在领取养老金人员名单")],
            class: None,
        },
        Box::new(|f, i| f.work[i] == Some("退休")),
        Box::new(|_, _| false),
    );
    pension.needs_alive = true;
    out.push(pension);
    let mut living = policy(
        Draft {
            name: "disability_living",
            title: "困难残疾人生活补贴",
            group: "困难残疾生活",
            benefit: "困难残疾人生活补贴",
            basis: "残疾人两项补贴制度：低保家庭中持有效期内残疾人证的残疾人",
            eligible: all(&[ALIVE, &cert(4), &in_group("低保")]),
            served: group_served("困难残疾生活"),
            exits: vec![dead(), otherwise("残疾证过期或已退出低保")],
            class: Some("health"),
        },
        Box::new(|f, i| f.valid_cert(i, 4) && f.served_by(i, "低保")),
        Box::new(|f, i| f.cert[i].is_some()),
    );
    living.pay = Some("困难残疾人生活补贴");
    out.push(living);
    out.push(policy(
        Draft {
            name: "elderly_care",
            title: "经济困难老年人养老服务补贴",
            group: "养老服务补贴",
            benefit: "养老服务补贴",
            basis: "经济困难老年人养老服务补贴：60周岁以上低保、特困老年人",
            eligible: format!(
                "{ALIVE} AND {} AND ({} OR {})",
                age_at_least(60),
                in_group("低保"),
                in_group("特困")
            ),
            served: group_served("养老服务补贴"),
            exits: vec![
                dead(),
                exit("未满60周岁", &age_under(60), |f, i| f.age(i) < 60),
                otherwise("已退出低保或特困"),
            ],
            class: Some("income"),
        },
        Box::new(|f, i| f.age(i) >= 60 && (f.served_by(i, "低保") || f.served_by(i, "特困"))),
        Box::new(|f, i| f.age(i) >= 60 && f.low(i)),
    ));
    out.push(policy(
        Draft {
            name: "medical_aid",
            title: "困难群众医疗救助资助参保",
            group: "医疗救助",
            benefit: "资助参加居民医保",
            basis: "医疗救助制度：低保对象、特困人员、孤儿全额或定额资助参保",
            eligible: format!(
                "{ALIVE} AND ({} OR {} OR {})",
                in_group("低保"),
                in_group("特困"),
                in_group("孤儿")
            ),
            served: group_served("医疗救助"),
            exits: vec![dead(), otherwise("已退出低保、特困或孤儿保障")],
            class: Some("income"),
        },
        Box::new(|f, i| f.served_by(i, "低保") || f.served_by(i, "特困") || f.served_by(i, "孤儿")),
        Box::new(|f, i| f.near_low_income[f.persons[i].household]),
    ));
    let mut burial = policy(
        Draft {
            name: "burial_aid",
            title: "惠民殡葬补贴",
            group: "殡葬补贴",
            benefit: "基本殡葬服务费用减免",
            basis: "惠民殡葬政策：户籍居民去世后一年内申领",
            eligible: "NOT p.is_alive AND p.death_date > CAST(reference_date() - INTERVAL '1 year' AS DATE)"
                .to_string(),
            served: ("special_groups", "s.group_type = '殡葬补贴'".to_string()),
            exits: vec![
                exit("人员未死亡", "p.is_alive", |f, i| f.alive(i)),
                otherwise("去世已超过一年"),
            ],
            class: None,
        },
        Box::new(|f, i| f.persons[i].death.is_some_and(|d| d > add_years(f.today, -1))),
        Box::new(|f, i| f.age(i) >= 85),
    );
    burial.needs_alive = false;
    out.push(burial);
    out
}

/// The catalog's rules.
pub(crate) fn demo_rules() -> Vec<Rule> {
    all_policies().into_iter().map(|p| p.rule).collect()
}
