"""Writes images that declare AI origin the ways generators do, and ordinary
ones that must not be taken for them, for tests/detect.rs.

Usage: declared.py BASE.png OUT_DIR

Each file is BASE's pixels with metadata added; the names say what each
holds. Files starting with `ai-` declare AI origin; `camera-` ones do not.
"""

import io
import json
import sys
from pathlib import Path

from PIL import Image, PngImagePlugin

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"

SD_PARAMETERS = (
    "a photograph of a lighthouse at dusk\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 512x512, Model: sd_xl_base_1.0"
)


def xmp_packet(inner: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/">'
        f"{inner}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    ).encode()


def jpeg_with_app1(image: Image.Image, payload: bytes, **save) -> bytes:
    """A JPEG with an extra APP1 segment right after SOI."""
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=95, **save)
    data = out.getvalue()
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + segment + data[2:]


def png_text(image: Image.Image, path: Path, texts: dict, itxt: bool = False, compressed: bool = False):
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        if itxt:
            info.add_itxt(key, value, zip=compressed)
        elif compressed:
            info.add_text(key, value, zip=True)
        else:
            info.add_text(key, value)
    image.save(path, "PNG", pnginfo=info)


def camera_exif(software: str) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R5"
    exif[0x0131] = software
    exif[0x013B] = "Jane Photographer"
    return exif


def main():
    base = Image.open(sys.argv[1]).convert("RGB")
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)

    # Stable Diffusion web UIs (AUTOMATIC1111, Forge, SD.Next): tEXt `parameters`.
    png_text(base, out / "ai-sd-parameters.png", {"parameters": SD_PARAMETERS})
    # The same, compressed in zTXt, and in compressed iTXt: hidden from a plain text search.
    png_text(base, out / "ai-sd-ztxt.png", {"parameters": SD_PARAMETERS}, compressed=True)
    png_text(base, out / "ai-sd-itxt.png", {"parameters": SD_PARAMETERS}, itxt=True, compressed=True)
    # ComfyUI: the graph as JSON in `prompt` and `workflow`.
    graph = {"3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "cfg": 8}}}
    png_text(base, out / "ai-comfyui.png", {"prompt": json.dumps(graph), "workflow": json.dumps({"nodes": []})})
    # NovelAI: Software and Source.
    png_text(
        base,
        out / "ai-novelai.png",
        {"Software": "NovelAI", "Source": "NovelAI Diffusion V4 4F49EC75", "Comment": json.dumps({"steps": 28})},
    )
    # XMP digital source type in a JPEG (attribute form) and a PNG iTXt (element form).
    attr = f'<rdf:Description Iptc4xmpExt:DigitalSourceType="{IPTC}trainedAlgorithmicMedia"/>'
    packet = xmp_packet(attr.replace("<rdf:Description ", "<rdf:Description rdf:about=\"\" "))
    (out / "ai-xmp.jpg").write_bytes(jpeg_with_app1(base, b"http://ns.adobe.com/xap/1.0/\x00" + packet))
    element = f"<Iptc4xmpExt:DigitalSourceType>{IPTC}compositeSynthetic</Iptc4xmpExt:DigitalSourceType>"
    png_text(base, out / "ai-xmp-composite.png", {"XML:com.adobe.xmp": xmp_packet(element).decode()}, itxt=True)
    # EXIF: an A1111 JPEG keeps its parameters in UserComment (UTF-16 big-endian).
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + SD_PARAMETERS.encode("utf-16-be")
    buf = io.BytesIO()
    base.save(buf, "JPEG", quality=95, exif=exif)
    (out / "ai-exif-usercomment.jpg").write_bytes(buf.getvalue())
    # EXIF Software of a generator, in a WebP.
    exif = Image.Exif()
    exif[0x0131] = "Midjourney v6.1"
    base.save(out / "ai-exif-software.webp", "WEBP", lossless=True, exif=exif)

    # Ordinary metadata: a camera, an editor, a capture declared as such, a
    # PNG whose text mentions neither a generator nor its settings.
    capture = xmp_packet(
        f"<Iptc4xmpExt:DigitalSourceType>{IPTC}digitalCapture</Iptc4xmpExt:DigitalSourceType>"
        "<xmp:CreatorTool>Adobe Photoshop Lightroom Classic 13.1 (Macintosh)</xmp:CreatorTool>"
    )
    data = jpeg_with_app1(base, b"http://ns.adobe.com/xap/1.0/\x00" + capture, exif=camera_exif("Ver.1.0.0"))
    (out / "camera-capture.jpg").write_bytes(data)
    base.save(out / "camera-edited.jpg", "JPEG", quality=90, exif=camera_exif("Adobe Photoshop 25.0 (Macintosh)"))
    png_text(
        base,
        out / "camera-notes.png",
        {"Software": "GIMP 2.10.36", "Comment": "Steps to reproduce: none", "parameters": "exposure=+0.3"},
    )


if __name__ == "__main__":
    main()
