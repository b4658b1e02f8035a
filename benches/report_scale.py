#!/usr/bin/env python3
"""Throughput and peak memory of `vouch report` merging the shards of one
archive: 10,000 then 100,000 `check` records in 4 shard files, rendered as
JSON Lines, text and JUnit. Records/s and peak RSS that stay flat for the
streaming formats while the record count grows tenfold are what "merges
with bounded memory" means.

    .deps/venv/bin/python benches/report_scale.py --vouch target/release/vouch [--records 100000] [--readme README.md]

Peak RSS comes from the kernel (`getrusage` of the finished child). Exits
non-zero when the merged summary does not count every record.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import update_readme  # noqa: E402

SHARDS = 4


def record(i):
    """A `check` record as vouch writes one: a pass, warn, fail or skip."""
    path = f"/archive/{i // 1000:03d}/photo-{i:07d}.jpg"
    kind = i % 10
    if kind == 9:
        return {"path": path, "skipped": "excluded by the policy"}
    if kind == 8:
        reasons = [{"rule": "c2pa", "verdict": "fail",
                    "message": "Content Credentials are invalid (assertion.dataHash.mismatch)"}]
        verdict = "fail"
    elif kind >= 5:
        reasons = [{"rule": "c2pa", "verdict": "warn", "message": "no Content Credentials"}]
        verdict = "warn"
    else:
        reasons, verdict = [], "pass"
    c2pa = {"state": "trusted" if verdict == "pass" else "absent", "signer": "Newsroom Photo Desk",
            "signer_sha256": "ab" * 32, "issuer": "Newsroom CA", "signed_at": "2026-01-01T00:00:00Z",
            "alg": "Es256", "codes": [], "actions": ["c2pa.created"], "digital_source_type": None,
            "ingredients": [], "title": f"photo-{i:07d}.jpg", "claim_generator": "vouch/0.1.0",
            "manifest": f"urn:c2pa:{i:032x}", "sidecar": False, "reason": None}
    anchors = [{"kind": "ots", "state": "confirmed", "chain": "bitcoin", "block": 900000 + i % 1000,
                "block_hash": "00" * 32, "time": "2026-01-02T00:00:00Z", "reason": None,
                "receipt": path + ".ots", "tx_hash": None, "confirmations": None, "beyond_checkpoints": False,
                "invalid_attestations": []}]
    return {"path": path, "c2pa": c2pa, "anchors": anchors, "verdict": verdict, "reasons": reasons}


def generate(folder, records):
    folder.mkdir(parents=True)
    files = [open(folder / f"shard-{s}-of-{SHARDS}.jsonl", "w") for s in range(SHARDS)]
    for i in range(records):
        files[i % SHARDS].write(json.dumps(record(i), separators=(",", ":")) + "\n")
    for f in files:
        f.close()
    return sorted(folder.glob("shard-*.jsonl"))


def measure(vouch, shards, fmt, env):
    """Wall time, peak RSS (MiB) and the summary line of one merge."""
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        child = subprocess.Popen([vouch, "report", *map(str, shards), "--format", fmt], env=env, stdout=sink,
                                 stderr=subprocess.PIPE, text=True)
        stderr = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 1:
        raise SystemExit(f"vouch report exited {code} (a failing record is in every set): {stderr[-500:]}")
    summary = next((line for line in stderr.splitlines() if " file(s): " in line), "")
    return seconds, usage.ru_maxrss / 1024, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vouch", required=True)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args()
    vouch = str(Path(args.vouch).resolve())
    rows = []
    with tempfile.TemporaryDirectory(prefix="vouch-report-scale-") as tmp:
        env = dict(os.environ, VOUCH_HOME=str(Path(tmp) / "home"), NO_COLOR="1")
        for records in sorted({args.records // 10, args.records}):
            print(f"generating {records} records ...", file=sys.stderr)
            shards = generate(Path(tmp) / f"records-{records}", records)
            size = sum(s.stat().st_size for s in shards) / 2**20
            for fmt in ["json", "text", "junit"]:
                seconds, rss, summary = measure(vouch, shards, fmt, env)
                if fmt == "json" and not summary.startswith(f"{records} file(s): "):
                    raise SystemExit(f"merged {records} records, summary says: {summary!r}")
                rows.append((records, size, fmt, seconds, rss))
    lines = ["| records | shards (MiB) | format | seconds | records/s | peak RSS (MiB) |", "|---:|---:|---|---:|---:|---:|"]
    for records, size, fmt, seconds, rss in rows:
        lines.append(f"| {records} | {size:.0f} | {fmt} | {seconds:.2f} | {records / seconds:.0f} | {rss:.0f} |")
    version = subprocess.run([vouch, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    lines += [
        "",
        f"- {version} ({'debug' if '/debug/' in vouch else 'release'} build), nproc {len(os.sched_getaffinity(0))}, {platform.system()} {platform.release()}; "
        f"{SHARDS} shard files of `check` records (signed, anchored; 10% skipped, 10% failing); "
        "peak RSS of the process from getrusage",
        "- JSON Lines and text stream (the merge keeps about 30 bytes a path to find overlapping shards); JUnit (like "
        "SARIF) keeps one small row per file until the end; HTML writes each card as it comes.",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.readme:
        update_readme(args.readme, "report", table)


if __name__ == "__main__":
    main()
