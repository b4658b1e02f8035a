#!/usr/bin/env python3
"""Peak memory of `vouch check` as the archive grows: the same small files,
10,000 then 100,000 of them, in nested folders. Memory that stays flat
while the file count grows tenfold is what "streams with bounded memory"
means.

    .deps/venv/bin/python benches/check_scale.py --vouch target/release/vouch [--files 100000] [--readme README.md]

Peak RSS comes from the kernel (`getrusage` of the finished child). Exits
non-zero when vouch reports a different number of records than files.
"""
import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import update_readme  # noqa: E402



def generate(root, files):
    for i in range(files):
        folder = root / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"doc-{i:06d}.txt").write_bytes(b"x" * (64 + i % 512))


def measure(vouch, root, env, fmt):
    """Wall time, peak RSS (MiB) and record count of one run."""
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        pid = subprocess.Popen([vouch, "check", root, "--format", fmt], env=env, stdout=subprocess.PIPE if fmt == "json" else sink,
                               stderr=subprocess.DEVNULL)
        lines = sum(1 for _ in pid.stdout) if fmt == "json" else None
        _, status, usage = os.wait4(pid.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"vouch check exited {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss / 1024, lines




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vouch", required=True)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args()
    vouch = str(Path(args.vouch).resolve())
    rows = []
    with tempfile.TemporaryDirectory(prefix="vouch-check-scale-") as tmp:
        env = dict(os.environ, VOUCH_HOME=str(Path(tmp) / "home"))
        for files in sorted({args.files // 10, args.files}):
            root = Path(tmp) / f"archive-{files}"
            print(f"generating {files} files ...", file=sys.stderr)
            generate(root, files)
            seconds, rss, lines = measure(vouch, root, env, "json")
            if lines != files:
                raise SystemExit(f"vouch check wrote {lines} records for {files} files")
            rows.append((files, "json", seconds, rss))
            seconds, rss, _ = measure(vouch, root, env, "junit")
            rows.append((files, "junit", seconds, rss))
    lines = ["| files | format | seconds | files/s | peak RSS (MiB) |", "|---:|---|---:|---:|---:|"]
    for files, fmt, seconds, rss in rows:
        lines.append(f"| {files} | {fmt} | {seconds:.1f} | {files / seconds:.0f} | {rss:.0f} |")
    version = subprocess.run([vouch, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    lines += [
        "",
        f"- {version}, nproc {len(os.sched_getaffinity(0))}, {platform.system()} {platform.release()}; small text files "
        "in folders of 1,000, no policy; peak RSS of the process from getrusage",
        "- JSON Lines streams, so its memory does not grow with the archive; JUnit (like SARIF) keeps one "
        "small row per file until the end; HTML writes each card as it comes and keeps only the failures' names.",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.readme:
        update_readme(args.readme, "check", table)


if __name__ == "__main__":
    main()
