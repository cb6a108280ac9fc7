//! Datasets on an S3-compatible object store: a local moto S3 server stands
//! in for AWS S3 or Aliyun OSS; the test city's files are uploaded to it and
//! the catalog points at `s3://` URLs. Governance works the same over them.

use crate::common::*;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use zhenjie_catalog::ObjectStore;

/// The moto S3 server, stopped when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_s3() -> S3Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto's S3 server (pip install 'moto[server]'; .ci/run does)");
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("moto S3 server did not start on port {port}");
}

/// Creates `bucket` and uploads local files into it, with boto3 (moto's own
/// dependency), as a department's upload job would.
fn upload(endpoint: &str, bucket: &str, files: &[(&std::path::Path, &str)]) {
    let mut script = format!(
        "import boto3\n\
         s3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='test',\n\
             aws_secret_access_key='test', region_name='us-east-1')\n\
         s3.create_bucket(Bucket='{bucket}')\n"
    );
    for (path, key) in files {
        script.push_str(&format!(
            "s3.upload_file('{}', '{bucket}', '{key}')\n",
            path.display()
        ));
    }
    let status = Command::new("python3")
        .args(["-c", &script])
        .status()
        .expect("python3 with boto3");
    assert!(status.success(), "upload to {endpoint}");
}

/// Puts one object (a broken file a department's job left behind, say).
fn put(endpoint: &str, bucket: &str, key: &str, body: &str) {
    let script = format!(
        "import boto3\n\
         s3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='test',\n\
             aws_secret_access_key='test', region_name='us-east-1')\n\
         s3.put_object(Bucket='{bucket}', Key='{key}', Body=b'{body}')\n"
    );
    let status = Command::new("python3")
        .args(["-c", &script])
        .status()
        .expect("python3 with boto3");
    assert!(status.success(), "put {key} to {endpoint}");
}

/// A server over `catalog` sending every plan that may travel to a local
/// cluster whose executors read the buckets through their own copy of it.
#[cfg(feature = "cluster")]
async fn serve_on_a_cluster_over(catalog: &zhenjie_catalog::Catalog) -> std::net::SocketAddr {
    let scheduler = start_cluster_over(catalog.clone()).await;
    let options = zhenjie_engine::EngineOptions {
        cluster: Some(zhenjie_engine::ClusterOptions {
            scheduler,
            min_bytes: 0,
            tls: None,
        }),
        ..test_options()
    };
    start_server_over(catalog.clone(), options).await
}

