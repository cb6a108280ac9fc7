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
    catalog.file.object_stores.push(ObjectStore {
        url: "s3://city-data".into(),
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
    });
    for d in &mut catalog.file.datasets {
        if d.name == "persons" || d.name == "households" {
            d.location = format!("s3://city-data/population/{}.parquet", d.name);
        }
    }
    let local = load_catalog();
    // And on a cluster whose executors read the bucket through their own
    // copy of the catalog.
    #[cfg(feature = "cluster")]
    let addr_cluster = {
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
    };
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
