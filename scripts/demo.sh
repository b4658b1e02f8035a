#!/usr/bin/env bash
# The whole tool on the fixtures, as a journalist would type it: create an
# identity, sign a photo, verify it, sign it again with an RFC 3161
# timestamp, anchor the signed photo to a chain and check the receipt, show
# that one changed byte is caught, and ask a detector about a photo and a
# clip. Everything runs on 127.0.0.1: a time-stamping authority (openssl ts
# behind tests/interop/tsa.py) and a local EVM chain (anvil, from
# `make deps`), both started here and stopped on exit. No network.
#
#   scripts/demo.sh [path/to/vouch]      (default target/release/vouch)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vouch_bin=$(realpath -m "${1:-$repo/target/release/vouch}")
npm_dir=${VOUCH_NPM_DIR:-$repo/.deps/npm}
[ -x "$vouch_bin" ] || { echo "demo: $vouch_bin: no vouch binary there (run \`make build\`)" >&2; exit 2; }
anvil=$(ls "$npm_dir"/node_modules/@foundry-rs/anvil-*/bin/anvil 2>/dev/null | head -n 1 || true)
[ -n "$anvil" ] || { echo "demo: no anvil under $npm_dir/node_modules/@foundry-rs (run \`make deps\`)" >&2; exit 2; }

work=$(mktemp -d)
tsa_pid=
anvil_pid=
stop() {
    if [ -n "$1" ]; then
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
cleanup() {
    stop "$tsa_pid"
    stop "$anvil_pid"
    rm -rf "$work"
}
trap cleanup EXIT
# So that Ctrl-C or SIGTERM still runs the cleanup above (SIGKILL runs no trap).
trap 'exit 130' INT
trap 'exit 143' TERM

export VOUCH_HOME="$work/home"
export VOUCH_MODELS=${VOUCH_MODELS:-$repo/models}
vouch() { "$vouch_bin" "$@"; }

bold=
plain=
if [ -t 1 ]; then
    bold=$'\033[1m'
    plain=$'\033[0m'
fi
# Prints a command as one would type it, then runs it.
run() {
    local shown='$' arg
    for arg in "$@"; do
        case $arg in
            *[[:space:]]*) shown+=" \"$arg\"" ;;
            *) shown+=" $arg" ;;
        esac
    done
    printf '\n%s%s%s\n' "$bold" "$shown" "$plain"
    "$@" 2>&1
}
# A heading in plain words.
say() { printf '\n%s# %s%s\n' "$bold" "$*" "$plain"; }
# Runs a command that is expected to fail a check (exit 1), and says so.
run_failing() {
    local code=0
    run "$@" || code=$?
    echo "exit code $code (1 = a check failed)"
    [ "$code" -eq 1 ]
}

cd "$work"
cp "$repo/fixtures/photo.jpg" "$repo/fixtures/clip.mp4" .

say "Who signs: a signing identity (a root certificate and a signer it issues)"
run vouch identity new --name "Demo Reporter" --org "Demo Newsroom"

say "Sign a photo: a signed copy in signed/, the original untouched"
run vouch sign photo.jpg -o signed/ --author "Demo Reporter"

say "Verify it: the signer chains to our own root, so it is trusted"
run vouch verify signed/photo.jpg

say "What its Content Credentials say"
run vouch inspect signed/photo.jpg

