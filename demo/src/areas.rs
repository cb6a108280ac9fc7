//! The area tree of the demo city: Yantai's real counties, generated towns,
//! villages and grids, sized to the number of persons, and how many persons
//! live in each grid.

use crate::names::{self, one, Weighted};
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashSet;
use zhenjie_catalog::{Area, Level};

/// The code of the city (烟台市).
pub(crate) const CITY_CODE: &str = "370600000000";

/// What the generator knows about one county-level area.
pub(crate) struct CountyInfo {
    /// First six digits of the division code.
    pub code6: &'static str,
    /// Name as it appears in addresses.
    pub name: &'static str,
    /// Relative population (roughly ten-thousands, 2020 census).
    pub weight: u32,
    /// Urban districts have mostly streets and communities.
    pub urban: bool,
    /// Names of streets (街道), in code order 001…
    pub streets: &'static [&'static str],
    /// Names of towns (镇), in code order 100…
    pub towns: &'static [&'static str],
    /// Approximate centre (longitude, latitude).
    pub center: (f64, f64),
    /// Fruit country: much of the contracted land is orchards.
    pub orchards: bool,
}

/// Yantai's county-level areas in code order: the 11 counties and districts plus
/// the two statistics-only zones (高新区, 经开区), which must exist in the tree
/// because the lineage of the retired code 370672 points at 370676.
pub(crate) const COUNTIES: &[CountyInfo] = &[
    CountyInfo {
        code6: "370602",
        name: "芝罘区",
        weight: 93,
        urban: true,
        streets: &[
            "向阳",
            "东山",
            "毓璜顶",
            "通伸",
            "凤凰台",
            "奇山",
            "白石",
            "芝罘岛",
            "黄务",
            "只楚",
            "世回尧",
            "幸福",
        ],
        towns: &[],
        center: (121.40, 37.54),
        orchards: false,
    },
    CountyInfo {
        code6: "370611",
        name: "福山区",
        weight: 46,
        urban: false,
        streets: &["清洋", "福新", "东厅", "门楼", "奇泉"],
        towns: &["回里", "高疃", "张格庄", "臧家庄"],
        center: (121.27, 37.50),
        orchards: true,
    },
    CountyInfo {
        code6: "370612",
        name: "牟平区",
        weight: 44,
        urban: false,
        streets: &["宁海", "文化", "武宁", "大窑", "姜格庄", "龙泉"],
        towns: &["玉林店", "水道", "观水", "王格庄", "昆嵛", "高陵", "莒格庄"],
        center: (121.60, 37.39),
        orchards: true,
    },
    CountyInfo {
        code6: "370613",
        name: "莱山区",
        weight: 45,
        urban: true,
        streets: &[
            "初家",
            "黄海路",
            "滨海路",
            "院格庄",
            "解甲庄",
            "莱山",
            "马山",
        ],
        towns: &[],
        center: (121.45, 37.51),
        orchards: false,
    },
    CountyInfo {
        code6: "370614",
        name: "蓬莱区",
        weight: 45,
        urban: false,
        streets: &["登州", "紫荆山", "新港", "蓬莱阁", "南长山"],
        // 砣矶 was a town of 长岛县 (370634) until 2020: second here so it
        // exists at every size (see `ISLAND_TOWN`).
        towns: &[
            "南王",
            "砣矶",
            "刘家沟",
            "大辛店",
            "村里集",
            "北沟",
            "大柳行",
            "小门家",
        ],
        center: (120.76, 37.81),
        orchards: true,
    },
    CountyInfo {
        code6: "370671",
        name: "高新区",
        weight: 10,
        urban: true,
        streets: &["科创", "金山"],
        towns: &[],
        center: (121.50, 37.45),
        orchards: false,
    },
    CountyInfo {
        code6: "370676",
        name: "经开区",
        weight: 25,
        urban: false,
        streets: &["古现", "八角", "福莱山"],
        towns: &["大季家"],
        center: (121.25, 37.60),
        orchards: false,
    },
    CountyInfo {
        code6: "370681",
        name: "龙口市",
        weight: 70,
        urban: false,
        streets: &["东莱", "龙港", "新嘉", "徐福", "东江"],
        towns: &[
            "黄山馆",
            "北马",
            "芦头",
            "下丁家",
            "七甲",
            "石良",
            "兰高",
            "诸由观",
        ],
        center: (120.48, 37.65),
        orchards: true,
    },
    CountyInfo {
        code6: "370682",
        name: "莱阳市",
        weight: 80,
        urban: false,
        streets: &["城厢", "古柳", "龙旺庄", "冯格庄", "柏林庄"],
        towns: &[
            "河洛",
            "吕格庄",
            "高格庄",
            "大夼",
            "山前店",
            "羊郡",
            "姜疃",
            "万第",
            "照旺庄",
            "谭格庄",
            "沐浴店",
            "团旺",
            "穴坊",
        ],
        center: (120.71, 36.98),
        orchards: true,
    },
    CountyInfo {
        code6: "370683",
        name: "莱州市",
        weight: 82,
        urban: false,
        streets: &["文昌路", "永安路", "三山岛", "城港路", "文峰路"],
        towns: &[
            "沙河",
            "朱桥",
            "郭家店",
            "金城",
            "平里店",
            "驿道",
            "程郭",
            "虎头崖",
            "柞村",
            "夏邱",
            "土山",
            "金仓",
        ],
        center: (119.94, 37.18),
        orchards: false,
    },
    CountyInfo {
        code6: "370685",
        name: "招远市",
        weight: 56,
        urban: false,
        streets: &["罗峰", "泉山", "梦芝", "温泉", "大秦家"],
        towns: &[
            "辛庄", "张星", "玲珑", "金岭", "毕郭", "阜山", "夏甸", "蚕庄", "齐山",
        ],
        center: (120.43, 37.36),
        orchards: true,
    },
    CountyInfo {
        code6: "370686",
        name: "栖霞市",
        weight: 55,
        urban: false,
        streets: &["翠屏", "庄园", "松山"],
        towns: &[
            "观里",
            "蛇窝泊",
            "唐家泊",
            "桃村",
            "亭口",
            "臧家庄",
            "寺口",
            "苏家店",
            "杨础",
            "西城",
            "官道",
            "庙后",
        ],
        center: (120.85, 37.34),
        orchards: true,
    },
    CountyInfo {
        code6: "370687",
        name: "海阳市",
        weight: 60,
        urban: false,
        streets: &["方圆", "东村", "凤城", "龙山"],
        towns: &[
            "留格庄",
            "盘石店",
            "郭城",
            "徐家店",
            "发城",
            "小纪",
            "行村",
            "辛安",
            "二十里店",
            "朱吴",
        ],
        center: (121.16, 36.78),
        orchards: true,
    },
];

