#!/usr/bin/env python3
"""Independent C2PA implementation for interop tests: c2pa-python (PyPI).

    c2pa_python.py read FILE [--anchors ROOT.pem] [--manifest M]  -> JSON {state, codes, success}
        (--manifest: the manifest store comes from M, a sidecar, not from FILE)
    c2pa_python.py sign SRC DST --cert CHAIN --key KEY -> signs with Ed25519
    c2pa_python.py sign SRC DST --cert CHAIN --key KEY --remote URL --manifest-out M
        -> the manifest is not embedded: DST points to URL, M holds the manifest
    c2pa_python.py sign SRC DST --cert CHAIN --key KEY --definition DEF.json
        -> signs with the manifest definition in DEF.json as written (its own
           actions, no intent added): for manifests vouch would not write
    c2pa_python.py sign SRC DST --cert CHAIN --key KEY --edit [--anchors ROOT.pem]
        -> an edit of SRC (signed media): SRC is its parent ingredient, whose
           credentials are validated, and recorded, against ROOT.pem
"""
import argparse
import json
import sys

import c2pa


def context(anchors):
    settings = {"verify": {"remote_manifest_fetch": False}}
    if anchors:
        with open(anchors) as f:
            settings["trust"] = {"user_anchors": f.read()}
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def read(args):
    ctx = context(args.anchors)
    if args.manifest:
        with open(args.manifest, "rb") as f:
            manifest = f.read()
        with open(args.file, "rb") as stream, c2pa.Reader(
            c2pa_format(args.file), stream, manifest_data=manifest, context=ctx
        ) as reader:
            report(reader)
        return
    with c2pa.Reader(args.file, context=ctx) as reader:
        report(reader)


def c2pa_format(path):
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}[path.rsplit(".", 1)[-1].lower()]


def report(reader):
    store = json.loads(reader.json())
    results = store.get("validation_results", {}).get("activeManifest", {})
    codes = [s["code"] for s in results.get("failure", [])]
    success = [s["code"] for s in results.get("success", [])]
    print(json.dumps({"state": reader.get_validation_state(), "codes": codes, "success": success}))


def sign(args):
    with open(args.cert, "rb") as f:
        cert = f.read()
    with open(args.key, "rb") as f:
        key = f.read()
    info = c2pa.C2paSignerInfo(b"ed25519", cert, key, None)
    manifest = {
        "claim_generator_info": [{"name": "c2pa-python-interop", "version": c2pa.sdk_version()}],
        "title": "signed by c2pa-python",
        "assertions": [],
    }
    if args.definition:
        with open(args.definition) as f:
            manifest = json.load(f)
    if args.edit:
        manifest["title"] = "edited by c2pa-python"
        manifest["assertions"] = [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
                        {
                            "action": "c2pa.edited",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/minorHumanEdits",
                        },
                    ]
                },
            }
        ]
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest, context=context(args.anchors)) as builder:
        if args.edit:
            with open(args.src, "rb") as parent:
                ingredient = {"title": "parent", "relationship": "parentOf", "label": "parent"}
                builder.add_ingredient(ingredient, c2pa_format(args.src), parent)
        elif not args.definition:
            builder.set_intent(c2pa.C2paBuilderIntent.CREATE, c2pa.C2paDigitalSourceType.DIGITAL_CAPTURE)
        if args.remote:
            builder.set_no_embed()
            builder.set_remote_url(args.remote)
            with open(args.src, "rb") as src, open(args.dst, "w+b") as dst:
                manifest_bytes = builder.sign(signer, "image/jpeg", src, dst)
            with open(args.manifest_out, "wb") as out:
                out.write(manifest_bytes)
        else:
            builder.sign_file(args.src, args.dst, signer)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("read")
    r.add_argument("file")
    r.add_argument("--anchors")
    r.add_argument("--manifest")
    s = sub.add_parser("sign")
    s.add_argument("src")
    s.add_argument("dst")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--remote")
    s.add_argument("--manifest-out")
    s.add_argument("--definition")
    s.add_argument("--edit", action="store_true")
    s.add_argument("--anchors")
    args = parser.parse_args()
    {"read": read, "sign": sign}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
