//! A password in a node's, an Esplora server's or a calendar's URL is used
//! to connect and never shown: not in errors, not in JSON records, not even
//! in part when it holds `@` or `:`.

mod common;

use common::*;

const PASSWORD: &str = "p@ss:w0rd";

fn url(port: u16) -> String {
    format!("http://alice:{PASSWORD}@127.0.0.1:{port}/")
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn assert_clean(what: &str, out: &std::process::Output) {
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("127.0.0.1"), "{what}: the message should still name the server: {all}");
    for secret in [PASSWORD, "w0rd", "alice:p", "ss:w0rd"] {
        assert!(!all.contains(secret), "{what} leaked `{secret}`: {all}");
    }
}

#[test]
fn calendar_and_node_passwords_never_reach_the_output_when_anchoring() {
    let world = World::with_identity();
    let doc = world.path("doc.txt");
    std::fs::write(&doc, "hello").unwrap();
    let port = closed_port();
    let out = world.vouch().arg("anchor").arg(&doc).args(["--to", "ots", "--calendar", &url(port)]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_clean("anchor --calendar", &out);
    let out = world
        .vouch()
        .arg("anchor")
        .arg(&doc)
        .args(["--to", "evm", "--key-env", "VOUCH_TEST_KEY", "--rpc", &url(port), "--json"])
        .env("VOUCH_TEST_KEY", format!("0x{}", "11".repeat(32)))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_clean("anchor --rpc", &out);
}

#[test]
fn header_source_passwords_never_reach_the_output_when_verifying() {
    let Some(ots) = shared("interop/ots") else { return };
    let world = World::new();
    for name in ["hello-world.txt", "hello-world.txt.ots"] {
        std::fs::copy(ots.join(name), world.path(name)).unwrap();
    }
    let port = closed_port();
    for flag in ["--esplora", "--bitcoin-rpc"] {
        for json in [false, true] {
            let mut cmd = world.vouch();
            cmd.arg("verify").arg(world.path("hello-world.txt")).args([flag, &url(port)]);
            if json {
                cmd.arg("--json");
            }
            let out = cmd.output().unwrap();
            assert_ne!(out.status.code(), Some(0));
            assert_clean(flag, &out);
        }
    }
}

#[test]
fn a_calendar_url_with_credentials_is_refused_without_echoing_them() {
    let world = World::new();
    let Some(ots) = shared("interop/ots") else { return };
    std::fs::copy(ots.join("incomplete.txt.ots"), world.path("incomplete.txt.ots")).unwrap();
    let out = world
        .vouch()
        .args(["anchor", "upgrade"])
        .arg(world.path("incomplete.txt.ots"))
        .args(["--calendar", &url(closed_port())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_clean("upgrade --calendar", &out);
}
