//! An archive larger than one machine, on a real scheduler: a one-node Slurm
//! cluster (munge, slurmctld, slurmd on 127.0.0.1) runs the recipe in
//! scripts/cluster/vouch-check.sbatch as a 4-task array; one task is killed
//! mid-run and requeued; `vouch report` merges the shards. The merged
//! verdicts must equal a single-machine `check` of the same archive, every
//! file checked exactly once, and the requeued shard resumed, not restarted.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Std, Stdio};
use std::time::{Duration, Instant};

use common::*;

const SHARDS: usize = 4;
/// The task that is killed mid-run and requeued.
const VICTIM: usize = 2;
const TEXT_FILES: usize = 3000;

/// A one-node cluster in a temp dir, torn down however the test ends.
struct Cluster {
    dir: tempfile::TempDir,
    conf: PathBuf,
    daemons: Vec<Child>,
    jobs: Vec<String>,
}

impl Cluster {
    /// `None`, with the reason printed, where a cluster cannot start here.
    fn start() -> Option<Self> {
        let sbin = ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd"];
        if let Some(missing) = sbin.iter().find(|p| !Path::new(p).exists()) {
            skip(&format!("{missing} is absent (`make deps` installs slurm-wlm and munge)"));
            return None;
        }
        if Std::new("id").arg("-u").output().is_ok_and(|o| o.stdout != b"0\n") {
            skip("the Slurm cluster test runs its daemons as root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let at = |name: &str| root.join(name);
        for sub in ["key", "sock", "state", "spool", "log"] {
            std::fs::create_dir_all(at(sub)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(at("key"), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(at("sock"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let key: Vec<u8> = (0..1024).map(|_| rand_byte()).collect();
        std::fs::write(at("key/munge.key"), key).unwrap();
        std::fs::set_permissions(at("key/munge.key"), std::fs::Permissions::from_mode(0o400)).unwrap();
        let socket = at("sock/munge.socket");
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
        let (ctld_port, slurmd_port) = (free_port(), free_port());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let d = root.display();
        let conf = format!(
            "ClusterName=vouchtest\n\
             SlurmctldHost=localhost(127.0.0.1)\n\
             SlurmctldPort={ctld_port}\nSlurmdPort={slurmd_port}\n\
             SlurmUser=root\nSlurmdUser=root\n\
             AuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket={socket}\n\
             StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\n\
             SlurmctldPidFile={d}/slurmctld.pid\nSlurmdPidFile={d}/slurmd.pid\n\
             SlurmctldLogFile={d}/log/slurmctld.log\nSlurmdLogFile={d}/log/slurmd.log\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
             JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n\
             JobCompType=jobcomp/none\nSchedulerType=sched/builtin\n\
             SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\n\
             MpiDefault=none\nSwitchType=switch/none\nReturnToService=2\nJobRequeue=1\n\
             InactiveLimit=0\nMinJobAge=300\nKillWait=2\n\
             NodeName=vouchnode NodeHostname={hostname} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN\n\
             PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            socket = socket.display()
        );
        let conf_path = at("slurm.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut cluster = Self { dir, conf: conf_path, daemons: Vec::new(), jobs: Vec::new() };
        let log = |name: &str| std::fs::File::create(cluster.dir.path().join("log").join(name)).unwrap();
        let (munge_log, ctld_log, slurmd_log) = (log("munged.out"), log("slurmctld.out"), log("slurmd.out"));
        let munged = Std::new("/usr/sbin/munged")
            .args(["-F", "-f", "--num-threads=2"])
            .arg(format!("--key-file={}", at("key/munge.key").display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={d}/munged.pid"))
            .arg(format!("--seed-file={d}/munged.seed"))
            .arg(format!("--log-file={d}/log/munged.log"))
            .stdout(Stdio::null())
            .stderr(munge_log)
            .spawn()
            .unwrap();
        cluster.daemons.push(munged);
        cluster.wait_for("munged's socket", || socket.exists());
        let ctld = Std::new("/usr/sbin/slurmctld")
            .args(["-D", "-i", "-f"])
            .arg(&cluster.conf)
            .stdout(Stdio::null())
            .stderr(ctld_log)
            .spawn()
            .unwrap();
        cluster.daemons.push(ctld);
        cluster.wait_for("slurmctld", || cluster.slurm("sinfo", &["-h"]).status.success());
        let slurmd = Std::new("/usr/sbin/slurmd")
            .args(["-D", "-N", "vouchnode", "-f"])
            .arg(&cluster.conf)
            .stdout(Stdio::null())
            .stderr(slurmd_log)
            .spawn()
            .unwrap();
        cluster.daemons.push(slurmd);
        cluster.wait_for("the node to be idle", || {
            String::from_utf8_lossy(&cluster.slurm("sinfo", &["-h", "-o", "%t"]).stdout).trim() == "idle"
        });
        Some(cluster)
    }

    /// A Slurm client command against this cluster.
    fn slurm(&self, tool: &str, args: &[&str]) -> std::process::Output {
        Std::new(tool).args(args).env("SLURM_CONF", &self.conf).output().unwrap()
    }

    fn wait_for(&self, what: &str, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ready() {
            assert!(start.elapsed() < Duration::from_secs(60), "{what} not ready in 60 s:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.dir.path().join("log")).unwrap().flatten() {
            let body = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let tail: Vec<&str> = body.lines().rev().take(15).collect();
            text +=
                &format!("--- {}\n{}\n", entry.path().display(), tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
        text
    }

    /// The job's state, `""` once it has left the queue.
    fn job_state(&self, job: &str) -> String {
        loop {
            let out = self.slurm("squeue", &["-h", "-j", job, "-o", "%T"]);
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).trim().to_string();
            }
            // slurmctld busy: ask again rather than take silence for an answer.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for job in &self.jobs {
            let _ = self.slurm("scancel", &[job]);
        }
        if !self.jobs.is_empty() {
            // Give the job steps a moment to be killed before slurmd goes.
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10)
                && self.jobs.iter().any(|j| {
                    // One try each: the controller may be what failed.
                    let out = self.slurm("squeue", &["-h", "-j", j, "-o", "%T"]);
                    out.status.success() && !String::from_utf8_lossy(&out.stdout).trim().is_empty()
                })
            {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        for daemon in self.daemons.iter_mut().rev() {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn rand_byte() -> u8 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    h.finish() as u8
}

/// Whole lines, as `wc -l` counts them in the recipe's log: a line torn by
/// the kill is not a record.
fn lines(path: &Path) -> usize {
    std::fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}

/// The archive: thousands of small text files (warn), signed photos whose
/// root is trusted (pass), tampered ones (fail) and a dangling link (skipped).
fn archive(world: &World) -> PathBuf {
    let dir = world.path("archive");
    for n in 0..TEXT_FILES {
        let sub = dir.join(format!("box{:02}", n % 30));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("note-{n}.txt")), format!("note {n}\n")).unwrap();
    }
    let signed = world.signed("photo.jpg");
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for n in 0..12 {
        let dest = photos.join(format!("photo-{n}.jpg"));
        std::fs::copy(&signed, &dest).unwrap();
        if n % 4 == 0 {
            flip_byte_near_end(&dest);
        }
    }
    std::os::unix::fs::symlink(dir.join("nowhere.jpg"), photos.join("dangling.jpg")).unwrap();
    dir
}

fn summary(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).lines().find(|l| l.contains(" file(s): ")).unwrap_or_default().to_string()
}

#[test]
fn a_slurm_array_checks_every_file_once_and_a_requeued_shard_resumes() {
    let Some(mut cluster) = Cluster::start() else { return };
    let started = Instant::now();
    let world = World::with_identity();
    let archive = archive(&world);
    let trust = world.root_pem();

    // One machine, for reference.
    let single = world
        .vouch()
        .arg("check")
        .arg(&archive)
        .arg("--trust")
        .arg(&trust)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let single_summary = summary(&single.stderr);
    assert_eq!(single.status.code(), Some(1), "a tampered photo fails: {single_summary}");
    assert!(
        single_summary
            .starts_with(&format!("{} file(s): 9 pass, {TEXT_FILES} warn, 3 fail, 1 skipped", TEXT_FILES + 13)),
        "{single_summary}"
    );

    // The cluster: the recipe as shipped, `vouch` on PATH.
    let work = world.path("work");
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("vouch");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/slow_first_attempt.sh"), &wrapper).unwrap();
    let out = work.join("out");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cluster/vouch-check.sbatch");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let submitted = Std::new("sbatch")
        .env("SLURM_CONF", &cluster.conf)
        .env("PATH", &path)
        .env("VOUCH_HOME", world.home())
        .env("VOUCH_TEST_BIN", assert_cmd::cargo::cargo_bin("vouch"))
        .env("VOUCH_TEST_SLOW_TASK", VICTIM.to_string())
        .arg("--parsable")
        .arg(format!("--array=0-{}", SHARDS - 1))
        .arg(format!("--chdir={}", work.display()))
        .arg(format!("--output={}/log-%a.txt", work.display()))
        .arg(&script)
        .arg(&archive)
        .arg(&out)
        .arg("--trust")
        .arg(&trust)
        .output()
        .unwrap();
    assert!(submitted.status.success(), "sbatch: {}", String::from_utf8_lossy(&submitted.stderr));
    let job = String::from_utf8_lossy(&submitted.stdout).trim().to_string();
    cluster.jobs.push(job.clone());
    let victim_job = format!("{job}_{VICTIM}");
    let victim_records = out.join(format!("shard-{VICTIM}-of-{SHARDS}.jsonl"));

    // Kill the slow task mid-run, requeue it, and let it start again now
    // rather than after Slurm's requeue delay.
    cluster.wait_for("the victim task to write records", || lines(&victim_records) >= 20);
    assert_eq!(cluster.job_state(&victim_job), "RUNNING");
    let requeue = cluster.slurm("scontrol", &["requeue", &victim_job]);
    assert!(requeue.status.success(), "requeue: {}", String::from_utf8_lossy(&requeue.stderr));
    cluster.wait_for("the victim to be requeued", || cluster.job_state(&victim_job) == "PENDING");
    let at_kill = lines(&victim_records);
    // Slurm holds a requeued job back for a while; release it at once. A
    // launch that races slurmd's cleanup of the killed attempt is refused by
    // slurmd ("already killed") without running the script: requeue again.
    std::thread::sleep(Duration::from_secs(2));
    let mut relaunches = 0;
    cluster.wait_for("every task to finish", || {
        let queue = cluster.slurm("squeue", &["-h", "-j", &job, "-t", "all", "-o", "%i %T %r"]);
        let text = String::from_utf8_lossy(&queue.stdout);
        let victim = text.lines().find(|l| l.starts_with(&format!("{victim_job} "))).unwrap_or_default();
        if victim.contains(" FAILED ") && relaunches < 3 {
            relaunches += 1;
            cluster.slurm("scontrol", &["requeue", &victim_job]);
        }
        if victim.contains("BeginTime") {
            let release = cluster.slurm("scontrol", &["update", &format!("JobId={victim_job}"), "StartTime=now"]);
            assert!(release.status.success(), "update: {}", String::from_utf8_lossy(&release.stderr));
        }
        queue.status.success() && text.lines().count() == SHARDS && text.lines().all(|l| l.contains(" COMPLETED "))
    });

    // The requeued shard picked up where it was killed.
    let victim_log = std::fs::read_to_string(work.join(format!("log-{VICTIM}.txt"))).unwrap();
    let attempts: Vec<&str> = victim_log.lines().filter(|l| l.starts_with("vouch-check: shard")).collect();
    assert_eq!(attempts.len(), 2, "two attempts of the victim: {victim_log}");
    assert!(attempts[0].contains("attempt 1: 0 record(s)"), "{victim_log}");
    // (A launch slurmd refused ran no script but counts as an attempt.)
    assert!(attempts[1].contains(&format!(": {at_kill} record(s) already")), "{victim_log}");
    assert!(!attempts[1].contains("attempt 1:"), "{victim_log}");
    let victim_total = lines(&victim_records);
    assert!(at_kill > 0 && at_kill < victim_total, "killed mid-run: {at_kill} of {victim_total} records");

    // Every file exactly once, in exactly one shard.
    let shards: Vec<PathBuf> = (0..SHARDS).map(|i| out.join(format!("shard-{i}-of-{SHARDS}.jsonl"))).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, shard) in shards.iter().enumerate() {
        for record in json_lines(&std::fs::read(shard).unwrap()) {
            let path = record["path"].as_str().unwrap().to_string();
            assert!(record.get("error").is_none(), "{record}");
            if let Some(other) = seen.insert(path.clone(), i) {
                panic!("{path} recorded by shard {other} and shard {i}");
            }
        }
    }
    let single_paths: Vec<String> =
        json_lines(&single.stdout).iter().map(|r| r["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(seen.len(), single_paths.len());
    assert!(single_paths.iter().all(|p| seen.contains_key(p)));

    // The merged report says what one machine said.
    let merged = world.vouch().arg("report").args(&shards).args(["--format", "json"]).output().unwrap();
    assert_eq!(summary(&merged.stderr), single_summary);
    assert_eq!(merged.status.code(), single.status.code());
    assert_eq!(json_lines(&merged.stdout).len(), single_paths.len());
    let junit = world.vouch().arg("report").args(&shards).args(["--format", "junit"]).output().unwrap();
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(xml.contains(&format!("tests=\"{}\" failures=\"3\"", TEXT_FILES + 13)), "{xml}");
    eprintln!("slurm cluster test took {:.1} s", started.elapsed().as_secs_f64());
}