/// The catalog's declaration of a bucket on the local S3 server.
fn bucket_store(s3: &S3Server, bucket: &str) -> ObjectStore {
    ObjectStore {
        url: format!("s3://{bucket}"),
        options: [
            ("endpoint", s3.endpoint.as_str()),
            ("region", "us-east-1"),
            ("allow_http", "true"),
            ("access_key_id", "test"),
            ("secret_access_key", "test"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datasets_in_an_s3_bucket_are_queried_and_fenced() {
    let s3 = start_s3();
    let endpoint = s3.endpoint.clone();
    tokio::task::spawn_blocking(move || {
        upload(
            &endpoint,
            "city-data",
            &[
                (
                    &city_dir().join("persons.parquet"),
                    "population/persons.parquet",
                ),
                (
                    &city_dir().join("households.parquet"),
                    "population/households.parquet",
                ),
            ],
        )
    })
    .await
    .unwrap();
    let mut catalog = load_catalog();
    catalog
        .file
        .object_stores
        .push(bucket_store(&s3, "city-data"));
    for d in &mut catalog.file.datasets {
        if d.name == "persons" || d.name == "households" {
            d.location = format!("s3://city-data/population/{}.parquet", d.name);
        }
    }
    let local = load_catalog();
    // And on a cluster whose executors read the bucket through their own
    // copy of the catalog.
    #[cfg(feature = "cluster")]
    let addr_cluster = serve_on_a_cluster_over(&catalog).await;
    let addr_s3 = start_server_over(catalog, Default::default()).await;
    let addr_local = start_server_over(local, Default::default()).await;
    for user in ["city", "town", "village"] {
        let from_s3 = connect(addr_s3, user).await;
        let from_disk = connect(addr_local, user).await;
        for sql in [
            "SELECT count(*), count(DISTINCT household_no) FROM persons",
            "SELECT count(*) FROM households h JOIN persons p ON p.household_no = h.household_no",
            "SELECT phone FROM persons ORDER BY id_number LIMIT 3",
        ] {
            let a = text_rows(&from_s3, sql).await;
            let b = text_rows(&from_disk, sql).await;
            assert!(!a.is_empty());
            assert_eq!(a, b, "{user}: {sql} over S3 and over the local files");
            #[cfg(feature = "cluster")]
            {
                let on_cluster = connect(addr_cluster, user).await;
                let c = text_rows(&on_cluster, sql).await;
                assert_eq!(c, b, "{user}: {sql} on the cluster over S3");
                let route = text_rows(&on_cluster, &format!("EXPLAIN {sql}")).await;
                let route = route.last().and_then(|r| r[1].clone()).unwrap();
                assert!(route.starts_with("runs on the cluster"), "{route}");
            }
        }
    }
}

#[tokio::test]
async fn a_location_outside_every_declared_store_is_a_catalog_error() {
    let mut file = load_catalog().file;
    let base = city_dir().to_path_buf();
    for d in &mut file.datasets {
        d.location = base.join(&d.location).display().to_string();
        if d.name == "vehicles" {
            d.location = "s3://elsewhere/vehicles.parquet".into();
        }
    }
    let err = zhenjie_catalog::Catalog::from_parts(file, load_catalog().areas, base)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dataset vehicles") && err.contains("no declared object store"),
        "{err}"
    );
}

/// A province's layout: the tables placed by grid in one folder per county
/// (`persons/county=370602/part-0.parquet`) in a bucket. Every user sees
/// what they see over the flat files, on one node and on the cluster, and a
/// user's fence picks the folders read: a broken file in another county's
/// folder fails the city's queries and no one else's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_folders_are_read_as_far_as_the_fence_reaches() {
    let s3 = start_s3();
    let dir = tempfile::tempdir().unwrap();
    // The same city (seed and size) with the same mask key, so pseudonyms
    // compare too.
    std::fs::copy(city_dir().join("mask.key"), dir.path().join("mask.key")).unwrap();
    let opts = zhenjie_demo::DemoOptions {
        persons: PERSONS,
        seed: 7,
        layout: zhenjie_demo::Layout::ByCounty,
        ..Default::default()
    };
    let generated = zhenjie_demo::generate(dir.path(), &opts, false).unwrap();
    let partitioned: Vec<String> = generated
        .file
        .datasets
        .iter()
        .filter(|d| !d.partitions.is_empty())
        .map(|d| d.name.clone())
        .collect();
    assert!(
        partitioned.contains(&"persons".to_string()),
        "{partitioned:?}"
    );
    let mut files = Vec::new();
    for name in &partitioned {
        for county in std::fs::read_dir(dir.path().join(name)).unwrap() {
            let county = county.unwrap().path();
            let folder = county.file_name().unwrap().to_string_lossy().to_string();
            assert!(folder.starts_with("county=3706"), "{folder}");
            files.push((
                county.join("part-0.parquet"),
                format!("{name}/{folder}/part-0.parquet"),
            ));
        }
    }
    let endpoint = s3.endpoint.clone();
    let uploads: Vec<(std::path::PathBuf, String)> = files.clone();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<(&std::path::Path, &str)> = uploads
            .iter()
            .map(|(p, k)| (p.as_path(), k.as_str()))
            .collect();
        upload(&endpoint, "province", &refs)
    })
    .await
    .unwrap();
    let mut catalog = generated;
    catalog
        .file
        .object_stores
        .push(bucket_store(&s3, "province"));
    for d in &mut catalog.file.datasets {
        if partitioned.contains(&d.name) {
            d.location = format!("s3://province/{}/", d.name);
        }
    }
    let catalog = zhenjie_catalog::Catalog::from_parts(
        catalog.file,
        load_catalog().areas,
        dir.path().to_path_buf(),
    )
    .unwrap();
    #[cfg(feature = "cluster")]
    let addr_cluster = serve_on_a_cluster_over(&catalog).await;
    let addr_s3 = start_server_over(catalog, Default::default()).await;
    let addr_flat = start_server_over(load_catalog(), Default::default()).await;
    let users = ["city", "county", "town", "village", "grid", "penglai"];
    let queries = [
        "SELECT count(*), count(DISTINCT household_no), min(grid_code), max(grid_code) FROM persons",
        "SELECT id_number, name, phone FROM persons ORDER BY id_number LIMIT 3",
        "SELECT count(*) FROM households h JOIN persons p ON p.household_no = h.household_no",
        // Placed through persons' identity numbers: attributed over the folders.
        "SELECT count(*) FROM social_security_cards",
    ];
    for user in users {
        let province = connect(addr_s3, user).await;
        let flat = connect(addr_flat, user).await;
        for sql in queries {
            let a = text_rows(&province, sql).await;
            let b = text_rows(&flat, sql).await;
            assert_eq!(
                a, b,
                "{user}: {sql} over county folders and over flat files"
            );
            #[cfg(feature = "cluster")]
            {
                let on_cluster = connect(addr_cluster, user).await;
                assert_eq!(
                    text_rows(&on_cluster, sql).await,
                    b,
                    "{user}: {sql} on the cluster over county folders"
                );
            }
        }
        // The folder column reads as the row's county.
        let folders = text_rows(
            &province,
            "SELECT count(*) FROM persons WHERE county <> substr(grid_code, 1, 6)",
        )
        .await;
        assert_eq!(folders, vec![vec![Some("0".to_string())]], "{user}");
    }

    // 福山区 (370611) is no test user's county but the city's.
    let endpoint = s3.endpoint.clone();
    tokio::task::spawn_blocking(move || {
        put(
            &endpoint,
            "province",
            "persons/county=370611/broken.parquet",
            "not a parquet file",
        )
    })
    .await
    .unwrap();
    let sql = "SELECT count(*) FROM persons";
    for user in ["county", "town", "village", "grid", "penglai"] {
        let province = connect(addr_s3, user).await;
        let flat = connect(addr_flat, user).await;
        assert_eq!(
            text_rows(&province, sql).await,
            text_rows(&flat, sql).await,
            "{user} never opens another county's folder"
        );
        #[cfg(feature = "cluster")]
        {
            let on_cluster = connect(addr_cluster, user).await;
            assert_eq!(
                text_rows(&on_cluster, sql).await,
                text_rows(&flat, sql).await,
                "{user} on the cluster"
            );
        }
    }
    let city = connect(addr_s3, "city").await;
    let err = city.simple_query(sql).await.unwrap_err();
    let db = err.as_db_error().expect("an error from the server");
    assert_eq!(
        db.code(),
        &tokio_postgres::error::SqlState::IO_ERROR,
        "{}",
        db.message()
    );
    assert!(db.message().contains("Parquet"), "{}", db.message());
    // And the server goes on serving.
    let town = connect(addr_s3, "town").await;
    assert!(!text_rows(&town, sql).await.is_empty());
}
