//! What every end-to-end test needs: the real `vouch` binary run in an
//! isolated home, the fixtures, and the optional outside material.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// A scratch world: its own VOUCH_HOME (identity, trust store) and a work dir.
pub struct World {
    pub dir: TempDir,
}

impl World {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// A world with a signing identity already created.
    pub fn with_identity() -> Self {
        let world = Self::new();
        world.vouch().args(["identity", "new", "--name", "Test Reporter", "--org", "Test Newsroom"]).assert().success();
        world
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn identity(&self) -> PathBuf {
        self.home().join("identity")
    }

    pub fn root_pem(&self) -> PathBuf {
        self.identity().join("root.pem")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The real binary, isolated from the user's own identity and anchors.
    pub fn vouch(&self) -> Command {
        let mut cmd = Command::cargo_bin("vouch").expect("vouch binary");
        cmd.env("VOUCH_HOME", self.home()).env_remove("VOUCH_PASSPHRASE");
        cmd
    }

    /// Copies a fixture into the work dir and returns its new path.
    pub fn fixture(&self, name: &str) -> PathBuf {
        let dest = self.path(name);
        std::fs::copy(fixture(name), &dest).expect("copy fixture");
        dest
    }

    /// Signs fixture `name` into `<work>/signed/` and returns the signed path.
    pub fn signed(&self, name: &str) -> PathBuf {
        let out = self.path("signed");
        self.vouch().arg("sign").arg(fixture(name)).arg("-o").arg(&out).assert().success();
        out.join(name)
    }
}

/// One file of every format the README lists.
pub const MEDIA: &[&str] = &[
    "photo.jpg",
    "image.png",
    "image.webp",
    "image.gif",
    "image.tiff",
    "photo.dng",
    "image.avif",
    "image.heic",
    "image.heif",
    "clip.mp4",
    "clip.m4v",
    "clip.mov",
    "tone.m4a",
    "tone.wav",
    "clip.avi",
    "tone.mp3",
    "image.svg",
    "document.pdf",
];

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

pub fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read file")))
}

/// Files in a directory tree, relative, sorted: to prove nothing was written.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    names.sort();
    names
}

/// Material made by other tools, beside the repo (`$VOUCH_SHARED`, default
/// `../shared`). `None`, with the reason printed, when it is absent.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("VOUCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = base.join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!("{} is absent (set VOUCH_SHARED to the shared material)", dir.display()));
        None
    }
}

/// The Python with c2pa-python installed by `make deps` (`$VOUCH_PYTHON`,
/// default `.deps/venv/bin/python`). `None`, with the reason printed, when absent.
pub fn python() -> Option<PathBuf> {
    installed("VOUCH_PYTHON", ".deps/venv/bin/python")
}

/// A program `make deps` installs: `$var`, default `default` under the
/// repository. `None`, with the reason printed, when absent.
fn installed(var: &str, default: &str) -> Option<PathBuf> {
    let program =
        std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(default));
    if program.is_file() {
        Some(program)
    } else {
        skip(&format!("{} is absent (run `make deps`)", program.display()));
        None
    }
}

/// faketime (Debian, `make deps`), for tests that sign in the past. `None`,
/// with the reason printed, when it is absent.
pub fn faketime() -> Option<PathBuf> {
    let found = Some(PathBuf::from("/usr/bin/faketime")).filter(|p| p.is_file());
    if found.is_none() {
        skip("faketime is absent (run `make deps`)");
    }
    found
}

/// `program` run with its clock starting at `when` ("2020-01-10 12:00:00"),
/// libfaketime preloaded directly: the `faketime` wrapper names a shared
/// semaphore after its pid, and one left behind by a killed run makes a
/// later wrapper with the same pid fail ("sem_open: File exists").
pub fn faked(faketime: &Path, program: impl AsRef<std::ffi::OsStr>, when: &str) -> std::process::Command {
    const LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    let mut cmd = if Path::new(LIB).is_file() {
        let mut cmd = std::process::Command::new(program);
        cmd.env("LD_PRELOAD", LIB).env("FAKETIME", format!("@{when}"));
        cmd
    } else {
        let mut cmd = std::process::Command::new(faketime);
        cmd.arg(when).arg(program);
        cmd
    };
    cmd.env_remove("FAKETIME_SHARED");
    cmd
}

impl World {
    /// The real binary run at `when` (see [`faked`]), in this world's home.
    pub fn at(&self, faketime: &Path, when: &str) -> std::process::Command {
        let mut cmd = faked(faketime, assert_cmd::cargo::cargo_bin("vouch"), when);
        cmd.env("VOUCH_HOME", self.home());
        cmd
    }

