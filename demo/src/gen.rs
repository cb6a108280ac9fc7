//! Grid-by-grid generation of residents, households and everything hanging off
//! them (certificates, benefits, payments, enterprises, inspections, vehicles,
//! land, cards, the province list). One grid is built in memory, written to all
//! sinks, and dropped, so memory does not grow with the city.

use crate::areas::{GridPlan, COUNTIES, ISLAND_TOWN, MERGED_COUNTY};
use crate::codes::{self, IdAlloc, OrgAlloc, PlateAlloc, OUTSIDE_CODES, RETIRED_CODES};
use crate::dates::{
    add_years, age_on, civil_from_days, days_from_civil, month_index, month_start, today,
};
use crate::names::{self, one, Weighted};
use crate::sink::{od, os, Sink, V};
use crate::tables;
use crate::DemoError;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The open output files, one per generated table (areas are written apart).
pub(crate) struct Sinks {
    pub persons: Sink,
    pub households: Sink,
    /// Disability certificates: today's load, and last month's.
    pub disability: Sink,
    pub disability_previous: Sink,
    pub residence: Sink,
    pub special: Sink,
    pub payments: Sink,
    pub enterprises: Sink,
    pub inspections: Sink,
    pub vehicles: Sink,
    pub farmland: Sink,
    pub agri: Sink,
    pub cards: Sink,
    pub dept: Sink,
    pub income: Sink,
    pub employment: Sink,
    pub veterans: Sink,
    /// Beside the list, not in the catalog: whom each row names.
    pub truth: Sink,
    /// Beside the city, not in the catalog: the planted policy gaps.
    pub scenario_truth: Sink,
}

impl Sinks {
    /// Opens all temp files in `dir`. On failure the files opened so far are
    /// listed in `created` so the caller can remove them.
    pub(crate) fn create(
        dir: &Path,
        created: &mut Vec<std::path::PathBuf>,
    ) -> Result<Self, DemoError> {
        let mut open_in =
            |dir: &Path, spec: &'static crate::sink::TableSpec| -> Result<Sink, DemoError> {
                std::fs::create_dir_all(dir).map_err(|source| DemoError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
                created.push(dir.join(format!(".{}.tmp", spec.file_name())));
                Sink::create(dir, spec)
            };
        let loads = dir.join(tables::DISABILITY_CERTS.name);
        let disability = open_in(&loads.join(tables::LOADS[1]), &tables::DISABILITY_CERTS)?;
        let disability_previous =
            open_in(&loads.join(tables::LOADS[0]), &tables::DISABILITY_CERTS)?;
        let mut open = |spec: &'static crate::sink::TableSpec| open_in(dir, spec);
        Ok(Sinks {
            persons: open(&tables::PERSONS)?,
            households: open(&tables::HOUSEHOLDS)?,
            disability,
            disability_previous,
            residence: open(&tables::RESIDENCE)?,
            special: open(&tables::SPECIAL_GROUPS)?,
            payments: open(&tables::SUBSIDY_PAYMENTS)?,
            enterprises: open(&tables::ENTERPRISES)?,
            inspections: open(&tables::SAFETY_INSPECTIONS)?,
            vehicles: open(&tables::VEHICLES)?,
            farmland: open(&tables::FARMLAND)?,
            agri: open(&tables::AGRI_SUBSIDIES)?,
            cards: open(&tables::SOCIAL_SECURITY_CARDS)?,
            dept: open(&tables::DEPT_LIST)?,
            income: open(&tables::HOUSEHOLD_INCOME)?,
            employment: open(&tables::EMPLOYMENT)?,
            veterans: open(&tables::VETERANS)?,
            truth: open(&tables::DEPT_LIST_TRUTH)?,
            scenario_truth: open(&tables::SCENARIO_TRUTH)?,
        })
    }

    /// All sinks, for finishing and renaming.
    pub(crate) fn all_mut(&mut self) -> [&mut Sink; 19] {
        [
            &mut self.persons,
            &mut self.households,
            &mut self.disability,
            &mut self.disability_previous,
            &mut self.residence,
            &mut self.special,
            &mut self.payments,
            &mut self.enterprises,
            &mut self.inspections,
            &mut self.vehicles,
            &mut self.farmland,
            &mut self.agri,
            &mut self.cards,
            &mut self.dept,
            &mut self.income,
            &mut self.employment,
            &mut self.veterans,
            &mut self.truth,
            &mut self.scenario_truth,
        ]
    }
}

/// One generated resident.
pub(crate) struct Person {
    pub(crate) id: String,
    name: String,
    pub(crate) male: bool,
    pub(crate) birth: i32,
    age: i32,
    phone: Option<String>,
    pub(crate) relation: &'static str,
    marital: &'static str,
    pub(crate) death: Option<i32>,
    ethnicity: &'static str,
    pub(crate) household: usize,
}

/// One generated household: its members are `first..first + len`.
pub(crate) struct Household {
    no: String,
    address: String,
    pub(crate) first: usize,
    pub(crate) len: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sur {
    Head,
    Spouse,
    Child,
    Own,
}

struct Member {
    rel: &'static str,
    male: bool,
    age: i32,
    marital: &'static str,
    sur: Sur,
}

struct DeptRow {
    id: Option<String>,
    name: String,
    sex: Option<&'static str>,
    birth: Option<i32>,
    phone: Option<String>,
    address: Option<String>,
    dept: &'static str,
    item: &'static str,
    reported_on: i32,
    /// The resident the row names (`None`: not registered here).
    truth: Option<String>,
    /// How the row was dirtied, `;`-separated (empty: clean).
    dirt: String,
}

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182",
    "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
];

const DISABILITY_TYPES: &[(&str, u32)] = &[
    ("视力", 12),
    ("听力", 12),
    ("言语", 2),
    ("肢体", 45),
    ("智力", 9),
    ("精神", 12),
    ("多重", 8),
];

const DEPT_ITEMS: &[(&str, &str)] = &[
    ("省卫生健康委员会", "健康体检异常结果"),
    ("省卫生健康委员会", "慢性病随访名单"),
    ("省人力资源和社会保障厅", "失业保险金领取人员"),
    ("省医疗保障局", "城乡居民医保未参保人员"),
    ("省公安厅", "驾驶证逾期未审验人员"),
    ("省民政厅", "跨部门低保核对疑点"),
    ("省教育厅", "学生资助对象"),
    ("省退役军人事务厅", "退役军人信息核对"),
];

/// Per household: income under the line, and under 1.3 × it; per person:
/// employment status, veteran, last pension certification.
type DepartmentFacts = (
    Vec<bool>,
    Vec<bool>,
    Vec<Option<&'static str>>,
    Vec<bool>,
    Vec<Option<i32>>,
);

/// The state of a generation run.
pub(crate) struct Gen {
    rng: ChaCha8Rng,
    ids: IdAlloc,
    orgs: OrgAlloc,
    plates: PlateAlloc,
    surnames: Weighted<&'static str>,
    disability_types: Weighted<&'static str>,
    county_id_index: Vec<usize>,
    /// The output files.
    pub sinks: Sinks,
    dept: Vec<DeptRow>,
    /// Subsidies paid under retired codes, held until the grids pass their
    /// place in code order (every file stays sorted by its area code).
    retired_agri: Vec<RetiredAgri>,
    /// Share of living residents put on the province list.
    list_share: f64,
    next_payment: i64,
    next_inspection: u64,
    today: i32,
    first_month: i32,
    last_month: i32,
    /// The policy rules people are enrolled by.
    policies: Vec<crate::policies::Policy>,
    /// Grids generated so far (where people registered later may live).
    grids_seen: Vec<String>,
}

/// A farmland subsidy paid before 2020 under the grid's retired code.
struct RetiredAgri {
    code: String,
    household_no: String,
    payee: String,
    area: f64,
    cents: i64,
    year: i32,
}

fn pick<T: Copy>(rng: &mut impl Rng, pairs: &[(T, u32)]) -> T {
    let total: u32 = pairs.iter().map(|p| p.1).sum();
    let mut x = rng.random_range(0..total.max(1));
    for &(item, w) in pairs {
        if x < w {
            return item;
        }
        x -= w;
    }
    pairs[pairs.len() - 1].0
}

fn day_between(rng: &mut impl Rng, lo: i32, hi: i32) -> i32 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

fn yuan(y: f64) -> i64 {
    (y * 100.0).round() as i64
}

