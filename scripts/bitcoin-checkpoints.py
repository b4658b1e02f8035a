#!/usr/bin/env python3
"""Regenerates src/anchor/checkpoints/mainnet.bin from the Electrum checkpoint
table (shared/bitcoin/mainnet-checkpoints.json, MIT, see the LICENCE beside the
binary).

    scripts/bitcoin-checkpoints.py [JSON] [OUT]

The binary holds one 36-byte record per 2016-block retarget period `i`:
the hash of its last block (height i*2016 + 2015) in display order (as
explorers print it), then, big-endian, the compact `nBits` of the target every
block of period i + 1 must meet. The script refuses a target that the compact
form cannot hold exactly, so the binary says what the table says.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def compact(target: int) -> int:
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        mantissa = target << (8 * (3 - size))
    else:
        mantissa = target >> (8 * (size - 3))
    if mantissa & 0x00800000:
        mantissa >>= 8
        size += 1
    return mantissa | (size << 24)


def expand(bits: int) -> int:
    size, mantissa = bits >> 24, bits & 0x007FFFFF
    return mantissa >> (8 * (3 - size)) if size <= 3 else mantissa << (8 * (size - 3))


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../shared/bitcoin/mainnet-checkpoints.json")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "../src/anchor/checkpoints/mainnet.bin")
    table = json.load(open(source))
    records = bytearray()
    for i, (block_hash, target) in enumerate(table):
        bits = compact(target)
        if expand(bits) != target:
            sys.exit(f"entry {i}: target {target:#x} has no exact compact form")
        hash_bytes = bytes.fromhex(block_hash)
        if len(hash_bytes) != 32:
            sys.exit(f"entry {i}: hash {block_hash!r} is not 32 bytes")
        records += hash_bytes + struct.pack(">I", bits)
    with open(out, "wb") as f:
        f.write(records)
    print(f"{out}: {len(table)} periods, last block height {len(table) * 2016 - 1}")


if __name__ == "__main__":
    main()
