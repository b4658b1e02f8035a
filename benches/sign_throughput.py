#!/usr/bin/env python3
"""Files per second: `vouch sign`/`vouch verify` on a folder against
c2pa-python signing and reading the same JPEGs one by one in a loop.

    .deps/venv/bin/python benches/sign_throughput.py \\
        --vouch target/release/vouch --count 500 [--repeat 3] [--out-md FILE] [--readme README.md]

Needs ffmpeg (to generate the photos) and c2pa-python (tests/requirements.txt).
Prints a Markdown table; exits non-zero if any signed file fails to verify,
so a broken build cannot pass for a fast one.
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import cpu_model, markers, update_readme  # noqa: E402

import c2pa

README_BEGIN, README_END = markers("sign")


class BenchError(Exception):
    pass


def generate_photos(folder, count, size):
    """Writes `count` distinct JPEGs. testsrc2 moves every frame and temporal
    noise makes each frame's pixels unique, so sizes and hashes look like
    photos rather than flat test cards that compress to nothing."""
    if shutil.which("ffmpeg") is None:
        raise BenchError("ffmpeg not found: it generates the benchmark photos (apt-get install ffmpeg)")
    folder.mkdir(parents=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
         "-vf", "noise=alls=20:allf=t+u", "-frames:v", str(count), "-q:v", "3",
         str(folder / "photo_%04d.jpg")],
        check=True,
    )
    photos = sorted(folder.glob("*.jpg"))
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in photos}
    if len(photos) != count or len(digests) != count:
        raise BenchError(f"ffmpeg wrote {len(photos)} photos ({len(digests)} distinct), wanted {count}")
    return photos


def fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def timed(cmd, env):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return seconds, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def vouch_sign(vouch, src, out, env, count):
    seconds, records = timed([vouch, "sign", src, "-o", fresh(out), "--json"], env)
    written = [r for r in records if "output" in r]
    if len(written) != count:
        raise BenchError(f"vouch sign reported {len(written)} signed files, wanted {count}")
    return seconds


def vouch_verify(vouch, folder, env, count):
    seconds, records = timed([vouch, "verify", folder, "--json"], env)
    trusted = [r for r in records if (r.get("c2pa") or {}).get("state") == "trusted"]
    if len(trusted) != count:
        bad = next((r for r in records if r not in trusted), None)
        raise BenchError(f"vouch verify: {len(trusted)} of {count} trusted; first other: {bad}")
    return seconds


def python_sign(photos, out, cert, key, thumbnail):
    """What a user script does: one Context and Signer, reused (the API
    allows it), and a Builder per file (c2pa-python Builders sign once)."""
    fresh(out).mkdir()
    settings = {"verify": {"remote_manifest_fetch": False}, "builder": {"thumbnail": {"enabled": thumbnail}}}
    start = time.perf_counter()
    context = c2pa.Context(c2pa.Settings.from_dict(settings))
    info = c2pa.C2paSignerInfo(b"ed25519", cert, key, None)
    with c2pa.Signer.from_info(info) as signer:
        for photo in photos:
            manifest = {
                "claim_generator_info": [{"name": "c2pa-python-bench", "version": c2pa.sdk_version()}],
                "title": photo.name,
                "format": "image/jpeg",
                "assertions": [],
            }
            with c2pa.Builder(manifest, context=context) as builder:
                builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CAPTURE)
                builder.sign_file(photo, out / photo.name, signer)
    seconds = time.perf_counter() - start
    if len(list(out.glob("*.jpg"))) != len(photos):
        raise BenchError(f"c2pa-python wrote {len(list(out.glob('*.jpg')))} files, wanted {len(photos)}")
    return seconds


def python_read(folder, root_pem, count):
    photos = sorted(folder.glob("*.jpg"))
    settings = {"verify": {"remote_manifest_fetch": False}, "trust": {"user_anchors": root_pem}}
    start = time.perf_counter()
    context = c2pa.Context(c2pa.Settings.from_dict(settings))
    states = []
    for photo in photos:
        with c2pa.Reader(photo, context=context) as reader:
            states.append(reader.get_validation_state())
    seconds = time.perf_counter() - start
    trusted = states.count("Trusted")
    if trusted != count:
        other = next((s for s in states if s != "Trusted"), None)
        raise BenchError(f"c2pa-python read: {trusted} of {count} trusted; first other state: {other}")
    return seconds



def mean_kib(paths):
    return sum(p.stat().st_size for p in paths) / len(paths) / 1024


def render(rows, notes):
    lines = ["| tool | operation | files | seconds | files/s |", "|---|---|---:|---:|---:|"]
    for tool, operation, files, seconds in rows:
        lines.append(f"| {tool} | {operation} | {files} | {seconds:.2f} | {files / seconds:.1f} |")
    return "\n".join(lines + [""] + [f"- {n}" for n in notes]) + "\n"




def run(args, work):
    vouch = str(Path(args.vouch).resolve())
    env = dict(os.environ, VOUCH_HOME=str(work / "home"), NO_COLOR="1")
    # A RAYON_NUM_THREADS left in the caller's environment would quietly
    # change the parallel rows.
    env.pop("RAYON_NUM_THREADS", None)
    one_thread = dict(env, RAYON_NUM_THREADS="1")
    subprocess.run([vouch, "identity", "new", "--name", "Bench Signer"], env=env, check=True, stdout=subprocess.DEVNULL)
    id_dir = work / "home" / "identity"
    cert, key = (id_dir / "signer.pem").read_bytes(), (id_dir / "signer.key").read_bytes()
    root_pem = (id_dir / "root.pem").read_text()

    src = work / "photos"
    print(f"generating {args.count} {args.size} JPEGs ...", file=sys.stderr)
    photos = generate_photos(src, args.count, args.size)
    n = len(photos)
    cores = len(os.sched_getaffinity(0))
    version = subprocess.run([vouch, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    py = f"c2pa-python {importlib.metadata.version('c2pa-python')}"

    v, v1, p, pt = work / "vouch", work / "vouch-1", work / "python", work / "python-thumb"
    # Order matters: each verify row reads what the sign row before it wrote.
    jobs = [
        ("vouch", f"sign folder ({cores} threads)", lambda: vouch_sign(vouch, src, v, env, n)),
        ("vouch", f"verify folder ({cores} threads)", lambda: vouch_verify(vouch, v, env, n)),
        ("vouch", "sign folder (1 thread)", lambda: vouch_sign(vouch, src, v1, one_thread, n)),
        ("vouch", "verify folder (1 thread)", lambda: vouch_verify(vouch, v1, one_thread, n)),
        (py, "sign one by one, no thumbnail", lambda: python_sign(photos, p, cert, key, thumbnail=False)),
        (py, "read + validate one by one", lambda: python_read(p, root_pem, n)),
        (py, "sign one by one, default settings (thumbnail)", lambda: python_sign(photos, pt, cert, key, True)),
    ]
    rows = []
    for tool, operation, once in jobs:
        print(f"{tool}: {operation} ...", file=sys.stderr)
        rows.append((tool, operation, n, statistics.median(once() for _ in range(args.repeat))))

    def kib(folder):
        return mean_kib(sorted(folder.glob("*.jpg")))

    notes = [
        f"machine: {cpu_model()}, nproc {cores}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
        f"{version}; {py} (c2pa-rs {c2pa.sdk_version()} inside); median of {args.repeat} runs per row",
        f"input: {n} distinct {args.size} JPEGs (ffmpeg testsrc2 + noise), mean {kib(src):.0f} KiB; "
        f"signed by vouch {kib(v):.0f} KiB, by c2pa-python {kib(p):.0f} KiB ({kib(pt):.0f} KiB with thumbnail)",
        "vouch: one process per row, wall clock including start-up, identity load and writing every file; "
        "every signed file is on disk before it is renamed into place (one syncfs per 128 files; c2pa-python "
        "does not flush at all); "
        "1 thread = RAYON_NUM_THREADS=1",
        "c2pa-python: one Context and Signer reused, a new Builder per file (Builders sign once), same Ed25519 "
        "key and certificate; vouch embeds no thumbnail, so the no-thumbnail row is like for like, and the "
        "default row is what a script gets unless it turns thumbnails off",
        "every signed file was checked: vouch verify exits 0 with all files trusted, c2pa-python reads its own "
        "output as Trusted",
    ]
    return render(rows, notes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vouch", required=True, help="vouch binary (release build)")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--size", default="1024x768", help="photo size, WIDTHxHEIGHT")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the median is reported")
    parser.add_argument("--out-md", type=Path, help="also write the table here")
    parser.add_argument("--readme", type=Path, help=f"also put the table between {README_BEGIN} markers here")
    args = parser.parse_args()
    if args.count < 1 or args.repeat < 1:
        parser.error("--count and --repeat must be at least 1")
    try:
        with tempfile.TemporaryDirectory(prefix="vouch-bench-") as work:
            table = run(args, Path(work))
        print(table, end="")
        if args.out_md:
            args.out_md.write_text(table)
        if args.readme:
            update_readme(args.readme, "sign", table)
    except (BenchError, OSError, subprocess.CalledProcessError, c2pa.C2paError) as e:
        print(f"sign_throughput: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
