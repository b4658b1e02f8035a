#!/usr/bin/env python3
"""Writes the tiny, deterministic test detectors in fixtures/models/.

Each model scores a colour, so tests can assert on exact numbers: a red frame is
flagged, a blue one not flagged, and a mid-grey one sits at 0.5. Every
model exercises a different part of the model-card format (layout, channel
order, range/mean/std, resize mode, filter, output kind, polarity, head).
The outputs are byte-for-byte reproducible: run `make tiny-models` and
`git diff --exit-code fixtures/models` to check.

    make_tiny.py [--out fixtures/models]
"""
import argparse
import hashlib
import json
from pathlib import Path

import av
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

OPSET = 13
IR_VERSION = 7  # ONNX 1.8+, loaded by any ONNX Runtime of the last years


def means(x_name, axes, prefix):
    """Nodes: per-channel means of x over `axes`, kept as [N, 3]."""
    return [
        helper.make_node("ReduceMean", [x_name], [f"{prefix}_m"], axes=axes, keepdims=0),
    ], f"{prefix}_m"


def channel(src, idx, dst):
    """Nodes and initialisers: column idx of an [N, C] tensor as [N, 1]."""
    return (
        [helper.make_node("Gather", [src, f"{dst}_i"], [dst], axis=1)],
        [numpy_helper.from_array(np.array([idx], dtype=np.int64), f"{dst}_i")],
    )