    /// A 30-day signing identity made on 2020-01-01, long expired today.
    pub fn expired_identity(&self, faketime: &Path) {
        let made = self
            .at(faketime, "2020-01-01 00:00:00")
            .args(["identity", "new", "--name", "Old Reporter", "--org", "Planet", "--days", "30"])
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    }
}

/// Says why a test skips. Under `VOUCH_NO_SKIP=1` (set by `make mutants`)
/// a skip is a failure: a mutant must never survive because a test that
/// would have killed it quietly did nothing.
pub fn skip(reason: &str) {
    if std::env::var_os("VOUCH_NO_SKIP").is_some_and(|v| v == "1") {
        panic!("VOUCH_NO_SKIP=1 but this test would skip: {reason}");
    }
    eprintln!("SKIP: {reason}");
}

/// Parses each stdout line as JSON.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Flips one byte near the end of a file (inside the image data of a JPEG).
pub fn flip_byte_near_end(path: &Path) {
    let mut data = std::fs::read(path).unwrap();
    let at = data.len() - 100;
    data[at] ^= 0xFF;
    std::fs::write(path, data).unwrap();
}

/// A calendar process, killed when the test ends however it ends.
pub struct Calendar {
    child: std::process::Child,
    pub url: String,
}

impl Calendar {
    pub fn start(python: &Path) -> Self {
        Self::start_with(python, &[])
    }

    /// A calendar started with extra flags (`--lie wrong-root`, …).
    pub fn start_with(python: &Path, args: &[&str]) -> Self {
        let mut child = std::process::Command::new(python)
            .arg(fixture("../tests/interop/ots_calendar.py"))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the test calendar");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line.trim().strip_prefix("listening ").expect("calendar announces its port");
        Self { child, url: format!("http://127.0.0.1:{port}") }
    }

