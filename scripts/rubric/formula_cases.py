#!/usr/bin/env python3
"""Fill in, from the reference engine, what each json-formula case gives.

tests/rubric/formula-cases.json holds expressions over small documents, each
with the result `@adobe/json-formula` (npm, installed by `make deps`) gives:
`{"ok": VALUE}` or `{"error": MESSAGE}`. vouch's engine is held to those
results by a unit test in src/rubric/formula.rs, and tests/rubric.rs checks
that they are still the reference's. Run this after adding or changing a
case: it asks the reference (through tests/rubric/json-formula.mjs, the
same peer the tests use) and rewrites every result.

usage: scripts/rubric/formula_cases.py [--npm-dir .deps/npm]
"""
import argparse
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES = ROOT / "tests/rubric/formula-cases.json"


def reference(module, group):
    job = {
        "module": str(module),
        "variables": group.get("variables", {}),
        "expressions": group.get("expressions", {}),
        "statements": [case[0] for case in group["cases"]],
        "documents": [group["data"]],
    }
    out = subprocess.run(
        ["node", str(ROOT / "tests/rubric/json-formula.mjs")],
        input=json.dumps(job).encode(),
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)[0]


def dump(doc):
    """One case a line, so that a change reads as a one-line diff."""
    lines = ["{", f'  "about": {json.dumps(doc["about"], ensure_ascii=False)},', '  "groups": [']
    for g, group in enumerate(doc["groups"]):
        lines.append("    {")
        for key in ("data", "variables", "expressions"):
            if key in group:
                lines.append(f'      "{key}": {json.dumps(group[key], ensure_ascii=False)},')
        lines.append('      "cases": [')
        for c, case in enumerate(group["cases"]):
            comma = "," if c + 1 < len(group["cases"]) else ""
            lines.append(f"        {json.dumps(case, ensure_ascii=False)}{comma}")
        lines.append("      ]")
        lines.append("    }" + ("," if g + 1 < len(doc["groups"]) else ""))
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npm-dir", default=str(ROOT / ".deps/npm"))
    args = parser.parse_args()
    module = pathlib.Path(args.npm_dir).resolve() / "node_modules/@adobe/json-formula/src/json-formula.js"
    doc = json.loads(CASES.read_text())
    changed = 0
    for group in doc["groups"]:
        results = reference(module, group)
        for case, result in zip(group["cases"], results):
            if len(case) < 2 or case[1] != result:
                changed += 1
            case[1:] = [result]
    CASES.write_text(dump(doc))
    print(f"{sum(len(g['cases']) for g in doc['groups'])} cases, {changed} results written anew")


if __name__ == "__main__":
    main()