def save(path, nodes, inits, inp, out, doc):
    graph = helper.make_graph(nodes, path.stem, [inp], [out], initializer=inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="vouch make_tiny.py",
        producer_version="1",
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    path.write_bytes(model.SerializeToString())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tensor(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def tiny_logit(path):
    """NCHW RGB in [0, 1]: logit = mean(R) - mean(B)."""
    nodes, m = means("image", [2, 3], "x")
    n_r, i_r = channel(m, 0, "r")
    n_b, i_b = channel(m, 2, "b")
    nodes += n_r + n_b + [helper.make_node("Sub", ["r", "b"], ["logit"])]
    return save(path, nodes, i_r + i_b, tensor("image", ["N", 3, 32, 32]),
                tensor("logit", ["N", 1]), tiny_logit.__doc__)


def tiny_prob_nhwc(path):
    """NHWC BGR normalised to [-1, 1]: P(real) = sigmoid(mean(B) - mean(R))."""
    nodes, m = means("input", [1, 2], "x")
    n_b, i_b = channel(m, 0, "b")  # BGR: channel 0 is blue
    n_r, i_r = channel(m, 2, "r")
    nodes += n_b + n_r + [
        helper.make_node("Sub", ["b", "r"], ["d"]),
        helper.make_node("Sigmoid", ["d"], ["p_real"]),
    ]
    return save(path, nodes, i_b + i_r, tensor("input", ["N", 32, 32, 3]),
                tensor("p_real", ["N", 1]), tiny_prob_nhwc.__doc__)


def tiny_softmax(path):
    """NCHW RGB in [0, 1]: class logits [mean(B), mean(R)] (no Softmax node)."""
    nodes, m = means("pixels", [2, 3], "x")
    n_r, i_r = channel(m, 0, "r")
    n_b, i_b = channel(m, 2, "b")
    nodes += n_r + n_b + [helper.make_node("Concat", ["b", "r"], ["logits"], axis=1)]
    return save(path, nodes, i_r + i_b, tensor("pixels", ["N", 3, 32, 32]),
                tensor("logits", ["N", 2]), tiny_softmax.__doc__)


def tiny_embed(path):
    """NCHW RGB normalised to [-1, 1]: embedding [mean(R), mean(G), mean(B), 1]."""
    nodes, m = means("pixel_values", [2, 3], "x")
    proj = np.zeros((3, 4), dtype=np.float32)
    proj[[0, 1, 2], [0, 1, 2]] = 1.0
    shift = np.array([0.0, 0.0, 0.0, 1.0], dtype=np.float32)
    inits = [numpy_helper.from_array(proj, "proj"), numpy_helper.from_array(shift, "shift")]
    nodes += [
        helper.make_node("MatMul", [m, "proj"], ["e"]),
        helper.make_node("Add", ["e", "shift"], ["image_embeds"]),
    ]
    return save(path, nodes, inits, tensor("pixel_values", ["N", 3, 32, 32]),
                tensor("image_embeds", ["N", 4]), tiny_embed.__doc__)


COMMON = """source = "vouch scripts/models/make_tiny.py (generated, deterministic)"
license = "CC0-1.0"
weights = "{name}.onnx"
sha256 = "{sha}"
threshold = 0.5
"""

CARDS = {
    "tiny-logit": (tiny_logit, """# Test model. logit = mean(R) - mean(B) over the 32x32 input, R and B in [0, 1].
# Solid red: sigmoid(1) = 0.731059 (synthetic); solid blue: sigmoid(-1) = 0.268941;
# any grey: 0.5; a frame whose left half is red and right half blue (split.png):
# 0.5 too (squash keeps the whole frame).
name = "tiny-logit"
task = "frame"
{common}
[input]
name = "image"
layout = "nchw"
width = 32
height = 32
channels = "rgb"
range = [0.0, 1.0]
mean = [0.0, 0.0, 0.0]
std = [1.0, 1.0, 1.0]
resize = "squash"
filter = "bilinear"

[output]
name = "logit"
kind = "logit"
polarity = "synthetic"
"""),
    "tiny-prob-nhwc": (tiny_prob_nhwc, """# Test model. NHWC, BGR, x in [0, 1] then (x - 0.5) / 0.5. Output P(real) =
# sigmoid(mean(B) - mean(R)); polarity "real" makes the score 1 - P(real).
# Solid red, square: score = 1 - sigmoid(-2) = 0.880797; solid blue: 0.119203.
# Letterbox: a 64x48 frame fills 32x24 of the 32x32 input and the black bars add
# equally to B and R, so solid red 64x48 scores 1 - sigmoid(-1.5) = 0.817574 and
# solid blue 64x48 scores 0.182426. Reading RGB instead of BGR inverts the score.
name = "tiny-prob-nhwc"
task = "frame"
{common}
[input]
name = "input"
layout = "nhwc"
width = 32
height = 32
channels = "bgr"
range = [0.0, 1.0]
mean = [0.5, 0.5, 0.5]
std = [0.5, 0.5, 0.5]
resize = "letterbox"
filter = "bicubic"

[output]
name = "p_real"
kind = "probability"
polarity = "real"
"""),
    "tiny-softmax": (tiny_softmax, """# Test model. Outputs two class logits [mean(B), mean(R)] (R, B in [0, 1]) with
# no Softmax node: the engine applies softmax and takes class_index 1.
# Solid red: e/(1+e) = 0.731059; solid blue: 0.268941; grey: 0.5. Without the
# softmax a solid red frame would read 1.0.
name = "tiny-softmax"
task = "frame"
{common}
[input]
name = "pixels"
layout = "nchw"
width = 32
height = 32
channels = "rgb"
range = [0.0, 1.0]
mean = [0.0, 0.0, 0.0]
std = [1.0, 1.0, 1.0]
resize = "crop"
filter = "nearest"

[output]
name = "logits"
kind = "softmax"
class_index = 1
polarity = "synthetic"
"""),
    "tiny-embed": (tiny_embed, """# Test model. Input range [-1, 1] (mean 0, std 1); embedding
# e = [mean(R), mean(G), mean(B), 1]. Head: weights [2, 0, -2, 0], bias 0, then
# L2 normalisation, z = 1.5 * (e/|e| . w + 0) - 0.5, score = sigmoid(z).
# Solid red: e/|e| = [1, -1, -1, 1] / 2, dot = 2, z = 2.5, score 0.924142;
# solid blue: z = -3.5, score 0.029312; grey: z = -0.5, score 0.377541.
# Without L2 normalisation red would give z = 5.5 (0.995930).
name = "tiny-embed"
task = "frame"
{common}
[input]
name = "pixel_values"
layout = "nchw"
width = 32
height = 32
channels = "rgb"
range = [-1.0, 1.0]
mean = [0.0, 0.0, 0.0]
std = [1.0, 1.0, 1.0]
resize = "crop"
filter = "bicubic"

[output]
name = "image_embeds"
kind = "embedding"
polarity = "synthetic"

[head]
weights = "tiny-embed.head.json"
l2_normalise = true
activation = "sigmoid"
scale = 1.5
offset = -0.5
"""),
}

HEAD = {
    "weights": [2.0, 0.0, -2.0, 0.0],
    "bias": 0.0,
    "note": "tiny-embed probe head; keys other than weights and bias are ignored",
}


def images(out):
    """Small test images: solid red and blue 64x48, a left-red/right-blue split,
    mid grey, seeded noise, and a 20-frame 64x48 video (10 red, then 10 blue)."""
    w, h = 64, 48
    solid = lambda rgb: np.broadcast_to(np.array(rgb, np.uint8), (h, w, 3))
    split = np.concatenate([solid((255, 0, 0))[:, : w // 2], solid((0, 0, 255))[:, w // 2 :]], 1)
    noise = np.random.default_rng(4).integers(0, 256, (h, w, 3), dtype=np.uint8)
    for name, arr in [("red", solid((255, 0, 0))), ("blue", solid((0, 0, 255))),
                      ("split", split), ("grey", solid((128, 128, 128))), ("noise", noise)]:
        Image.fromarray(np.ascontiguousarray(arr), "RGB").save(out / f"{name}.png", optimize=True)
    with av.open(str(out / "redblue.mp4"), "w", options={"fflags": "+bitexact"}) as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"qscale": "1"}
        s.codec_context.options = {"flags": "+bitexact"}
        for i in range(20):
            rgb = solid((255, 0, 0) if i < 10 else (0, 0, 255))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = i
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="fixtures/models")
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (build, card) in CARDS.items():
        sha = build(out / f"{name}.onnx")
        (out / f"{name}.toml").write_text(card.format(common=COMMON.format(name=name, sha=sha)))
    (out / "tiny-embed.head.json").write_text(json.dumps(HEAD, indent=2) + "\n")
    images(out)
    for p in sorted(out.iterdir()):
        print(f"{p}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
