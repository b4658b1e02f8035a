#!/usr/bin/env python3
"""A local OpenTimestamps calendar for tests: the real HTTP protocol, with
replies built by python-opentimestamps (the reference implementation).

    ots_calendar.py [--height H] [--block-time UNIX] [--lie wrong-root|earlier]

Prints `listening PORT` once ready on 127.0.0.1 (an ephemeral port). Routes:
    POST /digest            -> pending timestamp for the digest (counted)
    GET  /timestamp/<hex>   -> 404 until mined, then the Bitcoin-attested timestamp (counted)
    POST /mine              -> puts every commitment so far into block H
    GET  /headers           -> `height header-hex` lines: the block before H, then
                               the blocks mined; regtest headers with real (regtest)
                               proof of work, each on top of the one before;
                               block H's time is UNIX (default 2015-06-06), one
                               second more per block
    GET  /stats             -> JSON {"posts": N, "gets": N}
With --lie, the calendar answers every commitment it knows, mined or not, with
a Bitcoin attestation that is false: at block H through a path that does not
reach its Merkle root (wrong-root), or at the earlier block H-1 (earlier).
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
STATE = {"posts": 0, "gets": 0, "commitments": [], "known": set(), "mined": {}, "blocks": {}}
REGTEST_BITS = 0x207FFFFF


def block_hash(header):
    return hashlib.sha256(hashlib.sha256(header).digest()).digest()


def regtest_header(prev_hash, merkle_root, height, time_base):
    """A header meeting the regtest target, as a regtest node would mine it."""
    target = (REGTEST_BITS & 0xFFFFFF) << (8 * ((REGTEST_BITS >> 24) - 3))
    for nonce in range(1 << 32):
        header = struct.pack("<I", 0x20000000) + prev_hash + merkle_root
        header += struct.pack("<III", time_base + height, REGTEST_BITS, nonce)
        if int.from_bytes(block_hash(header), "little") <= target:
            return header
    raise RuntimeError("no nonce")


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
                STATE["known"].add(commitment.msg)
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
                STATE["gets"] += 1
                ts = STATE["mined"].get(commitment)
                known = commitment in STATE["known"]
            if self.server.lie and known:
                ts = Timestamp(commitment)
                height = self.server.height - (1 if self.server.lie == "earlier" else 0)
                root = ts.ops.add(OpPrepend(b"not the block's root")).ops.add(OpSHA256())
                root.attestations.add(BitcoinBlockHeaderAttestation(height))
            if ts is None:
                return self.reply(404, b"Pending confirmation in Bitcoin blockchain")
            return self.reply(200, serialize(ts))
        if self.path == "/headers":
            lines = []
            with LOCK:
                blocks = dict(STATE["blocks"])
            first = self.server.height - 1
            blocks[first] = hashlib.sha256(b"the block before").digest()
            prev = bytes(32)
            for height, merkle_root in sorted(blocks.items()):
                header = regtest_header(prev, merkle_root, height, self.server.time_base)
                prev = block_hash(header)
                lines.append(f"{height} {header.hex()}")
            return self.reply(200, ("\n".join(lines) + "\n").encode(), "text/plain")
        if self.path == "/stats":
            with LOCK:
                stats = {"posts": STATE["posts"], "gets": STATE["gets"]}
                return self.reply(200, json.dumps(stats).encode(), "application/json")
        self.reply(404, b"not found")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--height", type=int, default=800000)
    parser.add_argument("--block-time", type=int, help="Unix time of block H")
    parser.add_argument("--lie", choices=["wrong-root", "earlier"])
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Calendar)
    server.height = args.height
    server.time_base = (args.block_time - args.height) if args.block_time else 1432827678
    server.lie = args.lie
    server.url = f"http://127.0.0.1:{server.server_port}"
    threading.Timer(600, server.shutdown).start()
    print(f"listening {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
