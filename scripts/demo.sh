#!/usr/bin/env bash
# The main job end to end on the fixtures: create an identity, sign a photo,
# verify it, sign it again with an RFC 3161 timestamp from a time-stamping
# authority run here on 127.0.0.1 (no network), then show that one changed
# byte is caught.
set -euo pipefail
vouch=${1:-target/release/vouch}
work=$(mktemp -d)
tsa_pid=
cleanup() {
    if [ -n "$tsa_pid" ]; then kill "$tsa_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
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

# A time-stamping authority of our own: a root, an issuing CA and a
# timeStamping certificate made with openssl, served by OpenSSL's
# `openssl ts -reply` behind tests/interop/tsa.py (the one the tests use).
step "a time-stamping authority on 127.0.0.1 (openssl ts -reply behind tests/interop/tsa.py)"
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
python3 tests/interop/tsa.py --cert "$tsa/tsa.pem" --key "$tsa/tsa.key" --chain "$tsa/ica.pem" >"$tsa/listening" &
tsa_pid=$!
for _ in $(seq 100); do
    grep -q '^listening ' "$tsa/listening" 2>/dev/null && break
    sleep 0.1
done
tsa_url="http://127.0.0.1:$(sed -n 's/^listening //p' "$tsa/listening")"
echo "serving RFC 3161 timestamps at $tsa_url"

step vouch sign fixtures/photo.jpg -o "$work/stamped" --tsa "$tsa_url"
"$vouch" sign fixtures/photo.jpg -o "$work/stamped" --tsa "$tsa_url"

step vouch verify "$work/stamped/photo.jpg" --trust tsa-root.pem "(the authority's root as a local anchor)"
"$vouch" verify "$work/stamped/photo.jpg" --trust "$tsa/root.pem" | tee "$work/stamped.txt"
grep -q "(trusted)" "$work/stamped.txt"

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
echo "verdict: the signed photo is trusted, the timestamped one carries a trusted timestamp"
echo "(it stays trusted after the signing certificate expires); the tampered copy is invalid."
