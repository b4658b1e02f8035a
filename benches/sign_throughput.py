#!/usr/bin/env python3
"""Files per second: `vouch sign`/`vouch verify` on a folder against
c2pa-python signing and reading the same JPEGs one by one in a loop.

    .deps/venv/bin/python benches/sign_throughput.py \\
        --vouch target/release/vouch --count 500 [--out-md FILE]

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import c2pa

DIGITAL_CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


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


def timed(cmd, env):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return seconds, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def vouch_sign(vouch, src, out, env, count):
    seconds, records = timed([vouch, "sign", src, "-o", out, "--json"], env)
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
    out.mkdir()
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
    return time.perf_counter() - start, sorted(out.glob("*.jpg"))


def python_read(photos, root_pem):
    settings = {"verify": {"remote_manifest_fetch": False}, "trust": {"user_anchors": root_pem}}
    start = time.perf_counter()
    context = c2pa.Context(c2pa.Settings.from_dict(settings))
    states = []
    for photo in photos:
        with c2pa.Reader(photo, context=context) as reader:
            states.append(reader.get_validation_state())
    seconds = time.perf_counter() - start
    trusted = states.count("Trusted")
    if trusted != len(photos):
        other = next(s for s in states if s != "Trusted")
        raise BenchError(f"c2pa-python read: {trusted} of {len(photos)} trusted; first other state: {other}")
    return seconds


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
    # A user's global RAYON_NUM_THREADS would silently change the parallel rows.
    env.pop("RAYON_NUM_THREADS", None)
    one_thread = dict(env, RAYON_NUM_THREADS="1")
    subprocess.run([vouch, "identity", "new", "--name", "Bench Signer"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    id_dir = work / "home" / "identity"
    cert, key = (id_dir / "signer.pem").read_bytes(), (id_dir / "signer.key").read_bytes()
    root_pem = (id_dir / "root.pem").read_text()

    src = work / "photos"
    print(f"generating {args.count} {args.size} JPEGs ...", file=sys.stderr)
    photos = generate_photos(src, args.count, args.size)
    n = len(photos)
    nproc = os.cpu_count()
    version = subprocess.run([vouch, "--version"], capture_output=True, text=True).stdout.strip()
    py = f"c2pa-python {importlib.metadata.version('c2pa-python')}"

    rows = []
    print("vouch sign/verify ...", file=sys.stderr)
    rows.append(("vouch", f"sign folder ({nproc} threads)", n, vouch_sign(vouch, src, work / "v", env, n)))
    rows.append(("vouch", f"verify folder ({nproc} threads)", n, vouch_verify(vouch, work / "v", env, n)))
    rows.append(("vouch", "sign folder (1 thread)", n, vouch_sign(vouch, src, work / "v1", one_thread, n)))
    rows.append(("vouch", "verify folder (1 thread)", n, vouch_verify(vouch, work / "v1", one_thread, n)))

    print("c2pa-python loops ...", file=sys.stderr)
    seconds, py_plain = python_sign(photos, work / "p", cert, key, thumbnail=False)
    rows.append((py, "sign one by one, no thumbnail", n, seconds))
    rows.append((py, "read + validate one by one", n, python_read(py_plain, root_pem)))
    seconds, py_thumb = python_sign(photos, work / "pt", cert, key, thumbnail=True)
    rows.append((py, "sign one by one, default settings (thumbnail)", n, seconds))

    signed = sorted((work / "v").glob("*.jpg"))
    notes = [
        f"machine: {cpu_model()}, nproc {nproc}, {platform.system()} {platform.release()}, Python {platform.python_version()}",
        f"{version}; {py} (c2pa-rs {c2pa.sdk_version()} inside)",
        f"input: {n} distinct {args.size} JPEGs (ffmpeg testsrc2 + noise), mean {mean_kib(photos):.0f} KiB; "
        f"signed by vouch {mean_kib(signed):.0f} KiB, by c2pa-python {mean_kib(py_plain):.0f} KiB "
        f"({mean_kib(py_thumb):.0f} KiB with thumbnail)",
        "vouch: one process per row, wall clock including start-up, identity load and writing every file; "
        "1 thread = RAYON_NUM_THREADS=1",
        "c2pa-python: one Context and Signer reused, a new Builder per file (Builders sign once); "
        "Ed25519 with the same key and certificate; vouch embeds no thumbnail, so the no-thumbnail row is "
        "like for like, and the default row is what a script gets unless it turns thumbnails off",
        "every signed file was checked: vouch verify exits 0 with all files trusted, c2pa-python reads all trusted",
    ]
    return render(rows, notes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vouch", required=True, help="vouch binary (release build)")
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--size", default="1024x768", help="photo size, WIDTHxHEIGHT")
    parser.add_argument("--out-md", type=Path, help="also write the table here")
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be at least 1")
    try:
        with tempfile.TemporaryDirectory(prefix="vouch-bench-") as work:
            table = run(args, Path(work))
    except (BenchError, subprocess.CalledProcessError, c2pa.C2paError) as e:
        print(f"sign_throughput: {e}", file=sys.stderr)
        return 1
    print(table, end="")
    if args.out_md:
        args.out_md.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