/// Persons per town before a county gets another town.
const PERSONS_PER_TOWN: f64 = 10_000.0;

/// 蓬莱区: 蓬莱市 (370684) and 长岛县 (370634) merged into it in 2020.
pub(crate) const MERGED_COUNTY: &str = "370614";

/// 砣矶镇 of the former 长岛县: old records carry its old code
/// `370634100`, which today's code numbering gives to 南王镇 (370614100);
/// a town-level lineage entry sends them to 砣矶镇's new code instead.
pub(crate) const ISLAND_TOWN: (&str, &str) = ("370634100", "370614101");
/// Target persons per grid.
const PERSONS_PER_GRID: f64 = 250.0;

/// One grid with everything the person generator needs about where it is.
pub(crate) struct GridPlan {
    /// 15-digit grid code.
    pub code: String,
    /// 12-digit codes of the enclosing village, town and county.
    pub village_code: String,
    pub town_code: String,
    pub county_code: String,
    /// Index into [`COUNTIES`].
    pub county: usize,
    /// Name of the village (for rural addresses and co-operatives).
    pub village_name: String,
    /// A residents' committee (社区) rather than a village committee (村).
    pub community: bool,
    /// Number of persons registered here.
    pub persons: usize,
    /// Roads of the village, for addresses.
    pub roads: [&'static str; 2],
    /// Approximate centre (longitude, latitude).
    pub center: (f64, f64),
    /// `山东省烟台市{county}{town}{village}`.
    pub address_prefix: String,
}

/// The planned tree: areas parents first (depth first, so grids come in code
/// order) and the grids with their populations.
pub(crate) struct Plan {
    /// All areas with their approximate centres.
    pub areas: Vec<(Area, (f64, f64))>,
    /// All grids in code order.
    pub grids: Vec<GridPlan>,
}

/// Splits `total` into parts proportional to `weights`, each at least `min_each`
/// (largest-remainder rounding, ties to the lower index). `total` must be at
/// least `min_each × weights.len()`; any shortfall is ignored.
pub(crate) fn allocate(total: usize, weights: &[f64], min_each: usize) -> Vec<usize> {
    let n = weights.len();
    let mut out = vec![min_each; n];
    if n == 0 {
        return out;
    }
    let rest = total.saturating_sub(min_each * n);
    let sum: f64 = weights.iter().sum();
    let mut given = 0;
    let mut fractions = Vec::with_capacity(n);
    for (i, w) in weights.iter().enumerate() {
        let exact = if sum > 0.0 {
            rest as f64 * w / sum
        } else {
            rest as f64 / n as f64
        };
        let whole = exact.floor() as usize;
        out[i] += whole;
        given += whole;
        fractions.push((exact - whole as f64, i));
    }
    fractions.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for k in 0..rest.saturating_sub(given) {
        out[fractions[k % n].1] += 1;
    }
    out
}

fn jitter(rng: &mut impl Rng, (x, y): (f64, f64), r: f64) -> (f64, f64) {
    let round = |v: f64| (v * 1e5).round() / 1e5;
    (
        round(x + rng.random_range(-r..r)),
        round(y + rng.random_range(-r..r) * 0.8),
    )
}

fn village_name(rng: &mut impl Rng, surnames: &Weighted<&'static str>) -> String {
    let r: f64 = rng.random();
    let s = surnames.pick(rng);
    let stem = if r < 0.6 {
        format!("{s}家{}", one(rng, names::VILLAGE_ENDINGS))
    } else if r < 0.75 {
        format!("{s}格庄")
    } else if r < 0.9 {
        format!(
            "{}{s}家{}",
            one(rng, names::VILLAGE_PREFIXES),
            one(rng, names::VILLAGE_ENDINGS)
        )
    } else {
        format!(
            "{}{}",
            one(rng, names::VILLAGE_PREFIXES),
            one(rng, names::LANDFORMS)
        )
    };
    format!("{stem}村")
}

/// Plans the whole tree for `persons` persons (at least one per county).
pub(crate) fn plan(rng: &mut impl Rng, persons: usize) -> Plan {
    let surnames = Weighted::new(names::SURNAMES);
    let mut areas = Vec::new();
    let mut grids = Vec::new();
    areas.push((
        Area {
            code: CITY_CODE.to_string(),
            parent: String::new(),
            level: Level::City,
            name: "烟台市".to_string(),
        },
        (121.39, 37.52),
    ));
    let county_weights: Vec<f64> = COUNTIES.iter().map(|c| c.weight as f64).collect();
    let county_persons = allocate(persons, &county_weights, 1);
    for (ci, county) in COUNTIES.iter().enumerate() {
        let county_code = format!("{}000000", county.code6);
        areas.push((
            Area {
                code: county_code.clone(),
                parent: CITY_CODE.to_string(),
                level: Level::County,
                name: county.name.to_string(),
            },
            county.center,
        ));
        let pc = county_persons[ci];
        let available = county.streets.len() + county.towns.len();
        let t = ((pc as f64 / PERSONS_PER_TOWN).round() as usize).clamp(1, available);
        // Rural counties get at least one town (镇) so even a tiny city has
        // villages and farmland; urban districts have only streets.
        let mut k_towns = if county.towns.is_empty() {
            0
        } else {
            ((t * county.towns.len()) as f64 / available as f64)
                .round()
                .max(1.0) as usize
        }
        .min(county.towns.len());
        if county.code6 == MERGED_COUNTY {
            // Both former counties' towns exist at every size, so the demo
            // always has old records under each retired code.
            k_towns = k_towns.max(2);
        }
        let t = t.max(k_towns);
        let mut k_streets = t - k_towns;
        if k_streets > county.streets.len() {
            k_streets = county.streets.len();
            k_towns = t - k_streets;
        }
        // (code, name, is street)
        let mut towns: Vec<(String, String, bool)> = Vec::with_capacity(t);
        for (i, n) in county.streets.iter().take(k_streets).enumerate() {
            towns.push((
                format!("{}{:03}000", county.code6, i + 1),
                format!("{n}街道"),
                true,
            ));
        }
        for (i, n) in county.towns.iter().take(k_towns).enumerate() {
            towns.push((
                format!("{}{:03}000", county.code6, 100 + i),
                format!("{n}镇"),
                false,
            ));
        }
        let town_weights: Vec<f64> = towns
            .iter()
            .map(|(_, _, street)| {
                let w = rng.random_range(0.6..1.4);
                if *street && !county.urban {
                    w * 1.6
                } else {
                    w
                }
            })
            .collect();
        let town_persons = allocate(pc, &town_weights, 1);
        for ((town_code, town_name, street), pt) in towns.into_iter().zip(town_persons) {
            let town_center = jitter(rng, county.center, 0.06);
            areas.push((
                Area {
                    code: town_code.clone(),
                    parent: county_code.clone(),
                    level: Level::Town,
                    name: town_name.clone(),
                },
                town_center,
            ));
            let g = ((pt as f64 / PERSONS_PER_GRID).round() as usize).clamp(1, pt.max(1));
            // (code suffix, is community)
            let villages: Vec<(usize, bool)> = if street {
                let v = ((g as f64 / 5.0).round() as usize).clamp(1, 199);
                (1..=v).map(|i| (i, true)).collect()
            } else {
                let v = ((g as f64 / 1.5).round() as usize).clamp(1, 200);
                if v >= 3 {
                    std::iter::once((1, true))
                        .chain((0..v - 1).map(|i| (200 + i, false)))
                        .collect()
                } else {
                    (0..v).map(|i| (200 + i, false)).collect()
                }
            };
            let mut stems: Vec<usize> = (0..names::COMMUNITY_STEMS.len()).collect();
            stems.shuffle(rng);
            let mut used = HashSet::new();
            let village_weights: Vec<f64> = villages
                .iter()
                .map(|&(_, community)| {
                    let w = rng.random_range(0.5..1.5);
                    if community && !street {
                        w * 3.0
                    } else {
                        w
                    }
                })
                .collect();
            let grids_per_village = allocate(g, &village_weights, 1);
            let grid_weights: Vec<f64> = (0..g).map(|_| rng.random_range(0.7..1.3)).collect();
            let mut grid_persons = allocate(pt, &grid_weights, 1).into_iter();
            let mut community_no = 0;
            for (&(suffix, community), &ng) in villages.iter().zip(&grids_per_village) {
                let village_code = format!("{}{:03}", &town_code[..9], suffix);
                let name = if community {
                    let n = names::COMMUNITY_STEMS.len();
                    let stem = names::COMMUNITY_STEMS[stems[community_no % n]];
                    let round = community_no / n;
                    community_no += 1;
                    if round == 0 {
                        format!("{stem}社区")
                    } else {
                        let extra = ["东", "西", "南", "北", "中", "新"][(round - 1) % 6];
                        format!("{stem}{extra}社区")
                    }
                } else {
                    let mut name = village_name(rng, &surnames);
                    let mut tries = 0;
                    while used.contains(&name) {
                        tries += 1;
                        name = if tries < 20 {
                            village_name(rng, &surnames)
                        } else {
                            format!("{}{}村", name.trim_end_matches('村'), tries)
                        };
                    }
                    name
                };
                used.insert(name.clone());
                let village_center = jitter(rng, town_center, 0.015);
                areas.push((
                    Area {
                        code: village_code.clone(),
                        parent: town_code.clone(),
                        level: Level::Village,
                        name: name.clone(),
                    },
                    village_center,
                ));
                let r1 = rng.random_range(0..names::ROADS.len());
                let r2 = (r1 + rng.random_range(1..names::ROADS.len())) % names::ROADS.len();
                let address_prefix = format!("山东省烟台市{}{}{}", county.name, town_name, name);
                for k in 1..=ng {
                    let code = format!("{village_code}{k:03}");
                    let center = jitter(rng, village_center, 0.003);
                    areas.push((
                        Area {
                            code: code.clone(),
                            parent: village_code.clone(),
                            level: Level::Grid,
                            name: format!("{name}第{k}网格"),
                        },
                        center,
                    ));
                    grids.push(GridPlan {
                        code,
                        village_code: village_code.clone(),
                        town_code: town_code.clone(),
                        county_code: county_code.clone(),
                        county: ci,
                        village_name: name.clone(),
                        community,
                        persons: grid_persons.next().unwrap_or(1),
                        roads: [names::ROADS[r1], names::ROADS[r2]],
                        center,
                        address_prefix: address_prefix.clone(),
                    });
                }
            }
        }
    }
    Plan { areas, grids }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use zhenjie_catalog::AreaTree;

    #[test]
    fn allocate_sums_and_respects_minimum() {
        let a = allocate(10, &[1.0, 1.0, 1.0], 1);
        assert_eq!(a.iter().sum::<usize>(), 10);
        assert!(a.iter().all(|&x| x >= 1));
        let b = allocate(3, &[100.0, 0.001, 0.001], 1);
        assert_eq!(b, vec![1, 1, 1]);
    }

    #[test]
    fn plans_are_valid_trees_at_all_sizes() {
        for persons in [100, 500, 3000, 200_000] {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let p = plan(&mut rng, persons);
            let total: usize = p.grids.iter().map(|g| g.persons).sum();
            assert_eq!(total, persons);
            assert!(p.grids.iter().all(|g| g.persons >= 1));
            let tree = AreaTree::new(p.areas.into_iter().map(|(a, _)| a).collect()).unwrap();
            assert_eq!(tree.at_level(Level::County).count(), COUNTIES.len());
            for c in tree.at_level(Level::County) {
                assert!(tree.at_level(Level::Town).any(|t| t.parent == c.code));
            }
            let mut codes: Vec<&String> = p.grids.iter().map(|g| &g.code).collect();
            let sorted = {
                let mut s = codes.clone();
                s.sort();
                s
            };
            assert_eq!(codes, sorted);
            codes.dedup();
            assert_eq!(codes.len(), p.grids.len());
        }
    }
}