impl Gen {
    /// A generator writing to `sinks`, with its own seeded random stream.
    pub(crate) fn new(mut rng: ChaCha8Rng, sinks: Sinks, list_share: f64) -> Self {
        let county_codes: Vec<&'static str> = COUNTIES.iter().map(|c| c.code6).collect();
        let salt = rng.random();
        let ids = IdAlloc::new(&county_codes, salt);
        let county_id_index = (0..COUNTIES.len()).collect();
        let orgs = OrgAlloc::new(&mut rng);
        let plates = PlateAlloc::new(&mut rng);
        Gen {
            rng,
            ids,
            orgs,
            plates,
            surnames: Weighted::new(names::SURNAMES),
            disability_types: Weighted::new(DISABILITY_TYPES),
            county_id_index,
            sinks,
            dept: Vec::new(),
            retired_agri: Vec::new(),
            list_share: list_share.clamp(0.0, 1.0),
            next_payment: 1,
            next_inspection: 1,
            today: today(),
            first_month: 2023 * 12,
            last_month: 2024 * 12 + 5,
            policies: crate::policies::all_policies(),
            grids_seen: Vec::new(),
        }
    }

    fn kids(&mut self, parent_age: i32, n: usize) -> Vec<Member> {
        let mut kids: Vec<(bool, i32)> = (0..n)
            .map(|_| {
                let age = (parent_age - self.rng.random_range(22..=34)).max(0);
                (self.rng.random_bool(0.51), age)
            })
            .collect();
        kids.sort_by_key(|k| std::cmp::Reverse(k.1));
        let only = kids.len() == 1;
        let (mut sons, mut daughters) = (0, 0);
        kids.into_iter()
            .map(|(male, age)| {
                let rel = if only {
                    if male {
                        "21"
                    } else {
                        "31"
                    }
                } else if male {
                    sons += 1;
                    ["22", "23", "24", "25", "26", "29"][(sons - 1).min(5)]
                } else {
                    daughters += 1;
                    ["32", "33", "34", "35", "36", "39"][(daughters - 1).min(5)]
                };
                let marital = if age >= 22 {
                    pick(&mut self.rng, &[("未婚", 70), ("已婚", 25), ("离婚", 5)])
                } else {
                    "未婚"
                };
                Member {
                    rel,
                    male,
                    age,
                    marital,
                    sur: Sur::Child,
                }
            })
            .collect()
    }

    fn spouse(&mut self, head_male: bool, head_age: i32) -> Member {
        let d = if head_male { -2 } else { 2 } + self.rng.random_range(-3..=3);
        Member {
            rel: "10",
            male: !head_male,
            age: (head_age + d).clamp(20, 104),
            marital: "已婚",
            sur: Sur::Spouse,
        }
    }

