#!/usr/bin/env python3
"""Parses .ots proofs with python-opentimestamps (the reference library that
`ots info` uses) and checks that re-serialising gives identical bytes.

    ots_check.py FILE.ots...   -> prints `ok N` or exits 1 naming the file
"""
import sys

from opentimestamps.core.serialize import BytesDeserializationContext, BytesSerializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile


def main(paths):
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        proof = DetachedTimestampFile.deserialize(BytesDeserializationContext(data))
        out = BytesSerializationContext()
        proof.serialize(out)
        if out.getbytes() != data:
            print(f"{path}: re-serialised bytes differ", file=sys.stderr)
            return 1
    print(f"ok {len(paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