    pub fn get(&self, route: &str) -> String {
        let out = std::process::Command::new("curl").args(["-sf", &format!("{}{route}", self.url)]).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn posts(&self) -> u64 {
        let stats: serde_json::Value = serde_json::from_str(&self.get("/stats")).unwrap();
        stats["posts"].as_u64().unwrap()
    }

    /// Requests for completed timestamps the calendar has received.
    pub fn gets(&self) -> u64 {
        let stats: serde_json::Value = serde_json::from_str(&self.get("/stats")).unwrap();
        stats["gets"].as_u64().unwrap()
    }

    pub fn mine(&self) {
        let out = std::process::Command::new("curl")
            .args(["-sf", "-X", "POST", &format!("{}/mine", self.url)])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
}

impl Drop for Calendar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file from the npm packages `make deps` installs (`$VOUCH_NPM_DIR`,
/// default `.deps/npm`). `None`, with the reason printed, when absent.
pub fn npm_file(relative: &str) -> Option<PathBuf> {
    let npm = std::env::var_os("VOUCH_NPM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".deps/npm"));
    let path = npm.join("node_modules").join(relative);
    if path.is_file() {
        Some(path)
    } else {
        skip(&format!("{} is absent (run `make deps`)", path.display()));
        None
    }
}

/// A three-level PKI made with the openssl CLI (an independent tool):
/// a root, an issuing CA, and a P-256 claim signer it issues.
pub struct Pki {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub ica: PathBuf,
    pub leaf: PathBuf,
    /// Leaf, issuing CA and root, as `identity import` takes them.
    pub chain: PathBuf,
    pub key: PathBuf,
}

/// Runs openssl in `dir`, failing the test with its stderr if it fails;
/// with the clock at `at` when it is given (libfaketime, see [`faked`]).
pub fn openssl(dir: &Path, args: &[&str], at: Option<&str>) {
    let mut cmd = match at {
        Some(at) => faked(Path::new("/usr/bin/faketime"), "openssl", at),
        None => std::process::Command::new("openssl"),
    };
    let out = cmd.current_dir(dir).args(args).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Pki {
    /// Root `root_cn` → "<root_cn> Issuing CA" → a signer whose extended
    /// key usage is `leaf_eku` (e.g. `emailProtection`, `critical,timeStamping`).
    pub fn new(dir: &Path, root_cn: &str, leaf_cn: &str, leaf_eku: &str) -> Self {
        Self::made_at(dir, root_cn, leaf_cn, leaf_eku, None)
    }

    /// The same, made with the clock at `at` (faketime), so that its
    /// certificates are valid from then.
    pub fn made_at(dir: &Path, root_cn: &str, leaf_cn: &str, leaf_eku: &str, at: Option<&str>) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let run = |args: &[&str]| openssl(dir, args, at);
        for key in ["root.key", "ica.key", "leaf.key"] {
            run(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
        }
        let ca_ext = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
                      subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n";
        std::fs::write(dir.join("ca.ext"), ca_ext).unwrap();
        let leaf_ext = format!(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={leaf_eku}\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        );
        std::fs::write(dir.join("leaf.ext"), leaf_ext).unwrap();
        let subj = |cn: &str| format!("/CN={cn}/O=Test Trust Org");
        run(&[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-subj",
            &subj(root_cn),
            "-days",
            "36500",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "root.pem",
        ]);
        let issue = |name: &str, cn: &str, ca: &str, ext: &str, days: &str| {
            run(&["req", "-new", "-key", &format!("{name}.key"), "-subj", &subj(cn), "-out", &format!("{name}.csr")]);
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{ca}.pem"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                days,
                "-extfile",
                ext,
                "-out",
                &format!("{name}.pem"),
            ]);
        };
        issue("ica", &format!("{root_cn} Issuing CA"), "root", "ca.ext", "36500");
        issue("leaf", leaf_cn, "ica", "leaf.ext", "36500");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        std::fs::write(dir.join("chain.pem"), [read("leaf.pem"), read("ica.pem"), read("root.pem")].concat()).unwrap();
        std::fs::write(dir.join("leaf-ica.pem"), [read("leaf.pem"), read("ica.pem")].concat()).unwrap();
        Self {
            dir: dir.to_path_buf(),
            root: dir.join("root.pem"),
            ica: dir.join("ica.pem"),
            leaf: dir.join("leaf.pem"),
            chain: dir.join("chain.pem"),
            key: dir.join("leaf.key"),
        }
    }
}

/// A time-stamping authority process (OpenSSL's `openssl ts -reply` behind
/// tests/interop/tsa.py) on 127.0.0.1, killed when the test ends.
pub struct Tsa {
    child: std::process::Child,
    pub url: String,
}

impl Tsa {
    /// Serves timestamps signed by `pki`'s leaf; `lie` as tsa.py takes it;
    /// `at` runs it (and openssl under it) with the clock at that time.
    pub fn start(python: &Path, pki: &Pki, lie: Option<&str>, at: Option<&str>) -> Self {
        let mut cmd = std::process::Command::new(python);
        if let Some(at) = at {
            // libfaketime preloaded into the server itself (not through the
            // faketime wrapper, which would outlive a kill) and its openssl.
            cmd.env("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1").env("FAKETIME", at);
        }
        // Its scratch folder goes beside the test's PKI, which the test
        // removes: the server is killed and cannot clean up after itself.
        if let Some(dir) = pki.leaf.parent() {
            cmd.env("TMPDIR", dir);
        }
        cmd.arg(fixture("../tests/interop/tsa.py"))
            .arg("--cert")
            .arg(&pki.leaf)
            .arg("--key")
            .arg(&pki.key)
            .arg("--chain")
            .arg(&pki.ica);
        if let Some(lie) = lie {
            cmd.args(["--lie", lie]);
        }
        let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().expect("start the test TSA");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let port = line.trim().strip_prefix("listening ").expect("the TSA announces its port").to_string();
        Self { child, url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The C2PA Conformance Program's official rubric evaluators
/// (`$VOUCH_SHARED/c2pa-rubrics/evaluate`, run by the Python of `make deps`,
/// which has PyYAML). `None`, with the reason printed, when either is absent.
pub struct Rubrics {
    evaluate: PathBuf,
    python: PathBuf,
}

impl Rubrics {
    pub fn find() -> Option<Self> {
        let dir = shared("c2pa-rubrics")?;
        let python = python()?;
        Some(Self { evaluate: dir.join("evaluate"), python })
    }

    /// The evaluator's report for `rubric` (`conformance`, `integrity`,
    /// `signals`) on a crJSON file.
    pub fn evaluate(&self, rubric: &str, crjson: &Path) -> serde_json::Value {
        let out = std::process::Command::new(&self.evaluate)
            .arg(rubric)
            .arg(crjson)
            .env("PYTHON", &self.python)
            .output()
            .expect("run the official evaluator");
        assert!(
            out.status.success(),
            "evaluate {rubric} {}: {}",
            crjson.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("evaluate {rubric}: not JSON ({e})"))
    }
}

/// The traits a conformance or integrity report puts under `outcome`
/// (`"true"`, `"false"`, `"warning"`), over all its groups.
pub fn traits(report: &serde_json::Value, outcome: &str) -> Vec<String> {
    report[outcome]
        .as_object()
        .map(|groups| {
            groups
                .values()
                .flat_map(|g| g.as_array().cloned().unwrap_or_default())
                .filter_map(|t| t["trait"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl World {
    /// `vouch inspect --crjson FILE`, written to `<work>/crjson/<n>.json`.
    pub fn crjson(&self, file: &Path, extra: &[&std::ffi::OsStr]) -> PathBuf {
        let out = self.vouch().arg("inspect").arg("--crjson").arg(file).args(extra).output().unwrap();
        assert!(out.status.success(), "inspect --crjson {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
        let dir = self.path("crjson");
        std::fs::create_dir_all(&dir).unwrap();
        let dest = dir.join(format!("{}.json", std::fs::read_dir(&dir).unwrap().count()));
        std::fs::write(&dest, &out.stdout).unwrap();
        dest
    }
}

/// anvil's first well-known development account (public test key).
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const DEV_ADDRESS: &str = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
pub const CHAIN_ID: u64 = 31337;

/// The anvil binary that `make deps` installed (`$VOUCH_NPM_DIR`, default
/// `.deps/npm`). `None`, with the reason printed, when absent.
pub fn anvil_binary() -> Option<PathBuf> {
    let npm = std::env::var_os("VOUCH_NPM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".deps/npm"));
    let packages = npm.join("node_modules/@foundry-rs");
    let found = std::fs::read_dir(&packages).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin/anvil"))
            .find(|p| p.is_file() && p.parent().unwrap().parent().unwrap().to_string_lossy().contains("anvil-"))
    });
    if found.is_none() {
        skip(&format!("no anvil under {} (run `make deps`)", packages.display()));
    }
    found
}

/// A local chain, killed when the test ends however it ends.
pub struct Anvil {
    child: std::process::Child,
    pub url: String,
}

impl Anvil {
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// anvil with extra flags (`--timestamp` for a genesis in the past…).
    pub fn start_with(extra: &[&str]) -> Option<Self> {
        let binary = anvil_binary()?;
        // Port 0: anvil binds a free port itself and says which, so no other
        // test's server can take it between choosing and binding.
        let mut child = std::process::Command::new(binary)
            .args(["--host", "127.0.0.1", "--port", "0", "--chain-id", &CHAIN_ID.to_string()])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start anvil");
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
        let address = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("Listening on ").map(str::to_string))
            .expect("anvil did not say where it listens");
        // Drained so that anvil never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let anvil = Self { child, url: format!("http://{}", address.trim()) };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(address.trim()).is_err() {
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "anvil did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(anvil)
    }

    pub fn call(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        rpc_call(&self.url, method, params)
    }

    pub fn block_number(&self) -> u64 {
        u64::from_str_radix(
            self.call("eth_blockNumber", serde_json::json!([])).as_str().unwrap().trim_start_matches("0x"),
            16,
        )
        .unwrap()
    }

    pub fn transactions_in_block(&self, number: u64) -> usize {
        let block = self.call("eth_getBlockByNumber", serde_json::json!([format!("0x{number:x}"), false]));
        block["transactions"].as_array().unwrap().len()
    }

    pub fn block_hash(&self, number: u64) -> String {
        let block = self.call("eth_getBlockByNumber", serde_json::json!([format!("0x{number:x}"), false]));
        block["hash"].as_str().unwrap().to_string()
    }

    /// Sends `data` from anvil's first (unlocked) account and returns the
    /// transaction hash once anvil has mined it into a block of its own
    /// (the hash comes back before the block exists; a test that asked for
    /// the block at once would race the miner).
    pub fn send(&self, to: &str, data: &[u8]) -> String {
        let tx = serde_json::json!({"from": DEV_ADDRESS, "to": to, "data": format!("0x{}", hex::encode(data)), "gas": "0x30000"});
        let hash = self.call("eth_sendTransaction", serde_json::json!([tx])).as_str().unwrap().to_string();
        let started = std::time::Instant::now();
        while self.call("eth_getTransactionReceipt", serde_json::json!([hash])).is_null() {
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "anvil did not mine {hash}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        hash
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One JSON-RPC call; its `result`.
pub fn rpc_call(url: &str, method: &str, params: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let text = ureq::post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(&text).expect("JSON-RPC reply");
    reply["result"].clone()
}

/// A photo signed by c2pa-python with a self-signed signer certificate
/// (Ed25519, 30 days): the certificate and the photo. With `at`, openssl
/// makes the certificate and c2pa-python signs under faketime at the two
/// times given.
pub fn self_signed_photo(world: &World, python: &Path, at: Option<(&Path, &str, &str)>) -> (PathBuf, PathBuf) {
    let run = |program: &std::ffi::OsStr, when: usize| match at {
        Some((faketime, made, signed)) => faked(faketime, program, if when == 0 { made } else { signed }),
        None => std::process::Command::new(program),
    };
    let (cert, key) = (world.path("self.pem"), world.path("self.key"));
    let made = run("openssl".as_ref(), 0)
        .args(["req", "-x509", "-newkey", "ed25519", "-nodes", "-days", "30", "-subj", "/CN=Self Signer/O=Nobody"])
        .args(["-addext", "keyUsage=critical,digitalSignature", "-addext", "extendedKeyUsage=emailProtection"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let photo = world.path("self-signed.jpg");
    let signed = run(python.as_os_str(), 1)
        .arg(fixture("../tests/interop/c2pa_python.py"))
        .arg("sign")
        .arg(fixture("photo.jpg"))
        .arg(&photo)
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .output()
        .unwrap();
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    (cert, photo)
}

/// Images that declare AI origin the ways generators do (`ai-*`: PNG text
/// chunks, XMP, EXIF) and ones with ordinary camera metadata (`camera-*`),
/// written by tests/detect/declared.py onto blue.png's pixels (which
/// tiny-logit scores 0.269, not flagged) into `<world>/declared`, sorted.
/// `None`, with the reason printed, without the venv's Python.
pub fn declared_files(world: &World) -> Option<Vec<PathBuf>> {
    let python = python()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/detect/declared.py");
    let dir = world.path("declared");
    let out =
        std::process::Command::new(python).arg(script).arg(fixture("models/blue.png")).arg(&dir).output().unwrap();
    assert!(out.status.success(), "declared.py: {}", String::from_utf8_lossy(&out.stderr));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    Some(files)
}

/// c2pa-rs's own command-line tool, built from crates.io by `make deps`
/// (`$VOUCH_C2PATOOL`, default `.deps/c2patool/bin/c2patool`). `None`, with
/// the reason printed, when absent.
pub fn c2patool() -> Option<PathBuf> {
    installed("VOUCH_C2PATOOL", ".deps/c2patool/bin/c2patool")
}

/// Signs `input` with c2patool and this world's identity into `out`, the
/// manifest as `definition` says (the key and certificate are added), with
/// c2patool's own `extra` arguments (`--create TYPE`, `--parent FILE`).
pub fn c2patool_signed(
    world: &World,
    tool: &Path,
    input: &Path,
    out: &str,
    mut definition: serde_json::Value,
    extra: &[&std::ffi::OsStr],
) -> PathBuf {
    definition["alg"] = "ed25519".into();
    definition["private_key"] = world.identity().join("signer.key").to_string_lossy().into();
    definition["sign_cert"] = world.identity().join("signer.pem").to_string_lossy().into();
    let def_path = world.path(&format!("{out}.json"));
    std::fs::write(&def_path, definition.to_string()).unwrap();
    let out = world.path(out);
    let signed = std::process::Command::new(tool)
        .arg(input)
        .arg("-m")
        .arg(&def_path)
        .arg("-o")
        .arg(&out)
        .arg("-f")
        .args(extra)
        .output()
        .unwrap();
    assert!(
        signed.status.success(),
        "c2patool could not sign {} with {definition}: {}",
        input.display(),
        String::from_utf8_lossy(&signed.stderr)
    );
    out
}

/// Signs `photo.jpg` with c2pa-python and a vouch identity, the manifest as
/// `definition` says (no intent added).
pub fn c2pa_python_signed(world: &World, python: &Path, n: usize, definition: serde_json::Value) -> PathBuf {
    let def_path = world.path(&format!("def{n}.json"));
    std::fs::write(&def_path, definition.to_string()).unwrap();
    let out = world.path(&format!("python{n}.jpg"));
    let status = std::process::Command::new(python)
        .arg(fixture("../tests/interop/c2pa_python.py"))
        .arg("sign")
        .arg(fixture("photo.jpg"))
        .arg(&out)
        .arg("--cert")
        .arg(world.identity().join("signer.pem"))
        .arg("--key")
        .arg(world.identity().join("signer.key"))
        .arg("--definition")
        .arg(&def_path)
        .status()
        .unwrap();
    assert!(status.success(), "c2pa-python could not sign {definition}");
    out
}