    /// The members of one household, head first.
    fn household_template(&mut self, rural: bool) -> Vec<Member> {
        let weights: [u32; 7] = if rural {
            [14, 24, 22, 8, 18, 8, 6]
        } else {
            [8, 14, 34, 10, 12, 14, 8]
        };
        let kinds: Vec<(usize, u32)> = weights.iter().copied().enumerate().collect();
        let kind = pick(&mut self.rng, &kinds);
        let head = |rel_male: bool, age: i32, marital: &'static str| Member {
            rel: "02",
            male: rel_male,
            age: age.clamp(16, 104),
            marital,
            sur: Sur::Head,
        };
        let mut m = Vec::with_capacity(6);
        match kind {
            // An old person living alone.
            0 => {
                let age = 65 + (33.0 * self.rng.random::<f64>().powf(1.6)) as i32;
                let male = self.rng.random_bool(0.35);
                let marital = pick(
                    &mut self.rng,
                    &[("丧偶", 70), ("离婚", 8), ("未婚", 7), ("已婚", 15)],
                );
                m.push(head(male, age, marital));
            }
            // An old couple, sometimes with an unmarried middle-aged child.
            1 => {
                let age = 60 + (32.0 * self.rng.random::<f64>().powf(1.3)) as i32;
                let male = self.rng.random_bool(0.9);
                m.push(head(male, age, "已婚"));
                let s = self.spouse(male, age);
                m.push(s);
                if self.rng.random_bool(0.1) {
                    let child_male = self.rng.random_bool(0.6);
                    let child_age = (age - self.rng.random_range(24..=32)).max(18);
                    m.push(Member {
                        rel: if child_male { "21" } else { "31" },
                        male: child_male,
                        age: child_age,
                        marital: pick(&mut self.rng, &[("未婚", 60), ("离婚", 40)]),
                        sur: Sur::Child,
                    });
                }
            }
            // Parents with children.
            2 => {
                let age = self.rng.random_range(28..=55);
                let male = self.rng.random_bool(0.85);
                m.push(head(male, age, "已婚"));
                let s = self.spouse(male, age);
                m.push(s);
                let n = pick(&mut self.rng, &[(1, 55), (2, 38), (3, 7)]);
                let kids = self.kids(age, n);
                m.extend(kids);
            }
            // A couple without children at home.
            3 => {
                let age = self.rng.random_range(23..=60);
                let male = self.rng.random_bool(0.8);
                m.push(head(male, age, "已婚"));
                let s = self.spouse(male, age);
                m.push(s);
            }
            // Three generations.
            4 => {
                let age = self.rng.random_range(35..=60);
                let male = self.rng.random_bool(0.85);
                let married = self.rng.random_bool(0.85);
                m.push(head(
                    male,
                    age,
                    if married {
                        "已婚"
                    } else {
                        pick(&mut self.rng, &[("离婚", 60), ("丧偶", 40)])
                    },
                ));
                if married {
                    let s = self.spouse(male, age);
                    m.push(s);
                }
                let both = self.rng.random_bool(0.4);
                let father_age = (age + self.rng.random_range(22..=34)).min(104);
                let mother_age = (father_age - self.rng.random_range(0..=4)).min(104);
                let parent_marital = if both { "已婚" } else { "丧偶" };
                if both || self.rng.random_bool(0.35) {
                    m.push(Member {
                        rel: "51",
                        male: true,
                        age: father_age,
                        marital: parent_marital,
                        sur: Sur::Head,
                    });
                }
                if both || m.last().map(|x| x.rel) != Some("51") {
                    m.push(Member {
                        rel: "52",
                        male: false,
                        age: mother_age,
                        marital: parent_marital,
                        sur: Sur::Own,
                    });
                }
                let n = pick(&mut self.rng, &[(1, 60), (2, 40)]);
                let mut kids = self.kids(age, n);
                let married_son = kids
                    .iter()
                    .position(|k| k.male && k.age >= 25 && k.rel.starts_with('2'));
                let mut extra = Vec::new();
                if let Some(i) = married_son {
                    if age >= 50 && self.rng.random_bool(0.4) {
                        kids[i].marital = "已婚";
                        let son_age = kids[i].age;
                        extra.push(Member {
                            rel: "38",
                            male: false,
                            age: (son_age + self.rng.random_range(-3..=2)).max(20),
                            marital: "已婚",
                            sur: Sur::Own,
                        });
                        let gc_age = son_age - self.rng.random_range(22..=32);
                        if gc_age >= 0 {
                            let gm = self.rng.random_bool(0.51);
                            extra.push(Member {
                                rel: if gm { "41" } else { "42" },
                                male: gm,
                                age: gc_age,
                                marital: "未婚",
                                sur: Sur::Child,
                            });
                        }
                    }
                }
                m.extend(kids);
                m.extend(extra);
            }
            // A single adult.
            5 => {
                let age = self.rng.random_range(20..=60);
                let male = self.rng.random_bool(0.55);
                let marital = pick(&mut self.rng, &[("未婚", 70), ("离婚", 30)]);
                m.push(head(male, age, marital));
            }
            // A single parent.
            _ => {
                let age = self.rng.random_range(30..=55);
                let male = self.rng.random_bool(0.4);
                let marital = pick(&mut self.rng, &[("离婚", 70), ("丧偶", 30)]);
                m.push(head(male, age, marital));
                let n = pick(&mut self.rng, &[(1, 70), (2, 30)]);
                let kids = self.kids(age, n);
                m.extend(kids);
            }
        }
        m
    }

    fn birth_for_age(&mut self, age: i32) -> i32 {
        let (ty, _, _) = crate::dates::TODAY;
        let lo = days_from_civil(ty - age - 1, 7, 1);
        let hi = days_from_civil(ty - age, 6, 30).min(self.today);
        day_between(&mut self.rng, lo, hi).max(codes::min_birth())
    }

    fn phone(&mut self, age: i32) -> Option<String> {
        let p_none = match age {
            ..=11 => 1.0,
            12..=15 => 0.5,
            80.. => 0.4,
            _ => 0.05,
        };
        if self.rng.random_bool(p_none) {
            return None;
        }
        let prefix = one(&mut self.rng, MOBILE_PREFIXES);
        Some(format!(
            "{prefix}{:08}",
            self.rng.random_range(0..100_000_000u32)
        ))
    }

    /// Address code index for a resident of county `ci`: mostly their own
    /// county, ~1% another county, ~1% a retired code.
    fn id_code_index(&mut self, ci: usize) -> usize {
        let r: f64 = self.rng.random();
        if r < 0.98 {
            self.county_id_index[ci]
        } else if r < 0.99 {
            self.rng.random_range(0..COUNTIES.len())
        } else {
            let code = *one(&mut self.rng, RETIRED_CODES);
            self.ids
                .code_index(code)
                .unwrap_or(self.county_id_index[ci])
        }
    }

    fn make_people(&mut self, g: &GridPlan) -> Result<(Vec<Person>, Vec<Household>), DemoError> {
        let rural = !g.community;
        let mut persons: Vec<Person> = Vec::with_capacity(g.persons + 8);
        let mut households: Vec<Household> = Vec::with_capacity(g.persons / 2 + 1);
        let window_start = days_from_civil(2022, 7, 1);
        while persons.len() < g.persons {
            let mut members = self.household_template(rural);
            members.truncate(g.persons - persons.len());
            let hidx = households.len();
            let no = format!("{}{:04}", g.code, hidx + 1);
            let address = if g.community {
                format!(
                    "{}{}{}号{}单元{}{:02}室",
                    g.address_prefix,
                    g.roads[self.rng.random_range(0..2)],
                    self.rng.random_range(1..=160),
                    self.rng.random_range(1..=6),
                    self.rng.random_range(1..=18),
                    self.rng.random_range(1..=4)
                )
            } else {
                format!("{}{}号", g.address_prefix, self.rng.random_range(1..=420))
            };
            let head_s = self.surnames.pick(&mut self.rng);
            let spouse_s = self.surnames.pick(&mut self.rng);
            let head_male = members[0].male;
            let has_male_spouse = members.iter().any(|x| x.rel == "10" && x.male);
            let child_s = if head_male || !has_male_spouse {
                head_s
            } else {
                spouse_s
            };
            let first = persons.len();
            for mem in &members {
                let surname = match mem.sur {
                    Sur::Head => head_s,
                    Sur::Spouse => spouse_s,
                    Sur::Child => child_s,
                    Sur::Own => self.surnames.pick(&mut self.rng),
                };
                let birth = self.birth_for_age(mem.age);
                let code_index = self.id_code_index(g.county);
                let (id, birth) = self.ids.issue(code_index, birth, mem.male)?;
                let age = age_on(birth, self.today);
                let year = civil_from_days(birth).0;
                let name = format!(
                    "{surname}{}",
                    names::given_name(&mut self.rng, mem.male, year)
                );
                let p_death = match age {
                    ..=59 => 0.003,
                    60..=79 => 0.02,
                    _ => 0.08,
                };
                let death = if birth < self.today && self.rng.random_bool(p_death) {
                    Some(day_between(
                        &mut self.rng,
                        birth.max(window_start),
                        self.today - 1,
                    ))
                } else {
                    None
                };
                let ethnicity = if surname == "朴" && self.rng.random_bool(0.8) {
                    "朝鲜族"
                } else {
                    pick(
                        &mut self.rng,
                        &[
                            ("汉族", 9930),
                            ("回族", 30),
                            ("满族", 20),
                            ("朝鲜族", 10),
                            ("蒙古族", 5),
                            ("壮族", 5),
                        ],
                    )
                };
                let phone = self.phone(age);
                persons.push(Person {
                    id,
                    name,
                    male: mem.male,
                    birth,
                    age,
                    phone,
                    relation: mem.rel,
                    marital: mem.marital,
                    death,
                    ethnicity,
                    household: hidx,
                });
            }
            households.push(Household {
                no,
                address,
                first,
                len: persons.len() - first,
            });
        }
        Ok((persons, households))
    }

    /// Generates one grid and writes it to every sink.
    pub(crate) fn grid(&mut self, g: &GridPlan) -> Result<(), DemoError> {
        self.flush_retired(Some(&g.code))?;
        let (mut persons, households) = self.make_people(g)?;
        let forced = self.plant_orphans(&mut persons, &households);
        for p in &persons {
            let h = &households[p.household];
            self.sinks.persons.push(&[
                V::S(&p.id),
                V::S(&p.name),
                V::S(if p.male { "男" } else { "女" }),
                V::D(p.birth),
                V::S(p.ethnicity),
                os(p.phone.as_deref()),
                V::S(&h.no),
                V::S(p.relation),
                V::S(p.marital),
                V::S(&h.address),
                V::S(&g.code),
                V::S(&g.village_code),
                V::S(&g.town_code),
                V::S(&g.county_code),
                V::B(p.death.is_none()),
                od(p.death),
            ])?;
        }
        for h in &households {
            self.sinks.households.push(&[
                V::S(&h.no),
                V::S(&persons[h.first].id),
                V::S(&h.address),
                V::I(h.len as i32),
                V::S(&g.code),
            ])?;
        }
        let disabilities = self.disabilities(g, &persons, &forced)?;
        self.benefits(g, &persons, &households, &disabilities)?;
        self.enterprises(g, &persons)?;
        self.vehicles(g, &persons)?;
        if !g.community {
            self.farmland(g, &persons, &households)?;
        }
        self.cards(g, &persons)?;
        self.residence(g, &persons)?;
        self.province_list(&persons, &households)?;
        Ok(())
    }

    fn disabilities(
        &mut self,
        g: &GridPlan,
        persons: &[Person],
        forced: &[Option<i32>],
    ) -> Result<Vec<Option<(i32, i32)>>, DemoError> {
        let mut out = Vec::with_capacity(persons.len());
        for (p, forced) in persons.iter().zip(forced) {
            let rate = match p.age {
                ..=17 => 0.005,
                18..=59 => 0.018,
                60..=79 => 0.04,
                _ => 0.08,
            };
            if forced.is_none() && !self.rng.random_bool(rate) {
                out.push(None);
                continue;
            }
            let kind = self.disability_types.pick(&mut self.rng);
            let type_no = DISABILITY_TYPES
                .iter()
                .position(|t| t.0 == kind)
                .unwrap_or(3) as i32
                + 1;
            let grade = forced
                .unwrap_or_else(|| pick(&mut self.rng, &[(1, 12), (2, 22), (3, 30), (4, 36)]));
            // Most certificates are within their ten years; some are not
            // renewed (the "certificate expired" clue).
            let recent = forced.is_some() || self.rng.random_bool(0.85);
            let lo = if recent {
                add_years(self.today, -10) + 1
            } else {
                days_from_civil(2008, 1, 1)
            }
            .max(p.birth + 30);
            let hi = p.death.unwrap_or(self.today);
            let issued = day_between(&mut self.rng, lo, hi.max(lo));
            // Last month's load differs a little: certificates issued since,
            // grades re-assessed, certificates cancelled this month.
            let previous_day = days_from_civil(2024, 5, 31);
            let u: f64 = if forced.is_some() {
                1.0
            } else {
                self.rng.random()
            };
            let (issued, previous_grade, current) = if u < 0.01 {
                let issued = day_between(&mut self.rng, previous_day + 1, self.today);
                (issued, None, true)
            } else if u < 0.02 {
                let other = if grade == 4 { 3 } else { grade + 1 };
                (issued, Some(other), true)
            } else if u < 0.025 && issued <= previous_day {
                (issued, Some(grade), false)
            } else {
                (issued, (issued <= previous_day).then_some(grade), true)
            };
            let change = match (previous_grade, current) {
                (None, true) => Some(("added", "新增")),
                (Some(_), false) => Some(("cancelled", "注销")),
                (Some(old), true) if old != grade => Some(("regraded", "等级变化")),
                _ => None,
            };
            if let Some((gap, label)) = change {
                self.scenario_truth("disability_changes", gap, &p.id, &g.code, label)?;
            }
            if let Some(old) = previous_grade {
                self.sinks.disability_previous.push(&[
                    V::S(&format!("{}{type_no}{old}", p.id)),
                    V::S(&p.id),
                    V::S(kind),
                    V::I(old),
                    V::D(issued),
                    V::S(&g.code),
                ])?;
            }
            if !current {
                out.push(None);
                continue;
            }
            let cert_no = format!("{}{type_no}{grade}", p.id);
            self.sinks.disability.push(&[
                V::S(&cert_no),
                V::S(&p.id),
                V::S(kind),
                V::I(grade),
                V::D(issued),
                V::S(&g.code),
            ])?;
            out.push(Some((grade, issued)));
        }
        Ok(out)
    }

    /// Records one planted case of a scenario.
    fn scenario_truth(
        &mut self,
        scenario: &str,
        gap: &str,
        id: &str,
        grid: &str,
        reason: &str,
    ) -> Result<(), DemoError> {
        self.sinks.scenario_truth.push(&[
            V::S(scenario),
            V::S(gap),
            V::S(id),
            V::S(grid),
            V::S(reason),
        ])
    }

    /// Residence registrations: most residents live in their own grid; a
    /// few live in another grid of the city (人户分离), the clue the grid
    /// they are registered in follows up.
    fn residence(&mut self, g: &GridPlan, persons: &[Person]) -> Result<(), DemoError> {
        for p in persons {
            if p.death.is_some() || p.age < 16 || !self.rng.random_bool(0.3) {
                continue;
            }
            let moved = !self.grids_seen.is_empty() && self.rng.random_bool(0.08);
            let living = if moved {
                self.grids_seen[self.rng.random_range(0..self.grids_seen.len())].clone()
            } else {
                g.code.clone()
            };
            let on = day_between(&mut self.rng, days_from_civil(2016, 1, 1), self.today);
            self.sinks
                .residence
                .push(&[V::S(&p.id), V::S(&living), V::D(on)])?;
            if living != g.code {
                self.scenario_truth("moved_out_of_grid", "moved", &p.id, &g.code, &living)?;
            }
        }
        self.grids_seen.push(g.code.clone());
        Ok(())
    }

    /// Plants children left without parents: in a few households with a
    /// child under 18, the parents die (orphans), or one dies and the other
    /// is severely disabled (de-facto orphans). Returns the disability
    /// grade forced on the surviving parents.
    fn plant_orphans(
        &mut self,
        persons: &mut [Person],
        households: &[Household],
    ) -> Vec<Option<i32>> {
        let mut forced = vec![None; persons.len()];
        let window_start = days_from_civil(2022, 7, 1);
        let is_parent = |r: &str| r == "02" || ("10".."13").contains(&r);
        for h in households {
            let members = h.first..h.first + h.len;
            let has_child = members.clone().any(|i| {
                let r = persons[i].relation;
                (r.starts_with('2') || r.starts_with('3'))
                    && r != "28"
                    && r != "38"
                    && persons[i].age < 18
            });
            if !has_child || !self.rng.random_bool(0.02) {
                continue;
            }
            let parents: Vec<usize> = members
                .filter(|&i| is_parent(persons[i].relation) && persons[i].death.is_none())
                .collect();
            let Some((&first, rest)) = parents.split_first() else {
                continue;
            };
            let die = |rng: &mut ChaCha8Rng| day_between(rng, window_start, today() - 1);
            persons[first].death = Some(die(&mut self.rng));
            if self.rng.random_bool(0.4) {
                for &o in rest {
                    persons[o].death = Some(die(&mut self.rng));
                }
            } else {
                for &o in rest {
                    forced[o] = Some(if self.rng.random_bool(0.5) { 1 } else { 2 });
                }
            }
        }
        forced
    }

    /// The facts policies read that come from other departments (income,
    /// employment, veterans), written to their datasets.
    fn department_facts(
        &mut self,
        g: &GridPlan,
        persons: &[Person],
        households: &[Household],
    ) -> Result<DepartmentFacts, DemoError> {
        let rural = !g.community;
        let line = if rural { 700.0 } else { 950.0 };
        let mut low = Vec::with_capacity(households.len());
        let mut near = Vec::with_capacity(households.len());
        for h in households {
            let u: f64 = self.rng.random();
            let share = if u < 0.035 {
                self.rng.random_range(0.3..0.98)
            } else if u < 0.06 {
                self.rng.random_range(1.0..1.3)
            } else {
                self.rng.random_range(1.3..6.0)
            };
            let income = yuan(line * share);
            low.push(income < yuan(line));
            near.push(income < yuan(line * 1.3));
            self.sinks.income.push(&[
                V::S(&h.no),
                V::I(2023),
                V::M(income),
                V::M(yuan(line)),
                V::S(&g.code),
            ])?;
        }
        let mut work = Vec::with_capacity(persons.len());
        let mut veteran = Vec::with_capacity(persons.len());
        let mut certified_on = Vec::with_capacity(persons.len());
        let is_parent = |r: &str| r == "02" || ("10".."13").contains(&r);
        for p in persons {
            let retire_age = if p.male { 60 } else { 55 };
            let status = if p.age >= retire_age {
                self.rng
                    .random_bool(if rural { 0.35 } else { 0.85 })
                    .then_some("退休")
            } else if (16..60).contains(&p.age) {
                let away = if !rural {
                    0.03
                } else if is_parent(p.relation) && p.age <= 50 {
                    0.45
                } else {
                    0.2
                };
                let u: f64 = self.rng.random();
                if u < away {
                    Some("外出务工")
                } else if u < away + 0.02 {
                    Some("登记失业")
                } else {
                    None
                }
            } else {
                None
            };
            let mut certified = None;
            if let Some(status) = status {
                let since = if status == "退休" {
                    add_years(p.birth, retire_age)
                } else {
                    day_between(&mut self.rng, days_from_civil(2015, 1, 1), self.today)
                };
                certified = (status == "退休").then(|| {
                    let recent = self
                        .rng
                        .random_bool(if p.death.is_none() { 0.85 } else { 0.5 });
                    if recent {
                        day_between(&mut self.rng, self.today - 360, self.today - 1)
                    } else {
                        day_between(&mut self.rng, self.today - 900, self.today - 370)
                    }
                });
                self.sinks.employment.push(&[
                    V::S(&p.id),
                    V::S(status),
                    V::D(since.min(self.today)),
                    od(certified),
                    V::S(&g.code),
                ])?;
            }
            work.push(status);
            certified_on.push(certified);
            let is_veteran =
                p.age >= 22 && self.rng.random_bool(if p.male { 0.025 } else { 0.002 });
            if is_veteran {
                let category = pick(
                    &mut self.rng,
                    &[("退役士兵", 90), ("伤残军人", 7), ("烈士遗属", 3)],
                );
                let discharged = add_years(p.birth, self.rng.random_range(20..=24)).min(self.today);
                self.sinks.veterans.push(&[
                    V::S(&p.id),
                    V::S(category),
                    V::D(discharged),
                    V::S(&g.code),
                ])?;
            }
            veteran.push(is_veteran);
        }
        Ok((low, near, work, veteran, certified_on))
    }

    /// Enrols people by every policy rule, as registers do — most of the
    /// eligible, a few by mistake, the dead until someone reports them — and
    /// writes the special groups, their payments and the planted gaps.
    fn benefits(
        &mut self,
        g: &GridPlan,
        persons: &[Person],
        households: &[Household],
        disabilities: &[Option<(i32, i32)>],
    ) -> Result<(), DemoError> {
        use crate::policies::Facts;
        use zhenjie_catalog::Rule;
        let (low, near, work, veteran, certified) =
            self.department_facts(g, persons, households)?;
        let policies = std::mem::take(&mut self.policies);
        let mut served: std::collections::HashMap<&'static str, Vec<bool>> = Default::default();
        let mut rows: Vec<(&'static str, usize, &'static str, i32, Option<i32>)> = Vec::new();
        let mut pays: Vec<(usize, &'static str, i64, i32, i32)> = Vec::new();
        let mut still_paid: Vec<(usize, &'static str)> = Vec::new();
        let mut truth: Vec<(String, &'static str, String, String)> = Vec::new();
        let min_since = days_from_civil(2012, 1, 1);
        for policy in &policies {
            let group = policy.group;
            let mut flags = vec![false; persons.len()];
            let mut household_draw: Vec<Option<f64>> = vec![None; households.len()];
            let facts = Facts {
                persons,
                households,
                rural: !g.community,
                today: self.today,
                cert: disabilities,
                low_income: &low,
                near_low_income: &near,
                work: &work,
                veteran: &veteran,
                served: &served,
            };
            let pension = policy.rule.served.dataset == "employment";
            for (i, p) in persons.iter().enumerate() {
                let eligible = (policy.eligible)(&facts, i);
                let alive = p.death.is_none();
                let u = if policy.per_household {
                    *household_draw[p.household].get_or_insert_with(|| self.rng.random())
                } else {
                    self.rng.random()
                };
                let is_served = if pension {
                    // Served: certified within twelve months (written with
                    // the employment facts).
                    false
                } else {
                    let enrolled = if eligible {
                        u < 0.9
                    } else {
                        alive && u < 0.01 && (policy.near)(&facts, i)
                    };
                    if !enrolled {
                        false
                    } else {
                        let end = p.death.unwrap_or(self.today);
                        let since = if policy.needs_alive {
                            day_between(
                                &mut self.rng,
                                min_since.max(p.birth),
                                (end - 30).max(min_since),
                            )
                        } else {
                            end
                        };
                        let (active, exit, leak) = if !policy.needs_alive {
                            (true, None, 0)
                        } else if let Some(death) = p.death {
                            if self.rng.random_bool(0.6) {
                                (true, None, self.rng.random_range(1..=6))
                            } else {
                                (false, Some(death.max(since)), 0)
                            }
                        } else if eligible && self.rng.random_bool(0.05) {
                            (
                                false,
                                Some(day_between(&mut self.rng, since, self.today)),
                                0,
                            )
                        } else {
                            (true, None, 0)
                        };
                        rows.push((
                            group,
                            i,
                            if active { "在册" } else { "已退出" },
                            since,
                            exit,
                        ));
                        let mut paid_now = false;
                        if let Some(kind) = policy.pay {
                            let amount = match (kind, policy.tier_amount) {
                                (_, Some(y)) => Some(yuan(y as f64)),
                                ("低保金", _) => {
                                    (i == households[p.household].first).then(|| {
                                        let per_head = if g.community {
                                            self.rng.random_range(300..=900)
                                        } else {
                                            self.rng.random_range(200..=700)
                                        };
                                        yuan((per_head * households[p.household].len as i32) as f64)
                                    })
                                }
                                ("特困供养金", _) => {
                                    Some(yuan(self.rng.random_range(1100..=1400) as f64))
                                }
                                ("重度残疾人护理补贴", _) => {
                                    Some(yuan(if disabilities[i].is_some_and(|(gr, _)| gr == 1) {
                                        160.0
                                    } else {
                                        120.0
                                    }))
                                }
                                ("优抚金", _) => {
                                    Some(yuan(self.rng.random_range(1500..=2600) as f64))
                                }
                                _ => Some(yuan(100.0)),
                            };
                            if let Some(cents) = amount {
                                let first = month_index(since).max(self.first_month);
                                let mut last = self.last_month;
                                if let Some(e) = exit {
                                    last = last.min(month_index(e));
                                }
                                if let Some(d) = p.death {
                                    last = last.min(month_index(d) + leak);
                                }
                                if first <= last {
                                    if let Some(d) = p.death {
                                        if month_start(last) > d {
                                            still_paid.push((i, kind));
                                        }
                                    }
                                    pays.push((i, kind, cents, first, last));
                                    paid_now = last == self.last_month;
                                }
                            }
                        }
                        if policy.tier_amount.is_some() {
                            paid_now
                        } else {
                            active
                        }
                    }
                };
                flags[i] = is_served;
            }
            if pension {
                // Read back what department_facts wrote: certified recently.
                let year_ago = add_years(self.today, -1);
                for (i, flag) in flags.iter_mut().enumerate() {
                    *flag = work[i] == Some("退休") && certified[i].is_some_and(|c| c > year_ago);
                }
            }
            for (i, p) in persons.iter().enumerate() {
                let eligible =
                    (policy.eligible)(&facts, i) && (!policy.needs_alive || p.death.is_none());
                if eligible && !flags[i] {
                    truth.push((
                        policy.rule.name.clone(),
                        "unserved",
                        p.id.clone(),
                        Rule::UNSERVED.to_string(),
                    ));
                } else if flags[i] && !eligible {
                    let reason = policy
                        .exits
                        .iter()
                        .zip(&policy.rule.exits)
                        .find(|(holds, _)| holds(&facts, i))
                        .map(|(_, e)| e.reason.clone())
                        .unwrap_or_else(|| Rule::NO_LONGER_ELIGIBLE.to_string());
                    truth.push((policy.rule.name.clone(), "ineligible", p.id.clone(), reason));
                }
            }
            if !pension && policy.tier_amount.is_none() {
                served.insert(group, flags);
            }
        }
        // People who moved away, still on a group's register.
        if self.rng.random_bool(0.3) {
            let movable: Vec<&crate::policies::Policy> = policies
                .iter()
                .filter(|p| {
                    p.needs_alive
                        && p.tier_amount.is_none()
                        && p.rule.served.dataset == "special_groups"
                })
                .collect();
            let policy = movable[self.rng.random_range(0..movable.len())];
            let age = self.rng.random_range(20..80);
            let male = self.rng.random_bool(0.5);
            let birth = self.birth_for_age(age);
            let code_index = self.id_code_index(g.county);
            let (id, _) = self.ids.issue(code_index, birth, male)?;
            let group = policy.group;
            let since = day_between(&mut self.rng, min_since, self.today - 30);
            self.sinks.special.push(&[
                V::S(&id),
                V::S(group),
                V::S("在册"),
                V::D(since),
                V::Null,
                V::S(&g.code),
            ])?;
            truth.push((
                policy.rule.name.clone(),
                "ineligible",
                id,
                Rule::NOT_REGISTERED.to_string(),
            ));
        }
        self.policies = policies;
        for (group, i, status, since, exit) in rows {
            self.sinks.special.push(&[
                V::S(&persons[i].id),
                V::S(group),
                V::S(status),
                V::D(since),
                od(exit),
                V::S(&g.code),
            ])?;
        }
        for (i, kind, cents, first, last) in pays {
            for m in first..=last {
                let id = self.next_payment;
                self.next_payment += 1;
                self.sinks.payments.push(&[
                    V::L(id),
                    V::S(&persons[i].id),
                    V::S(kind),
                    V::D(month_start(m)),
                    V::M(cents),
                    V::S(&g.code),
                ])?;
            }
        }
        still_paid.sort_unstable();
        still_paid.dedup();
        for (i, kind) in still_paid {
            self.scenario_truth("deceased_still_paid", "paid", &persons[i].id, &g.code, kind)?;
        }
        for (rule, gap, id, reason) in truth {
            self.sinks.scenario_truth.push(&[
                V::S(&rule),
                V::S(gap),
                V::S(&id),
                V::S(&g.code),
                V::S(&reason),
            ])?;
        }
        Ok(())
    }

    fn enterprises(&mut self, g: &GridPlan, persons: &[Person]) -> Result<(), DemoError> {
        let county = &COUNTIES[g.county];
        let candidates: Vec<usize> = persons
            .iter()
            .enumerate()
            .filter(|(_, p)| (20..=75).contains(&p.age))
            .map(|(i, _)| i)
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        let rate = if g.community { 0.08 } else { 0.045 };
        let n = (candidates.len() as f64 * rate * self.rng.random_range(0.6..1.4)).round() as usize;
        for _ in 0..n {
            let rep = &persons[*one(&mut self.rng, &candidates)];
            let kind = if g.community {
                pick(&mut self.rng, &[('1', 1090), ('2', 900), ('3', 10)])
            } else {
                pick(&mut self.rng, &[('1', 45), ('2', 45), ('3', 10)])
            };
            let years_ago = 29.0 * self.rng.random::<f64>().powi(2);
            let established =
                (self.today - (years_ago * 365.25) as i32 - self.rng.random_range(0..30))
                    .max(days_from_civil(1995, 1, 1));
            let modern = established >= days_from_civil(2015, 10, 1);
            let org = self.orgs.issue(modern)?;
            let admin6 = match county.code6 {
                "370614" if established < days_from_civil(2020, 6, 1) => {
                    if self.rng.random_bool(0.9) {
                        "370684"
                    } else {
                        "370634"
                    }
                }
                "370676" if established < days_from_civil(2021, 1, 1) => "370672",
                c => c,
            };
            let credit = codes::credit_code(kind, admin6, &org)?;
            let industry = match kind {
                '2' => pick(
                    &mut self.rng,
                    &[
                        ("批发和零售业", 45),
                        ("住宿和餐饮业", 30),
                        ("居民服务、修理和其他服务业", 20),
                        ("制造业", 5),
                    ],
                ),
                '3' => "农、林、牧、渔业",
                _ => pick(
                    &mut self.rng,
                    &[
                        ("制造业", 25),
                        ("批发和零售业", 25),
                        ("建筑业", 10),
                        ("交通运输、仓储和邮政业", 8),
                        ("信息传输、软件和信息技术服务业", 6),
                        ("租赁和商务服务业", 10),
                        ("房地产业", 4),
                        ("住宿和餐饮业", 6),
                        ("农、林、牧、渔业", if g.community { 2 } else { 10 }),
                    ],
                ),
            };
            let trade = *one(&mut self.rng, names::TRADE_NAMES);
            let name = match kind {
                '2' => {
                    let shop = match industry {
                        "批发和零售业" => *one(
                            &mut self.rng,
                            &["超市", "便利店", "五金店", "水果店", "烟酒店", "建材商店"],
                        ),
                        "住宿和餐饮业" => *one(
                            &mut self.rng,
                            &["饭店", "小吃店", "水饺馆", "烧烤店", "快餐店", "海鲜酒楼"],
                        ),
                        "制造业" => *one(&mut self.rng, &["面粉加工坊", "豆腐坊", "木器加工厂"]),
                        _ => *one(
                            &mut self.rng,
                            &["理发店", "洗车行", "家电维修部", "家政服务部", "裁缝店"],
                        ),
                    };
                    if self.rng.random_bool(0.4) {
                        let s: String = rep.name.chars().take(1).collect();
                        format!("{}{s}记{shop}", county.name)
                    } else {
                        format!("{}{trade}{shop}", county.name)
                    }
                }
                '3' => {
                    let product = if county.orchards {
                        *one(
                            &mut self.rng,
                            &["苹果种植", "大樱桃种植", "葡萄种植", "果品", "农机服务"],
                        )
                    } else {
                        *one(
                            &mut self.rng,
                            &["蔬菜种植", "海参养殖", "粮食种植", "畜禽养殖", "农机服务"],
                        )
                    };
                    format!(
                        "{}{}{trade}{product}专业合作社",
                        county.name,
                        g.village_name
                            .trim_end_matches("社区")
                            .trim_end_matches('村')
                    )
                }
                _ => {
                    let business = match industry {
                        "制造业" => *one(
                            &mut self.rng,
                            &[
                                "机械制造",
                                "食品",
                                "塑料制品",
                                "电子科技",
                                "五金制品",
                                "化工",
                                "汽车零部件",
                                "水产食品",
                            ],
                        ),
                        "批发和零售业" => *one(
                            &mut self.rng,
                            &["商贸", "贸易", "石油销售", "医药连锁", "果品批发"],
                        ),
                        "建筑业" => *one(
                            &mut self.rng,
                            &["建筑工程", "建设工程", "装饰工程", "市政工程"],
                        ),
                        "交通运输、仓储和邮政业" => {
                            *one(&mut self.rng, &["物流", "运输", "冷链物流", "仓储"])
                        }
                        "信息传输、软件和信息技术服务业" => {
                            *one(&mut self.rng, &["网络科技", "信息技术", "软件"])
                        }
                        "租赁和商务服务业" => *one(
                            &mut self.rng,
                            &["企业管理咨询", "广告", "人力资源", "会展服务"],
                        ),
                        "房地产业" => *one(&mut self.rng, &["房地产开发", "物业管理"]),
                        "住宿和餐饮业" => *one(&mut self.rng, &["餐饮管理", "酒店管理"]),
                        _ => *one(&mut self.rng, &["农业科技", "果业", "水产养殖", "生态农业"]),
                    };
                    if self.rng.random_bool(0.6) {
                        format!("烟台市{}{trade}{business}有限公司", county.name)
                    } else {
                        format!("烟台{trade}{business}有限公司")
                    }
                }
            };
            let org_type = match kind {
                '1' => "企业",
                '2' => "个体工商户",
                _ => "农民专业合作社",
            };
            let employees = match kind {
                '2' => self.rng.random_range(1..=5),
                '3' => self.rng.random_range(5..=60),
                _ if self.rng.random_bool(0.01) => self.rng.random_range(300..=3000),
                _ => 1 + (self.rng.random::<f64>() * 5.3).exp() as i32,
            };
            let status = pick(
                &mut self.rng,
                &[("存续", 55), ("在业", 25), ("注销", 13), ("吊销", 7)],
            );
            let address = if g.community {
                format!(
                    "{}{}{}号",
                    g.address_prefix,
                    g.roads[self.rng.random_range(0..2)],
                    self.rng.random_range(1..=300)
                )
            } else {
                format!("{}{}号", g.address_prefix, self.rng.random_range(1..=420))
            };
            let lng = ((g.center.0 + self.rng.random_range(-0.002..0.002)) * 1e5).round() / 1e5;
            let lat = ((g.center.1 + self.rng.random_range(-0.002..0.002)) * 1e5).round() / 1e5;
            self.sinks.enterprises.push(&[
                V::S(&credit),
                V::S(&name),
                V::S(org_type),
                V::S(&rep.id),
                V::S(industry),
                V::I(employees),
                V::S(status),
                V::D(established),
                V::S(&address),
                V::F(lng),
                V::F(lat),
                V::S(&g.code),
            ])?;
            if matches!(status, "存续" | "在业") {
                self.inspections(g, &credit, industry, established)?;
            }
        }
        Ok(())
    }

    fn inspections(
        &mut self,
        g: &GridPlan,
        credit: &str,
        industry: &str,
        established: i32,
    ) -> Result<(), DemoError> {
        let (p, sites): (f64, &[&str]) = match industry {
            "制造业" => (
                0.7,
                &[
                    "工贸企业",
                    "粉尘涉爆企业",
                    "涉氨制冷企业",
                    "有限空间作业场所",
                    "危险化学品生产企业",
                    "冶金企业",
                ],
            ),
            "建筑业" => (0.8, &["建筑施工工地"]),
            "交通运输、仓储和邮政业" => {
                (0.6, &["道路运输企业", "仓储物流企业", "港口码头"])
            }
            "住宿和餐饮业" => (0.35, &["餐饮燃气使用场所", "人员密集场所"]),
            "批发和零售业" => (
                0.2,
                &[
                    "危险化学品经营单位",
                    "加油站",
                    "烟花爆竹经营单位",
                    "人员密集场所",
                ],
            ),
            "农、林、牧、渔业" => (0.3, &["渔业船舶", "农业机械"]),
            "房地产业" => (0.5, &["物业小区", "电梯等特种设备"]),
            _ => (0.1, &["消防重点单位", "人员密集场所"]),
        };
        if !self.rng.random_bool(p) {
            return Ok(());
        }
        let site = *one(&mut self.rng, sites);
        let n = self.rng.random_range(1..=6);
        let lo = days_from_civil(2022, 1, 1).max(established);
        let mut days: Vec<i32> = (0..n)
            .map(|_| day_between(&mut self.rng, lo, self.today))
            .collect();
        days.sort_unstable();
        for day in days {
            let result = pick(
                &mut self.rng,
                &[("合格", 70), ("一般隐患", 25), ("重大隐患", 5)],
            );
            let (status, due) = match result {
                "合格" => ("无需整改", None),
                _ => {
                    let due = day + if result == "重大隐患" { 60 } else { 30 };
                    let status = if due > self.today {
                        pick(&mut self.rng, &[("整改中", 70), ("已整改", 30)])
                    } else {
                        pick(&mut self.rng, &[("已整改", 85), ("逾期未整改", 15)])
                    };
                    (status, Some(due))
                }
            };
            let id = format!("AJ{:010}", self.next_inspection);
            self.next_inspection += 1;
            self.sinks.inspections.push(&[
                V::S(&id),
                V::S(credit),
                V::S(site),
                V::D(day),
                V::S(result),
                V::S(status),
                od(due),
                V::S(&g.code),
            ])?;
        }
        Ok(())
    }

    fn vehicles(&mut self, g: &GridPlan, persons: &[Person]) -> Result<(), DemoError> {
        for p in persons {
            if !(20..=80).contains(&p.age) || !self.rng.random_bool(0.36) {
                continue;
            }
            let n = if self.rng.random_bool(0.1) { 2 } else { 1 };
            for _ in 0..n {
                let lo = add_years(p.birth, 18).max(days_from_civil(2000, 1, 1));
                let hi = p.death.unwrap_or(self.today);
                if lo > hi {
                    continue;
                }
                let registered = day_between(&mut self.rng, lo, hi);
                let mut types: Vec<(&str, u32)> = vec![
                    ("小型轿车", 50),
                    ("小型普通客车", 22),
                    ("小型越野客车", 10),
                    ("轻型普通货车", 6),
                    ("重型半挂牵引车", 1),
                    ("普通二轮摩托车", 7),
                ];
                if !g.community {
                    types.push(("三轮汽车", 6));
                }
                let vtype = pick(&mut self.rng, &types);
                let nev = vtype.starts_with("小型")
                    && registered >= days_from_civil(2018, 1, 1)
                    && self.rng.random_bool(0.3);
                let brands: &[&str] = match vtype {
                    _ if nev => &[
                        "比亚迪",
                        "特斯拉",
                        "理想",
                        "蔚来",
                        "小鹏",
                        "五菱",
                        "吉利",
                        "问界",
                    ],
                    "轻型普通货车" => &["福田", "江淮", "解放", "东风", "五征"],
                    "重型半挂牵引车" => &["重汽", "解放", "陕汽", "东风"],
                    "普通二轮摩托车" => &["豪爵", "五羊-本田", "雅马哈", "宗申"],
                    "三轮汽车" => &["五征", "时风", "巨力"],
                    _ => &[
                        "大众", "丰田", "本田", "日产", "别克", "吉利", "长安", "哈弗", "奇瑞",
                        "宝马", "奔驰", "奥迪", "现代", "福特",
                    ],
                };
                let brand = *one(&mut self.rng, brands);
                let plate = self.plates.issue(&mut self.rng, nev)?;
                self.sinks.vehicles.push(&[
                    V::S(&plate),
                    V::S(&p.id),
                    V::S(vtype),
                    V::S(brand),
                    V::D(registered),
                    V::S(&g.code),
                ])?;
            }
        }
        Ok(())
    }

    fn farmland(
        &mut self,
        g: &GridPlan,
        persons: &[Person],
        households: &[Household],
    ) -> Result<(), DemoError> {
        let county = &COUNTIES[g.county];
        let old_code = retired_code(&g.code);
        for h in households {
            if !self.rng.random_bool(0.85) {
                continue;
            }
            let head = &persons[h.first].id;
            let mut plots: Vec<(&str, &str, f64)> = Vec::new();
            let crop = pick(
                &mut self.rng,
                &[("小麦玉米", 50), ("花生", 35), ("蔬菜", 15)],
            );
            let area = self.rng.random_range(1.0..2.0) * h.len.min(4) as f64;
            plots.push(("耕地", crop, area));
            if county.orchards && self.rng.random_bool(0.55) {
                let fruit = if county.code6 == "370614" {
                    pick(&mut self.rng, &[("葡萄", 60), ("苹果", 30), ("大樱桃", 10)])
                } else {
                    pick(&mut self.rng, &[("苹果", 70), ("大樱桃", 20), ("葡萄", 10)])
                };
                plots.push(("园地", fruit, self.rng.random_range(0.5..5.0)));
            }
            if self.rng.random_bool(0.1) {
                plots.push(("林地", "用材林", self.rng.random_range(0.5..3.0)));
            }
            for &(land, crop, area) in &plots {
                let area = (area * 100.0).round() / 100.0;
                self.sinks.farmland.push(&[
                    V::S(&h.no),
                    V::S(head),
                    V::S(land),
                    V::S(crop),
                    V::F(area),
                    V::S(&g.code),
                ])?;
                if land != "耕地" {
                    continue;
                }
                if let Some(old) = &old_code {
                    // Paid before the merger, under the county's code then.
                    for year in 2018..=2019 {
                        self.retired_agri.push(RetiredAgri {
                            code: old.clone(),
                            household_no: h.no.clone(),
                            payee: head.clone(),
                            area,
                            cents: yuan(area * 118.3),
                            year,
                        });
                    }
                }
                for year in 2022..=2024 {
                    self.sinks.agri.push(&[
                        V::S(&h.no),
                        V::S(head),
                        V::S("耕地地力保护补贴"),
                        V::F(area),
                        V::M(yuan(area * 125.6)),
                        V::I(year),
                        V::S(&g.code),
                    ])?;
                    if crop == "小麦玉米" && year <= 2023 {
                        self.sinks.agri.push(&[
                            V::S(&h.no),
                            V::S(head),
                            V::S("实际种粮农民一次性补贴"),
                            V::F(area),
                            V::M(yuan(area * 11.2)),
                            V::I(year),
                            V::S(&g.code),
                        ])?;
                    }
                }
            }
            if self.rng.random_bool(0.02) {
                let year = self.rng.random_range(2022..=2024);
                let amount = yuan(self.rng.random_range(3000..=25_000) as f64);
                self.sinks.agri.push(&[
                    V::S(&h.no),
                    V::S(head),
                    V::S("农机购置补贴"),
                    V::Null,
                    V::M(amount),
                    V::I(year),
                    V::S(&g.code),
                ])?;
            }
        }
        Ok(())
    }

    fn cards(&mut self, g: &GridPlan, persons: &[Person]) -> Result<(), DemoError> {
        let launch = days_from_civil(2018, 4, 1);
        let third_gen = days_from_civil(2022, 1, 1);
        for p in persons {
            let rate = match p.age {
                ..=15 => 0.45,
                16..=59 => 0.82,
                60..=79 => 0.65,
                _ => 0.35,
            };
            let lo = launch.max(p.birth);
            let hi = p.death.unwrap_or(self.today);
            if !self.rng.random_bool(rate) || lo > hi {
                if p.death.is_none() {
                    self.scenario_truth(
                        "card_expansion",
                        "no_card",
                        &p.id,
                        &g.code,
                        "未领电子社保卡",
                    )?;
                }
                continue;
            }
            let issued = day_between(&mut self.rng, lo, hi);
            let card = if issued >= third_gen && self.rng.random_bool(0.7) {
                "第三代社会保障卡"
            } else {
                "第二代社会保障卡"
            };
            let channel = pick(
                &mut self.rng,
                &[
                    ("掌上12333", 30),
                    ("支付宝", 25),
                    ("微信", 20),
                    ("银行APP", 15),
                    ("爱山东APP", 10),
                ],
            );
            self.sinks
                .cards
                .push(&[V::S(&p.id), V::S(card), V::S(channel), V::D(issued)])?;
        }
        Ok(())
    }

    /// Samples residents (and a few outsiders) into the province list, dirtied
    /// the way real lists are; written shuffled at the end, with the truth
    /// beside it (`dept_list_truth.parquet`) so linkage can be measured.
    fn province_list(
        &mut self,
        persons: &[Person],
        households: &[Household],
    ) -> Result<(), DemoError> {
        let reported = (days_from_civil(2024, 5, 1), self.today);
        for p in persons {
            let address = &households[p.household].address;
            if p.death.is_none() && self.rng.random_bool(self.list_share) {
                let mut dirt = Vec::new();
                let year = civil_from_days(p.birth).0;
                let id = self.dirty_id(&p.id, year, &mut dirt);
                let name = self.dirty_name(&p.name, &mut dirt);
                let phone = match &p.phone {
                    Some(_) if self.rng.random_bool(0.2) => {
                        dirt.push("phone_missing");
                        None
                    }
                    Some(ph) if self.rng.random_bool(0.05) => {
                        dirt.push("phone_changed");
                        Some(self.phone(p.age).unwrap_or_else(|| ph.clone()))
                    }
                    other => other.clone(),
                };
                let birth = self.dirty_birth(p.birth, &mut dirt);
                let address = self.dirty_address(address, &mut dirt);
                let sex = if self.rng.random_bool(0.03) {
                    dirt.push("sex_missing");
                    None
                } else {
                    Some(if p.male { "男" } else { "女" })
                };
                let (dept, item) = *one(&mut self.rng, DEPT_ITEMS);
                let reported_on = day_between(&mut self.rng, reported.0, reported.1);
                self.dept.push(DeptRow {
                    id,
                    name,
                    sex,
                    birth,
                    phone,
                    address,
                    dept,
                    item,
                    reported_on,
                    truth: Some(p.id.clone()),
                    dirt: dirt.join(";"),
                });
            }
            // Outsiders and twins keep their share of the list whatever its
            // size: about 3% and 1.5% of its rows at the default share.
            if self.rng.random_bool(self.list_share / 30.0) {
                // Someone on the province list who is not registered here.
                self.outsider(None, reported)?;
            }
            if p.death.is_none() && self.rng.random_bool(self.list_share / 60.0) {
                // The hard case: an outsider who shares this resident's name
                // and birth date, and sometimes the address or phone (a
                // visitor staying with family): never this resident.
                self.outsider(Some((p, address)), reported)?;
            }
        }
        Ok(())
    }

    /// A list row of someone registered elsewhere; with `twin`, one who
    /// shares that resident's name and birth date.
    fn outsider(
        &mut self,
        twin: Option<(&Person, &String)>,
        reported: (i32, i32),
    ) -> Result<(), DemoError> {
        let code = *one(&mut self.rng, OUTSIDE_CODES);
        let idx = self.ids.code_index(code).unwrap_or(0);
        let (male, age) = match twin {
            Some((p, _)) => (p.male, p.age),
            None => (self.rng.random_bool(0.5), self.rng.random_range(18..=85)),
        };
        let birth = match twin {
            Some((p, _)) => p.birth,
            None => self.birth_for_age(age),
        };
        let (id, birth) = self.ids.issue(idx, birth, male)?;
        let year = civil_from_days(birth).0;
        let name = match twin {
            Some((p, _)) => p.name.clone(),
            None => format!(
                "{}{}",
                self.surnames.pick(&mut self.rng),
                names::given_name(&mut self.rng, male, year)
            ),
        };
        let (phone, address, kind) = match twin {
            Some((p, address)) => match self.rng.random_range(0..3) {
                0 => (p.phone.clone(), None, "twin;twin_phone"),
                1 => (self.phone(age), Some(address.clone()), "twin;twin_address"),
                _ => (self.phone(age), None, "twin"),
            },
            None => (self.phone(age), None, "outsider"),
        };
        // An outsider's number is as dirty as anyone's: now and then
        // missing, and then only name, birth date and the rest can tell.
        let mut dirt = vec![kind];
        let id = self.dirty_id(&id, year, &mut dirt);
        let (dept, item) = *one(&mut self.rng, DEPT_ITEMS);
        let reported_on = day_between(&mut self.rng, reported.0, reported.1);
        self.dept.push(DeptRow {
            id,
            name,
            sex: Some(if male { "男" } else { "女" }),
            birth: Some(birth),
            phone,
            address,
            dept,
            item,
            reported_on,
            truth: None,
            dirt: dirt.join(";"),
        });
        Ok(())
    }

    fn dirty_id(
        &mut self,
        id: &str,
        birth_year: i32,
        dirt: &mut Vec<&'static str>,
    ) -> Option<String> {
        let r: f64 = self.rng.random();
        if r < 0.02 {
            dirt.push("id_missing");
            return None;
        }
        if r < 0.07 && birth_year < 2000 {
            // Legacy 15-digit form: no century, no check character.
            dirt.push("id_15");
            return Some(format!("{}{}", &id[..6], &id[8..17]));
        }
        if r < 0.08 {
            // Two adjacent digits swapped at intake: a number that names
            // no one, or someone else.
            dirt.push("id_transposed");
            let mut b = id.as_bytes().to_vec();
            let i = self.rng.random_range(6..16);
            b.swap(i, i + 1);
            return Some(String::from_utf8(b).unwrap_or_else(|_| id.to_string()));
        }
        let mut s = id.to_string();
        if s.ends_with('X') && self.rng.random_bool(0.5) {
            dirt.push("id_lower_x");
            s = s.to_lowercase();
        }
        if (0.08..0.11).contains(&r) {
            dirt.push("id_fullwidth");
            s = s
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) => char::from_u32(0xFF10 + d).unwrap_or(c),
                    None => c,
                })
                .collect();
        } else if (0.11..0.15).contains(&r) {
            dirt.push("id_spaces");
            s = match self.rng.random_range(0..3) {
                0 => format!(" {s}"),
                1 => format!("{s} "),
                _ => format!("{} {} {}", &s[..6], &s[6..14], &s[14..]),
            };
        }
        Some(s)
    }

    /// The birth date as a list gives it: now and then missing, or with day
    /// and month swapped.
    fn dirty_birth(&mut self, birth: i32, dirt: &mut Vec<&'static str>) -> Option<i32> {
        let r: f64 = self.rng.random();
        if r < 0.03 {
            dirt.push("birth_missing");
            return None;
        }
        let (y, m, d) = civil_from_days(birth);
        if r < 0.06 && d <= 12 && d != m {
            dirt.push("birth_swapped");
            return Some(days_from_civil(y, d, m));
        }
        Some(birth)
    }

    /// The address as a list gives it: often without province and city, at
    /// times missing.
    fn dirty_address(&mut self, address: &str, dirt: &mut Vec<&'static str>) -> Option<String> {
        let r: f64 = self.rng.random();
        if r < 0.15 {
            dirt.push("address_missing");
            None
        } else if r < 0.45 {
            dirt.push("address_short");
            Some(
                address
                    .trim_start_matches("山东省")
                    .trim_start_matches("烟台市")
                    .to_string(),
            )
        } else {
            Some(address.to_string())
        }
    }

    fn dirty_name(&mut self, name: &str, dirt: &mut Vec<&'static str>) -> String {
        let r: f64 = self.rng.random();
        let dirty = if r < 0.03 {
            names::with_typo(name)
        } else if r < 0.06 {
            names::to_traditional(name)
        } else {
            return name.to_string();
        };
        if dirty != name {
            dirt.push(if r < 0.03 {
                "name_homophone"
            } else {
                "name_traditional"
            });
        }
        dirty
    }

    /// Writes what was held back until every grid was made: the subsidies
    /// under retired codes that sort after the last grid, and the province
    /// list.
    pub(crate) fn finish(&mut self) -> Result<(), DemoError> {
        self.flush_retired(None)?;
        self.finish_province_list()
    }

    /// Writes the held subsidies whose codes sort before `upto` (all of
    /// them without it).
    fn flush_retired(&mut self, upto: Option<&str>) -> Result<(), DemoError> {
        if self.retired_agri.is_empty() {
            return Ok(());
        }
        self.retired_agri.sort_by(|a, b| a.code.cmp(&b.code));
        let n = match upto {
            Some(code) => self
                .retired_agri
                .partition_point(|r| r.code.as_str() < code),
            None => self.retired_agri.len(),
        };
        for r in self.retired_agri.drain(..n) {
            self.sinks.agri.push(&[
                V::S(&r.household_no),
                V::S(&r.payee),
                V::S("耕地地力保护补贴"),
                V::F(r.area),
                V::M(r.cents),
                V::I(r.year),
                V::S(&r.code),
            ])?;
        }
        Ok(())
    }

    /// Writes the province list in a shuffled order (a province list is not
    /// sorted by our grids).
    fn finish_province_list(&mut self) -> Result<(), DemoError> {
        let mut rows = std::mem::take(&mut self.dept);
        rows.shuffle(&mut self.rng);
        for (i, r) in rows.iter().enumerate() {
            let row_id = i as i64 + 1;
            self.sinks.dept.push(&[
                V::L(row_id),
                os(r.id.as_deref()),
                V::S(&r.name),
                os(r.sex),
                od(r.birth),
                os(r.phone.as_deref()),
                os(r.address.as_deref()),
                V::S(r.dept),
                V::S(r.item),
                V::D(r.reported_on),
            ])?;
            self.sinks
                .truth
                .push(&[V::L(row_id), os(r.truth.as_deref()), V::S(&r.dirt)])?;
        }
        Ok(())
    }
}

/// The code a grid of 蓬莱区 had before 2020: 砣矶镇's under 长岛县's old
/// town number, every other town's under 蓬莱市 (which kept its numbers).
fn retired_code(grid: &str) -> Option<String> {
    let rest = grid.strip_prefix(MERGED_COUNTY)?;
    Some(match grid.strip_prefix(ISLAND_TOWN.1) {
        Some(tail) => format!("{}{tail}", ISLAND_TOWN.0),
        None => format!("370684{rest}"),
    })
}
