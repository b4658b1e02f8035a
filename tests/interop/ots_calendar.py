#!/usr/bin/env python3
"""A local OpenTimestamps calendar for tests: the real HTTP protocol, with
replies built by python-opentimestamps (the reference implementation).

    ots_calendar.py [--height H]

Prints `listening PORT` once ready on 127.0.0.1 (an ephemeral port). Routes:
    POST /digest            -> pending timestamp for the digest (counted)
    GET  /timestamp/<hex>   -> 404 until mined, then the Bitcoin-attested timestamp
    POST /mine              -> puts every commitment so far into block H
    GET  /headers           -> `height header-hex` lines for the blocks mined
    GET  /stats             -> JSON {"posts": N}
Stops by itself after 10 minutes.
"""
import argparse
import hashlib
import json
import os
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentimestamps.core.notary import BitcoinBlockHeaderAttestation, PendingAttestation
from opentimestamps.core.op import OpAppend, OpPrepend, OpSHA256
from opentimestamps.core.serialize import BytesSerializationContext
from opentimestamps.core.timestamp import Timestamp

LOCK = threading.Lock()
STATE = {"posts": 0, "commitments": [], "mined": {}, "blocks": {}}


def serialize(ts):
    ctx = BytesSerializationContext()
    ts.serialize(ctx)
    return ctx.getbytes()


class Calendar(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, content_type="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path == "/digest":
            if not 1 <= len(body) <= 64:
                return self.reply(400, b"digest too long")
            # As a real calendar does: commit the digest with a nonce, attest pending.
            ts = Timestamp(body)
            commitment = ts.ops.add(OpAppend(os.urandom(16))).ops.add(OpSHA256())
            commitment.attestations.add(PendingAttestation(self.server.url))
            with LOCK:
                STATE["posts"] += 1
                STATE["commitments"].append(commitment.msg)
            return self.reply(200, serialize(ts))
        if self.path == "/mine":
            with LOCK:
                height = self.server.height
                # One block: a Merkle path would do the same; a prepend keeps it short.
                for commitment in STATE["commitments"]:
                    ts = Timestamp(commitment)
                    root = ts.ops.add(OpPrepend(struct.pack(">Q", height))).ops.add(OpSHA256())
                    root.attestations.add(BitcoinBlockHeaderAttestation(height))
                    STATE["mined"][commitment] = ts
                    STATE["blocks"][height] = root.msg
                    height += 1
                STATE["commitments"] = []
            return self.reply(200, b"mined")
        self.reply(404, b"not found")

    def do_GET(self):
        if self.path.startswith("/timestamp/"):
            try:
                commitment = bytes.fromhex(self.path[len("/timestamp/"):])
            except ValueError:
                return self.reply(400, b"bad hex")
            with LOCK:
                ts = STATE["mined"].get(commitment)
            if ts is None:
                return self.reply(404, b"Pending confirmation in Bitcoin blockchain")
            return self.reply(200, serialize(ts))
        if self.path == "/headers":
            lines = []
            with LOCK:
                for height, merkle_root in sorted(STATE["blocks"].items()):
                    header = struct.pack("<I", 2) + hashlib.sha256(b"prev").digest() + merkle_root
                    header += struct.pack("<III", 1432827678, 0x18172EC0, height)
                    lines.append(f"{height} {header.hex()}")
            return self.reply(200, ("\n".join(lines) + "\n").encode(), "text/plain")
        if self.path == "/stats":
            with LOCK:
                return self.reply(200, json.dumps({"posts": STATE["posts"]}).encode(), "application/json")
        self.reply(404, b"not found")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--height", type=int, default=800000)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Calendar)
    server.height = args.height
    server.url = f"http://127.0.0.1:{server.server_port}"
    threading.Timer(600, server.shutdown).start()
    print(f"listening {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
