#!/usr/bin/env python3
"""Reference scorer for vouch's detector model cards.

This is the specification `vouch detect` is checked against (scores within
1e-3). It reads a model card (models/README.md describes every field), decodes
each PATH (an image with Pillow, anything else as video with PyAV), and prints
one JSON line per file:

    {"path": PATH, "frames": [{"index": i, "time_s": t, "score": s}, ...]}

`score` is the probability that the frame is synthetic, with the card's
polarity applied. A face-detector card (task = "face", output kind = "yunet")
prints, instead of "score", "faces": [{"box": [x, y, w, h], "score": s,
"landmarks": [[x, y] x 5]}] in frame pixels (see `Model.faces`). Usage:

    reference.py --card CARD [--every N] [--max-frames N] PATH...

Pipeline, per frame (one frame per inference run: batch size 1):
  1. RGB u8: images are EXIF-rotated then `convert("RGB")` (alpha dropped);
     video frames are PyAV `to_ndarray(format="rgb24")`.
  2. Resize with Pillow (`filter`) to the card's width x height (`resize`):
       squash    resize straight to width x height;
       crop      s = max(W/w, H/h), resize to (round(w*s), round(h*s)), then
                 crop W x H at ((nw-W)//2, (nh-H)//2);
       letterbox s = min(W/w, H/h), resize to (round(w*s), round(h*s)) (at
                 least 1 pixel), paste on a black W x H canvas at
                 ((W-nw)//2, (H-nh)//2).
     round() is Python's: halves go to the even integer.
  3. float32: x = u8 / 255 * (hi - lo) + lo with [lo, hi] = range, channels
     reordered for `channels = "bgr"`, then (x - mean[c]) / std[c], then
     laid out as NCHW or NHWC with N = 1.
  4. Run the model; read output `name`, batch item 0:
       logit        p = sigmoid(v)            (exactly one value)
       probability  p = v                     (exactly one value)
       softmax      p = softmax(v)[class_index]  (v holds class logits)
       embedding    e = v, e /= max(|e|, 1e-12) when head.l2_normalise,
                    z = scale * (e . weights + bias) + offset,
                    p = sigmoid(z)            (head JSON: weights, bias)
  5. score = p for polarity "synthetic", 1 - p for polarity "real".
"""
import argparse
import hashlib
import json
import sys
import tomllib
from pathlib import Path

import av
import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps, UnidentifiedImageError

FILTERS = {
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,
}


