#!/usr/bin/env bash
# The main job end to end on the fixtures: create an identity, sign a photo,
# verify it, then show that one changed byte is caught.
set -euo pipefail
vouch=${1:-target/release/vouch}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VOUCH_HOME="$work/home"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step vouch identity new --name "Demo Reporter" --org "Demo Newsroom"
"$vouch" identity new --name "Demo Reporter" --org "Demo Newsroom"

step vouch sign fixtures/photo.jpg -o "$work/signed" --author "Demo Reporter"
"$vouch" sign fixtures/photo.jpg -o "$work/signed" --author "Demo Reporter"

step vouch verify "$work/signed/photo.jpg"
"$vouch" verify "$work/signed/photo.jpg"

step vouch inspect "$work/signed/photo.jpg"
"$vouch" inspect "$work/signed/photo.jpg"

cp "$work/signed/photo.jpg" "$work/tampered.jpg"
python3 - "$work/tampered.jpg" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[len(data) - 100] ^= 0xFF  # one byte of image data
open(path, "wb").write(data)
PY
step vouch verify tampered.jpg "(one byte of image data flipped)"
set +e
"$vouch" verify "$work/tampered.jpg"
code=$?
set -e
echo "exit code $code (1 = a check failed)"
[ "$code" -eq 1 ]

echo
echo "verdict: the signed photo is trusted; the tampered copy is invalid."