# A time-stamping authority of our own: a root, an issuing CA and a
# timeStamping certificate made with openssl, served by OpenSSL's
# `openssl ts -reply` behind tests/interop/tsa.py (the one the tests use).
say "A time-stamping authority on 127.0.0.1 (openssl ts -reply behind tests/interop/tsa.py)"
tsa="$work/tsa"
mkdir -p "$tsa"
(
    cd "$tsa"
    for key in root ica tsa; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key.key" 2>/dev/null
    done
    printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >ca.ext
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >tsa.ext
    openssl req -x509 -new -key root.key -subj "/CN=Demo TSA Root/O=Demo Newsroom" -days 3650 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out root.pem
    openssl req -new -key ica.key -subj "/CN=Demo TSA Issuing CA/O=Demo Newsroom" -out ica.csr
    openssl x509 -req -in ica.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -extfile ca.ext -out ica.pem 2>/dev/null
    openssl req -new -key tsa.key -subj "/CN=Demo Time Authority/O=Demo Newsroom" -out tsa.csr
    openssl x509 -req -in tsa.csr -CA ica.pem -CAkey ica.key -CAcreateserial -days 3650 -extfile tsa.ext -out tsa.pem 2>/dev/null
)
cp "$tsa/root.pem" tsa-root.pem
# Its scratch folder goes under $work, removed on exit however it is killed.
TMPDIR="$work" python3 "$repo/tests/interop/tsa.py" --cert "$tsa/tsa.pem" --key "$tsa/tsa.key" --chain "$tsa/ica.pem" >"$tsa/listening" &
tsa_pid=$!
for _ in $(seq 100); do
    grep -q '^listening ' "$tsa/listening" 2>/dev/null && break
    sleep 0.1
done
tsa_url="http://127.0.0.1:$(sed -n 's/^listening //p' "$tsa/listening")"
echo "serving RFC 3161 timestamps at $tsa_url"

say "Sign with a timestamp: it keeps the photo trusted after the signing certificate expires"
run vouch sign photo.jpg -o stamped/ --tsa "$tsa_url"

say "Verify it, trusting the authority's root (a local anchor)"
run vouch verify stamped/photo.jpg --trust tsa-root.pem | tee "$work/stamped.txt"
grep -q "(trusted)" "$work/stamped.txt"

# A local EVM chain: anvil, which `make deps` installs from npm. Port 0:
# anvil binds a free port itself and says which.
say "A local EVM chain on 127.0.0.1 (anvil), to anchor to"
"$anvil" --host 127.0.0.1 --port 0 >"$work/anvil.log" 2>&1 &
anvil_pid=$!
rpc=
for _ in $(seq 300); do
    rpc=$(sed -n 's/^Listening on /http:\/\//p' "$work/anvil.log" 2>/dev/null)
    [ -n "$rpc" ] && break
    sleep 0.1
done
[ -n "$rpc" ] || { echo "demo: anvil did not start (see its log above)" >&2; cat "$work/anvil.log" >&2; exit 2; }
echo "a chain at $rpc"

say "The key that pays for the transaction goes in an environment variable, never a flag"
echo "(anvil's first development account: a public test key, never a real one)"
printf '%s$ export ANCHOR_KEY=0xac09…ff80%s\n' "$bold" "$plain"
export ANCHOR_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80

say "Anchor the signed photo: its hash goes into one transaction, the receipt beside it"
run vouch anchor signed/photo.jpg --to evm --rpc "$rpc" --key-env ANCHOR_KEY

say "Verify the photo and its receipt against the chain"
run vouch verify signed/photo.jpg --rpc "$rpc" | tee "$work/anchored.txt"
grep -q "anchor evm confirmed" "$work/anchored.txt"

say "Tamper: a copy with one byte of image data flipped, its receipt beside it"
cp signed/photo.jpg tampered.jpg
cp signed/photo.jpg.anchor.json tampered.jpg.anchor.json
python3 - tampered.jpg <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[len(data) - 100] ^= 0xFF  # one byte of image data
open(path, "wb").write(data)
PY
run_failing vouch verify tampered.jpg --rpc "$rpc"

say "Ask a detector: the default model on a photo and on a short clip"
echo "A detector gives a score, not a verdict on what is real: read the line under the table."
code=0
run vouch detect photo.jpg clip.mp4 || code=$?
# 1 is a flagged file, an answer the demo cannot promise either way;
# anything else is an error.
[ "$code" -le 1 ] || exit "$code"

echo
echo "verdict: the signed photo is trusted and its anchor confirmed on the chain; the"
echo "timestamped one carries a trusted timestamp (it stays trusted after the signing"
echo "certificate expires); the tampered copy is invalid, and its receipt no longer"
echo "matches it. The detector's labels are one model's estimate, never proof."
