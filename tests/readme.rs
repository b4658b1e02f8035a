//! The README's examples run as written. Every line of its ```sh blocks is
//! run, in README order, by bash in one scratch folder holding the sample
//! files the examples name, with the real binary first on PATH and
//! `VOUCH_HOME` (and `HOME`, for `~/`) inside that folder. Lines starting
//! `# ` right after a command are the output the README shows, and must
//! appear in what the command prints. An example that names a public server
//! runs against a local one of the same kind in its place; what cannot run
//! here at all is listed in `RULES` with the reason, and a rule that
//! matches no example fails the test, so the list cannot go stale.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, python, shared, Anvil, Calendar, Pki, Tsa, DEV_KEY};

/// One command of the README with the output lines it shows.
struct Example {
    line: usize,
    command: String,
    shown: Vec<String>,
}

/// Every line of every ```sh block, with its README line number.
fn examples(readme: &str) -> Vec<Example> {
    let mut found: Vec<Example> = Vec::new();
    let mut in_block = false;
    for (i, text) in readme.lines().enumerate() {
        let trimmed = text.trim();
        if !in_block {
            in_block = trimmed == "```sh";
            continue;
        }
        if trimmed.starts_with("```") {
            in_block = false;
        } else if let Some(output) = trimmed.strip_prefix("# ") {
            found.last_mut().expect("a shown output follows a command").shown.push(output.to_string());
        } else if !trimmed.is_empty() {
            found.push(Example { line: i + 1, command: trimmed.to_string(), shown: Vec::new() });
        }
    }
    found
}

/// What a local stand-in replaces in a command.
#[derive(Clone, Copy)]
enum Local {
    /// The text becomes the local OpenTimestamps calendar's URL.
    Calendar,
    /// The text becomes the local EVM chain's URL.
    Chain,
    /// The text becomes the local time-stamping authority's URL.
    Tsa,
    /// The text becomes anvil's development key.
    DevKey,
}

/// How an example other than a plain "exits 0" is run, and why.
struct Rule {
    /// The start of the example's command.
    command: &'static str,
    why: &'static str,
    skip: bool,
    exit: i32,
    /// `(text, by)`: replaced in the command, `by` given literally or as `{local}`.
    replace: &'static [(&'static str, &'static str)],
    local: Option<Local>,
    env: &'static [(&'static str, &'static str)],
}

const RUN: Rule = Rule { command: "", why: "", skip: false, exit: 0, replace: &[], local: None, env: &[] };

const RULES: &[Rule] = &[
    Rule { command: "make demo", why: "tests/demo.rs runs scripts/demo.sh", skip: true, ..RUN },
    Rule { command: "make test", why: "it is the whole test suite, this test included", skip: true, ..RUN },
    Rule {
        command: "make install",
        why: "it writes into system folders and builds a release: tests/cluster_recipes.rs installs into a scratch PREFIX",
        skip: true,
        ..RUN
    },
    Rule {
        command: "vouch identity new --name \"Capture Station 3\"",
        why: "the passphrase comes from the environment, as the README says",
        env: &[("VOUCH_PASSPHRASE", "correct horse battery staple")],
        ..RUN
    },
    Rule {
        command: "vouch identity import",
        why: "an alternative to `identity new`, which would refuse to replace the identity made above: run in a home of its own",
        env: &[("VOUCH_HOME", "{work}/newsroom-home")],
        ..RUN
    },
    Rule {
        command: "vouch sign photo.jpg -o stamped/ --tsa",
        why: "a public time-stamping authority: run against a local one (openssl ts behind tests/interop/tsa.py)",
        replace: &[("http://timestamp.digicert.com", "{local}")],
        local: Some(Local::Tsa),
        ..RUN
    },
    Rule {
        command: "vouch verify delivery/ --rpc https://eth.example.org",
        why: "public EVM nodes: tests/anchor_evm.rs checks several nodes against local chains",
        skip: true,
        ..RUN
    },
    Rule {
        command: "vouch check delivery/ --policy newsroom.toml",
        why: "the README's newsroom.toml requires a confirmed anchor, which delivery/ has not yet: the check fails, as it should",
        exit: 1,
        ..RUN
    },
    Rule {
        command: "vouch detect interview.mp4 --faces --model meso4-df.toml",
        why: "MesoNet flags a face in the shared FaceForensics++ interview (a real one: it is no proof either way), and a flagged file exits 1",
        exit: 1,
        ..RUN
    },
    Rule {
        command: "vouch anchor delivery/ --to ots",
        why: "the public calendars: run against a local one",
        replace: &[("--to ots", "--to ots --calendar {local} --min-calendars 1")],
        local: Some(Local::Calendar),
        ..RUN
    },
    Rule {
        command: "vouch anchor photo.jpg --to ots --calendar https://a.pool.opentimestamps.org",
        why: "a public calendar: run against a local one",
        replace: &[("https://a.pool.opentimestamps.org", "{local}")],
        local: Some(Local::Calendar),
        ..RUN
    },
    Rule {
        command: "vouch anchor upgrade delivery/*.ots",
        why: "\"a few hours later\": the local calendar has not reached Bitcoin, so the proofs stay pending (exit 1)",
        replace: &[("delivery/*.ots", "delivery/*.ots --calendar {local}")],
        local: Some(Local::Calendar),
        exit: 1,
        ..RUN
    },
    Rule {
        command: "export ANCHOR_KEY=0x…",
        why: "a placeholder for a funded key: anvil's development key",
        replace: &[("0x…", "{local}")],
        local: Some(Local::DevKey),
        ..RUN
    },
    Rule {
        command: "vouch anchor delivery/ --to evm --rpc https://rpc.example.org",
        why: "a public chain (id 1): run against a local anvil chain (id 31337) mining a block a second",
        replace: &[("https://rpc.example.org", "{local}"), ("--chain-id 1 ", "--chain-id 31337 ")],
        local: Some(Local::Chain),
        ..RUN
    },
    Rule {
        command: "vouch verify delivery/ --rpc https://rpc.example.org",
        why: "a public chain: run against the local one",
        replace: &[("https://rpc.example.org", "{local}")],
        local: Some(Local::Chain),
        ..RUN
    },
    Rule {
        command: "vouch watch /media/card",
        why: "a station that runs until stopped, on a camera card: tests/watch.rs drives it",
        skip: true,
        ..RUN
    },
    Rule {
        command: "vouch watch ingest/",
        why: "a station that runs until stopped: tests/watch.rs drives it",
        skip: true,
        ..RUN
    },
];