class Model:
    def __init__(self, card_path):
        card_path = Path(card_path)
        with open(card_path, "rb") as f:
            self.card = tomllib.load(f)
        base = card_path.parent
        weights = base / self.card["weights"]
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()
        if digest != self.card["sha256"].lower():
            sys.exit(f"{weights}: sha256 {digest} does not match the card")
        self.inp, self.out = self.card["input"], self.card["output"]
        if self.out["kind"] not in ("logit", "probability", "softmax", "embedding", "yunet"):
            sys.exit(f"unknown output kind {self.out['kind']!r}")
        self.session = ort.InferenceSession(str(weights), providers=["CPUExecutionProvider"])
        self.head = None
        if self.out["kind"] == "embedding":
            head = self.card["head"]
            data = json.loads((base / head["weights"]).read_text())
            self.head = {
                "w": np.asarray(data["weights"], dtype=np.float64),
                "b": float(data.get("bias", 0.0)),
                "l2": head.get("l2_normalise", False),
                "scale": float(head.get("scale", 1.0)),
                "offset": float(head.get("offset", 0.0)),
            }
            if head.get("activation", "sigmoid") != "sigmoid":
                sys.exit("head activation must be sigmoid")

    def resize(self, img):
        W, H = self.inp["width"], self.inp["height"]
        w, h = img.size
        f = FILTERS[self.inp["filter"]]
        mode = self.inp["resize"]
        if mode == "squash":
            return img.resize((W, H), f)
        if mode == "crop":
            s = max(W / w, H / h)
            nw, nh = max(W, round(w * s)), max(H, round(h * s))
            left, top = (nw - W) // 2, (nh - H) // 2
            return img.resize((nw, nh), f).crop((left, top, left + W, top + H))
        if mode == "letterbox":
            s = min(W / w, H / h)
            nw, nh = min(W, max(1, round(w * s))), min(H, max(1, round(h * s)))
            canvas = Image.new("RGB", (W, H))
            canvas.paste(img.resize((nw, nh), f), ((W - nw) // 2, (H - nh) // 2))
            return canvas
        raise ValueError(f"unknown resize {mode!r}")

    def tensor(self, rgb):
        """rgb: H x W x 3 uint8 array -> 1 x ... float32 input tensor."""
        x = np.asarray(self.resize(Image.fromarray(rgb, "RGB")), dtype=np.float32)
        lo, hi = self.inp["range"]
        x = x / np.float32(255.0) * np.float32(hi - lo) + np.float32(lo)
        if self.inp["channels"] == "bgr":
            x = x[..., ::-1]
        x = (x - np.float32(self.inp["mean"])) / np.float32(self.inp["std"])
        if self.inp["layout"] == "nchw":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[np.newaxis], dtype=np.float32)

    def faces(self, rgb):
        """YuNet decoding (as OpenCV's FaceDetectorYN). For stride s in 8, 16, 32
        the outputs cls_s, obj_s (N x cells x 1), bbox_s (x 4), kps_s (x 10) hold
        one anchor per cell, row-major over (height/s) x (width/s). For cell
        (row r, col c): score = sqrt(clamp(cls, 0, 1) * clamp(obj, 0, 1));
        centre = ((c + bbox0) * s, (r + bbox1) * s), size = (exp(bbox2) * s,
        exp(bbox3) * s); landmark k = ((c + kps[2k]) * s, (r + kps[2k+1]) * s).
        Keep score >= score_threshold, greedy NMS by descending score
        (IoU > nms_iou suppressed, IoU = intersection / union of the float
        boxes), then map from input pixels back to the frame by undoing the
        resize: letterbox x' = (x - pad_x) / k, with k = min(W/w, H/h) and
        pad_x = (W - round(w * k)) // 2 (likewise y); squash x' = x * w / W."""
        W, H = self.inp["width"], self.inp["height"]
        x = self.tensor(rgb)
        names = [f"{k}_{s}" for k in ("cls", "obj", "bbox", "kps") for s in (8, 16, 32)]
        out = dict(zip(names, self.session.run(names, {self.inp["name"]: x})))
        found = []
        for s in (8, 16, 32):
            cols = W // s
            cls, obj = out[f"cls_{s}"][0, :, 0], out[f"obj_{s}"][0, :, 0]
            score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
            for i in np.flatnonzero(score >= self.out["score_threshold"]):
                r, c = divmod(int(i), cols)
                b, k = out[f"bbox_{s}"][0, i], out[f"kps_{s}"][0, i]
                w, h = np.exp(b[2]) * s, np.exp(b[3]) * s
                box = [(c + b[0]) * s - w / 2, (r + b[1]) * s - h / 2, w, h]
                lm = [[float((c + k[2 * j]) * s), float((r + k[2 * j + 1]) * s)] for j in range(5)]
                found.append((float(score[i]), [float(v) for v in box], lm))
        found.sort(key=lambda f: -f[0])
        kept = []
        for f in found:
            if all(iou(f[1], g[1]) <= self.out["nms_iou"] for g in kept):
                kept.append(f)
        fh, fw = rgb.shape[:2]
        if self.inp["resize"] == "letterbox":
            k = min(W / fw, H / fh)
            px, py = (W - min(W, max(1, round(fw * k)))) // 2, (H - min(H, max(1, round(fh * k)))) // 2
            kx, ky = k, k
        elif self.inp["resize"] == "squash":
            px, py, kx, ky = 0, 0, W / fw, H / fh
        else:
            raise ValueError("face detectors take resize = letterbox or squash")
        back = lambda p: [(p[0] - px) / kx, (p[1] - py) / ky]
        return [
            {"box": back(b[:2]) + [b[2] / kx, b[3] / ky], "score": sc,
             "landmarks": [back(p) for p in lm]}
            for sc, b, lm in kept
        ]

    def score(self, rgb):
        feeds = {self.inp["name"]: self.tensor(rgb)}
        v = self.session.run([self.out["name"]], feeds)[0][0].astype(np.float64).ravel()
        kind = self.out["kind"]
        if kind in ("logit", "probability"):
            if v.size != 1:
                raise ValueError(f"{kind} output has {v.size} values, expected 1")
            p = sigmoid(v[0]) if kind == "logit" else float(v[0])
        elif kind == "softmax":
            e = np.exp(v - v.max())
            p = float(e[self.out["class_index"]] / e.sum())
        else:
            hd = self.head
            if hd["l2"]:
                v = v / max(float(np.linalg.norm(v)), 1e-12)
            p = sigmoid(hd["scale"] * (float(v @ hd["w"]) + hd["b"]) + hd["offset"])
        return 1.0 - p if self.out.get("polarity", "synthetic") == "real" else p


def iou(a, b):
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def sigmoid(z):
    return float(1.0 / (1.0 + np.exp(-z)))


def frames(path, every, max_frames):
    """Yields (index, time_s, rgb u8 H x W x 3)."""
    try:
        img = Image.open(path)
    except UnidentifiedImageError:
        img = None
    if img is not None:
        yield 0, 0.0, np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
        return
    kept = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 0)
        for i, frame in enumerate(container.decode(stream)):
            if max_frames is not None and kept >= max_frames:
                break
            if i % every:
                continue
            t = frame.time if frame.time is not None else (i / rate if rate else 0.0)
            yield i, float(t), frame.to_ndarray(format="rgb24")
            kept += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--card", required=True)
    ap.add_argument("--every", type=int, default=1, help="keep decoded frames 0, N, 2N, ...")
    ap.add_argument("--max-frames", type=int, default=None, help="at most this many frames per file")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    if args.every < 1:
        ap.error("--every must be at least 1")
    model = Model(args.card)
    for path in args.paths:
        face = model.out["kind"] == "yunet"
        out = [
            {"index": i, "time_s": t, **({"faces": model.faces(rgb)} if face else {"score": model.score(rgb)})}
            for i, t, rgb in frames(path, args.every, args.max_frames)
        ]
        print(json.dumps({"path": path, "frames": out}), flush=True)


if __name__ == "__main__":
    main()
