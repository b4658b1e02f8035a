#!/usr/bin/env python3
"""A real RFC 3161 time-stamping authority for tests: OpenSSL's `openssl ts
-reply` behind a small HTTP server on 127.0.0.1.

    tsa.py --cert TSA.pem --key TSA.key [--chain CHAIN.pem] [--lie garbage]

Prints `listening PORT` once ready. Every POST body is taken as a
TimeStampReq and answered with the TimeStampResp OpenSSL makes (signed by
--cert, embedding it). `--lie garbage` answers every request with bytes
that are no timestamp at all, with the right content type.
"""
import argparse
import http.server
import os
import subprocess
import sys
import tempfile

CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {dir}/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--chain")
    parser.add_argument("--lie", choices=["garbage"])
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="tsa-")
    with open(os.path.join(work, "serial"), "w") as f:
        f.write("01\n")
    config = os.path.join(work, "tsa.cnf")
    with open(config, "w") as f:
        f.write(CONFIG.format(dir=work))

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if args.lie == "garbage":
                answer = b"\x30\x03\x02\x01\x00 this is not a timestamp"
            else:
                query = os.path.join(work, "query.tsq")
                reply = os.path.join(work, "reply.tsr")
                with open(query, "wb") as f:
                    f.write(body)
                cmd = ["openssl", "ts", "-reply", "-config", config, "-queryfile", query,
                       "-signer", args.cert, "-inkey", args.key, "-out", reply]
                if args.chain:
                    cmd += ["-chain", args.chain]
                made = subprocess.run(cmd, capture_output=True)
                if made.returncode != 0:
                    sys.stderr.write(made.stderr.decode())
                    self.send_response(500)
                    self.end_headers()
                    return
                with open(reply, "rb") as f:
                    answer = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
