//! Leaks an adversarial review found around the fences (issue 19), each
//! through the real interface: what a login, a catalog function or the demo's
//! secret gave away.

use crate::common::*;
use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One backend message: its tag and body.
async fn read_message(s: &mut tokio::net::TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 5];
    s.read_exact(&mut head).await.unwrap();
    let len = u32::from_be_bytes(head[1..5].try_into().unwrap()) as usize;
    let mut rest = vec![0u8; len - 4];
    s.read_exact(&mut rest).await.unwrap();
    (head[0], rest)
}

/// The salt and iteration count the server answers a SCRAM client-first
/// message for `user` with, before any password is involved.
async fn scram_salt(addr: std::net::SocketAddr, user: &str) -> (Vec<u8>, u32) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut body = 196_608u32.to_be_bytes().to_vec(); // protocol 3.0
    for (k, v) in [("user", user), ("database", "zhenjie")] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut startup = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    startup.extend_from_slice(&body);
    s.write_all(&startup).await.unwrap();
    let (tag, sasl) = read_message(&mut s).await;
    assert_eq!((tag, &sasl[..4]), (b'R', &10u32.to_be_bytes()[..]), "SASL");
    let first = b"n,,n=,r=abcdefghijklmnopqrstuv";
    let mut body = b"SCRAM-SHA-256\0".to_vec();
    body.extend_from_slice(&(first.len() as u32).to_be_bytes());
    body.extend_from_slice(first);
    let mut msg = vec![b'p'];
    msg.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    msg.extend_from_slice(&body);
    s.write_all(&msg).await.unwrap();
    let (tag, cont) = read_message(&mut s).await;
    assert_eq!(
        (tag, &cont[..4]),
        (b'R', &11u32.to_be_bytes()[..]),
        "SASL continue"
    );
    let text = String::from_utf8(cont[4..].to_vec()).unwrap();
    let field = |k: &str| {
        text.split(',')
            .find_map(|a| a.strip_prefix(k))
            .unwrap()
            .to_string()
    };
    let salt = base64::engine::general_purpose::STANDARD
        .decode(field("s="))
        .unwrap();
    (salt, field("i=").parse().unwrap())
}

/// Unknown names got their own name as salt, readable before any password:
/// a way to list which users exist. Now an unknown name's salt looks like a
/// real user's: as long, as random-looking, as stable, with the same count.
#[tokio::test]
async fn scram_salts_do_not_tell_which_users_exist() {
    let addr = start_server().await;
    let (real, real_iterations) = scram_salt(addr, "city").await;
    let (ghost, ghost_iterations) = scram_salt(addr, "ghost").await;
    let (ghost_again, _) = scram_salt(addr, "ghost").await;
    let (other, _) = scram_salt(addr, "nobody_at_all").await;
    assert_eq!(real.len(), 16);
    assert_eq!(ghost.len(), real.len());
    assert_eq!(ghost_iterations, real_iterations);
    assert_ne!(ghost, b"ghost".to_vec());
    assert!(!ghost.windows(5).any(|w| w == b"ghost"));
    assert_eq!(
        ghost, ghost_again,
        "a real user's salt does not change either"
    );
    assert_ne!(ghost, other);
    assert_eq!(scram_salt(addr, "city").await.0, real);
    // A server restarted over the same catalog gives the same answer.
    let again = start_server().await;
    assert_eq!(scram_salt(again, "ghost").await.0, ghost);
}