fn rule_for(example: &Example) -> Option<&'static Rule> {
    let mut matching = RULES.iter().filter(|r| example.command.starts_with(r.command));
    let rule = matching.next();
    assert!(matching.next().is_none(), "README.md:{}: two rules match `{}`", example.line, example.command);
    rule
}

/// The sample files the examples name, in `work`.
fn prepare(work: &Path) {
    let copy = |from: PathBuf, to: &str| {
        let dest = work.join(to);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    };
    copy(fixture("photo.jpg"), "photo.jpg");
    copy(fixture("clip.mp4"), "clip.mp4");
    copy(fixture("image.png"), "render.png");
    copy(fixture("image.png"), "shoot/street.png");
    copy(fixture("image.webp"), "shoot/market.webp");
    for name in ["daily-planet-root.pem", "newsroom-chain.pem", "signer.key"] {
        copy(fixture(&format!("readme/{name}")), name);
    }
    copy(fixture("readme/daily-planet-root.pem"), "roots/daily-planet-root.pem");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(work.join("signer.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    // A newer C2PA trust list "you downloaded": the shipped one.
    copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/trust-lists/C2PA-TRUST-LIST.pem"), "C2PA-TRUST-LIST.pem");
    // The C2PA asset rubrics, where `make install` would have put them.
    for name in ["asset-rubric-conformance0.2-spec2.4.yml", "asset-rubric-integrity.yml"] {
        copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/c2pa-rubrics").join(name), &format!("rubrics/{name}"));
    }
    // A detector card of your own, by path: a tiny generated model.
    copy(fixture("models/tiny-logit.toml"), "detectors/npr.toml");
    copy(fixture("models/tiny-logit.onnx"), "detectors/tiny-logit.onnx");
    // The policy the README shows.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let policy = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with("# newsroom.toml"))
        .expect("the README's policy, a toml block starting `# newsroom.toml`");
    std::fs::write(work.join("newsroom.toml"), policy).unwrap();
    // Real OpenTimestamps proof and Bitcoin headers, when the shared material is there.
    if let Some(ots) = shared("interop/ots") {
        for name in ["hello-world.txt", "hello-world.txt.ots", "bitcoin-headers.txt"] {
            copy(ots.join(name), name);
        }
    }
    // The example detector cards beside their weights, and a video with a
    // face, when the shared material is there.
    if let Some(detect) = shared("detect") {
        for (card, weights) in [("meso4-df.toml", "Meso4_DF.onnx"), ("yunet.toml", "yunet_n_dynamic.onnx")] {
            copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/examples").join(card), card);
            std::os::unix::fs::symlink(detect.join("models").join(weights), work.join(weights)).unwrap();
        }
        copy(detect.join("videos/ffpp_real_519.mp4"), "interview.mp4");
    }
    // An archive to shard: enough files that shard 3 of 16 gets some.
    for i in 0..48 {
        copy(fixture("image.png"), &format!("archive/2019/img-{i:03}.png"));
    }
}

/// Folders of signed files (`inbox/`, `delivery/`) are made from what the
/// examples before them signed, the moment an example first names them.
fn fill_from_signed(work: &Path, command: &str) {
    for folder in ["inbox", "delivery"] {
        let dir = work.join(folder);
        if command.contains(&format!("{folder}/")) && !dir.exists() && work.join("signed").is_dir() {
            std::fs::create_dir_all(&dir).unwrap();
            for entry in std::fs::read_dir(work.join("signed")).unwrap().map(Result::unwrap) {
                if entry.path().is_file() && !entry.file_name().to_string_lossy().starts_with('.') {
                    std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
                }
            }
        }
    }
}

/// The local servers, started the first time an example needs one.
#[derive(Default)]
struct Servers {
    calendar: Option<Calendar>,
    chain: Option<Anvil>,
    tsa: Option<(Pki, Tsa)>,
}

impl Servers {
    /// The local stand-in's value, or why it cannot run here.
    fn url(&mut self, local: Local, work: &Path) -> Result<String, String> {
        let absent = |what: &str| format!("{what} is absent (run `make deps`)");
        Ok(match local {
            Local::DevKey => DEV_KEY.to_string(),
            Local::Calendar => {
                if self.calendar.is_none() {
                    self.calendar = Some(Calendar::start(&python().ok_or_else(|| absent("the test venv"))?));
                }
                self.calendar.as_ref().unwrap().url.clone()
            }
            Local::Chain => {
                if self.chain.is_none() {
                    self.chain = Some(Anvil::start_with(&["--block-time", "1"]).ok_or_else(|| absent("anvil"))?);
                }
                self.chain.as_ref().unwrap().url.clone()
            }
            Local::Tsa => {
                if self.tsa.is_none() {
                    let python = python().ok_or_else(|| absent("the test venv"))?;
                    let pki = Pki::new(&work.join(".tsa-pki"), "Demo TSA Root", "Demo TSA", "critical,timeStamping");
                    let tsa = Tsa::start(&python, &pki, None, None);
                    self.tsa = Some((pki, tsa));
                }
                self.tsa.as_ref().unwrap().1.url.clone()
            }
        })
    }
}

/// Whitespace runs folded to one space, as a shown output line is compared.
fn folded(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_readme_example_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() > 50, "only {} examples found in README.md", examples.len());
    for rule in RULES {
        assert!(
            examples.iter().any(|e| e.command.starts_with(rule.command)),
            "no README example starts with `{}` any more: remove its rule",
            rule.command
        );
    }

    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().canonicalize().unwrap();
    prepare(&work);
    let binary = assert_cmd::cargo::cargo_bin("vouch");
    let path = format!("{}:{}", binary.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let mut exported: Vec<(String, String)> = Vec::new();
    let mut servers = Servers::default();
    let mut failures = Vec::new();
    let mut ran = 0;

    for example in &examples {
        let rule = rule_for(example);
        let mut command = example.command.clone();
        if let Some(rule) = rule {
            if rule.skip {
                eprintln!("README.md:{}: not run ({}): {}", example.line, rule.why, example.command);
                continue;
            }
            if let Some(local) = rule.local {
                let url = match servers.url(local, &work) {
                    Ok(url) => url,
                    Err(why) => {
                        common::skip(&format!("README.md:{}: {why}", example.line));
                        continue;
                    }
                };
                for (text, by) in rule.replace {
                    assert!(command.contains(text), "README.md:{}: `{text}` is not in `{command}`", example.line);
                    command = command.replace(text, &by.replace("{local}", &url));
                }
            }
        }
        // Material that is absent here: shared files (`shared` said so when
        // preparing) or a proof a skipped example would have made.
        if let Some(absent) = ["hello-world.txt", "meso4-df.toml", "photo.jpg.ots"]
            .iter()
            .find(|f| command.contains(*f) && !work.join(f).is_file())
        {
            common::skip(&format!("README.md:{}: {absent} is absent here", example.line));
            continue;
        }
        // `export NAME=VALUE` holds for the examples after it, as in a shell.
        if let Some((name, value)) = command.strip_prefix("export ").and_then(|a| a.split_once('=')) {
            let value = value.split_whitespace().next().unwrap_or_default();
            exported.push((name.to_string(), value.to_string()));
            continue;
        }
        fill_from_signed(&work, &command);

        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(&command)
            .current_dir(&work)
            .env("PATH", &path)
            .env("HOME", &work)
            .env("VOUCH_HOME", work.join("home"))
            .env_remove("VOUCH_PASSPHRASE")
            .envs(exported.iter().map(|(k, v)| (k, v)));
        if let Some(rule) = rule {
            for (name, value) in rule.env {
                cmd.env(name, value.replace("{work}", &work.to_string_lossy()));
            }
        }
        let out = cmd.output().unwrap();
        ran += 1;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let want = rule.map_or(0, |r| r.exit);
        if out.status.code() != Some(want) {
            failures.push(format!(
                "README.md:{}: `{}` exited {:?}, expected {want}{}\n{stderr}",
                example.line,
                example.command,
                out.status.code(),
                rule.map(|r| format!(" ({})", r.why)).unwrap_or_default()
            ));
            continue;
        }
        let printed = folded(&stdout);
        for shown in &example.shown {
            if !printed.contains(&folded(shown)) {
                failures.push(format!(
                    "README.md:{}: `{}` does not print the line the README shows: {shown}\n{stdout}",
                    example.line, example.command
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {ran} README examples failed:\n\n{}", failures.len(), failures.join("\n"));
    assert!(ran >= 40, "only {ran} README examples ran");
}
