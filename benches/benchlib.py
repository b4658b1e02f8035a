"""What the benchmark scripts share: the machine they ran on, and the README
section each one fills between its markers."""
import platform
from pathlib import Path


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markers(name):
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def update_readme(readme, name, table):
    """Replaces what lies between the README's `bench:NAME` markers."""
    begin_marker, end_marker = markers(name)
    text = Path(readme).read_text()
    begin, end = text.find(begin_marker), text.find(end_marker)
    if begin < 0 or end < begin:
        raise SystemExit(f"{readme}: no {begin_marker} ... {end_marker} section to fill")
    Path(readme).write_text(text[: begin + len(begin_marker)] + "\n" + table + text[end:])