/// The size of the whole city's files is a rough count of its rows: a fenced
/// user gets NULL, the city level the size.
#[tokio::test]
async fn database_size_is_for_the_city_level() {
    let addr = start_server().await;
    for (user, sized) in [
        ("city", true),
        ("county", false),
        ("town", false),
        ("grid", false),
    ] {
        let client = connect(addr, user).await;
        let size: Option<i64> = client
            .query_one("SELECT pg_database_size('zhenjie')", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(size.is_some_and(|s| s > 0), sized, "{user}: {size:?}");
    }
}

/// The demo's mask secret came from the generator's fixed seed, so anyone
/// with the source could recompute every pseudonym. Two demo cities now get
/// different keys from the OS, readable by their owner only, and a catalog
/// whose key others can read, or that is short, does not open.
#[tokio::test]
async fn demo_mask_keys_are_random_private_and_checked() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let opts = zhenjie_demo::DemoOptions {
        persons: zhenjie_demo::MIN_PERSONS,
        seed: 7,
        ..Default::default()
    };
    let mut keys = Vec::new();
    for d in &dirs {
        zhenjie_demo::generate(d.path(), &opts, false).unwrap();
        let path = d.path().join("mask.key");
        keys.push(std::fs::read(&path).unwrap());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
    assert_eq!(keys[0].len(), 32);
    assert_ne!(keys[0], keys[1], "same seed, different keys");
    // Generating the city again keeps its key (pseudonyms stay stable).
    zhenjie_demo::generate(dirs[0].path(), &opts, false).unwrap();
    assert_eq!(
        std::fs::read(dirs[0].path().join("mask.key")).unwrap(),
        keys[0]
    );

    let catalog = dirs[1].path().join("catalog.toml");
    let key = dirs[1].path().join("mask.key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = zhenjie_catalog::Catalog::load(&catalog)
        .unwrap_err()
        .to_string();
    assert!(err.contains("readable by other users"), "{err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&key, [7u8; 16]).unwrap();
    let err = zhenjie_catalog::Catalog::load(&catalog)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least 32 bytes"), "{err}");
    std::fs::write(&key, &keys[1]).unwrap();
    zhenjie_catalog::Catalog::load(&catalog).unwrap();
}

/// A village user recovered full birth dates from the day people joined the
/// 80+ allowance, and NULL-masked disability grades from the nursing
/// subsidy's amount. The demo classes both; the engine names unclassed
/// dates and amounts beside classed columns for the operator to review.
#[tokio::test]
async fn derived_columns_do_not_give_away_what_masks_hide() {
    let addr = start_server().await;
    let village = connect(addr, "village").await;
    let town = connect(addr, "town").await;
    let joined =
        "SELECT since_date::text FROM special_groups WHERE group_type = '高龄' ORDER BY 1 LIMIT 5";
    let rows_of = |msgs: Vec<tokio_postgres::SimpleQueryMessage>| {
        msgs.into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let seen = rows_of(village.simple_query(joined).await.unwrap());
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|v| v.len() == 4 && !v.contains('-')),
        "{seen:?}"
    );
    let raw = rows_of(town.simple_query(joined).await.unwrap());
    assert!(raw.iter().all(|v| v.len() == 10), "{raw:?}");
    let amounts = "SELECT DISTINCT amount::text FROM subsidy_payments WHERE subsidy_type = '重度残疾人护理补贴'";
    let seen = rows_of(village.simple_query(amounts).await.unwrap());
    assert!(seen.is_empty(), "amounts hidden (NULL): {seen:?}");
    let mut raw = rows_of(town.simple_query(amounts).await.unwrap());
    raw.sort();
    assert_eq!(raw, vec!["120.00", "160.00"]);

    // The demo catalog leaves nothing to review; removing a class is noticed.
    let engine = zhenjie_engine::Engine::open(load_catalog(), test_options())
        .await
        .unwrap();
    assert!(engine.warnings().is_empty(), "{:?}", engine.warnings());
    let mut catalog = load_catalog();
    let groups = catalog
        .file
        .datasets
        .iter_mut()
        .find(|d| d.name == "special_groups")
        .unwrap();
    groups.columns.get_mut("since_date").unwrap().class = None;
    let engine = zhenjie_engine::Engine::open(catalog, test_options())
        .await
        .unwrap();
    let warnings = engine.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("special_groups column since_date"),
        "{warnings:?}"
    );
}
