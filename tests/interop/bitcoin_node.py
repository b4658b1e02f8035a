"""A Bitcoin header server on 127.0.0.1 for the verify tests.

It answers the two protocols `vouch verify` speaks, from a headers file
(`height header-hex` lines):

* Bitcoin Core JSON-RPC at `/` with HTTP basic auth `vouch:secret`:
  `getblockhash [height]` and `getblockheader [hash, false]`, including
  Bitcoin Core's error -8 for heights out of range.
* Esplora REST under `/api`: `GET /block-height/<h>` and
  `GET /block/<hash>/header`.

Lying modes, as a hostile source would lie:

* `--forge`: each header with one byte of its Merkle root changed, still
  named by the true block hash.
* (no flag, given made-up headers): each header named by its own hash,
  whatever it is; the file decides whether the header has any work.
* `--easy-target`: each header re-mined with real work against an easy
  target of its own choosing (nBits 0x207fffff), named by its new hash.
* `--rpc-error CODE`: every JSON-RPC call fails with Bitcoin Core error CODE.

Prints `listening <port>` once ready.
"""

import base64
import hashlib
import json
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AUTH = "Basic " + base64.b64encode(b"vouch:secret").decode()


def block_hash(header: bytes) -> str:
    return hashlib.sha256(hashlib.sha256(header).digest()).digest()[::-1].hex()


EASY_BITS = 0x207FFFFF


def with_work(header: bytes, bits: int) -> bytes:
    """The header with nBits `bits` and a nonce that meets that target."""
    target = (bits & 0xFFFFFF) << (8 * ((bits >> 24) - 3))
    for nonce in range(1 << 32):
        candidate = header[:72] + struct.pack("<II", bits, nonce)
        if int.from_bytes(bytes.fromhex(block_hash(candidate))[::-1], "little") <= target:
            return candidate
    raise RuntimeError("no nonce")


def load(path: str, mode: str):
    by_height, by_hash = {}, {}
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        height, hexheader = line.split()
        header = bytes.fromhex(hexheader)
        true_hash = block_hash(header)
        if mode == "--forge":
            header = header[:40] + bytes([header[40] ^ 1]) + header[41:]
        if mode == "--easy-target":
            header = with_work(header, EASY_BITS)
            true_hash = block_hash(header)
        by_height[int(height)] = true_hash
        by_hash[true_hash] = header.hex()
    return by_height, by_hash


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.headers.get("Authorization") != AUTH:
            return self.reply(401, "")
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        method, params = request["method"], request["params"]
        result, error = None, None
        if self.server.rpc_error is not None:
            error = {"code": self.server.rpc_error, "message": "Loading block index..."}
        elif method == "getblockhash":
            result = self.server.by_height.get(params[0])
            if result is None:
                error = {"code": -8, "message": "Block height out of range"}
        elif method == "getblockheader" and params[1] is False:
            result = self.server.by_hash.get(params[0])
            if result is None:
                error = {"code": -5, "message": "Block not found"}
        else:
            error = {"code": -32601, "message": "Method not found"}
        body = json.dumps({"result": result, "error": error, "id": request["id"]})
        self.reply(500 if error else 200, body, "application/json")

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts[:2] == ["api", "block-height"] and len(parts) == 3:
            found = self.server.by_height.get(int(parts[2]))
            return self.reply(200, found) if found else self.reply(404, "Block not found")
        if parts[:2] == ["api", "block"] and len(parts) == 4 and parts[3] == "header":
            found = self.server.by_hash.get(parts[2])
            return self.reply(200, found) if found else self.reply(404, "Block not found")
        self.reply(404, "not found")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    modes = [a for a in sys.argv[2:] if a in ("--forge", "--easy-target")]
    server.by_height, server.by_hash = load(sys.argv[1], modes[0] if modes else "")
    server.rpc_error = int(sys.argv[sys.argv.index("--rpc-error") + 1]) if "--rpc-error" in sys.argv else None
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
