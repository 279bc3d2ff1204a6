#!/usr/bin/env python3
"""Records what the reference helm renders for each template of stdin.

Each input line is one template (text before a TAB is taken, so a recorded
file can be fed back to re-record it); `#` lines and blank lines pass through.
Prints `template<TAB>"output"` or `template<TAB>ERR "error"` (JSON strings),
the format of tests/templates.txt:

    python3 crates/sprig/tests/record_templates.py \
        < crates/sprig/tests/templates.txt > /tmp/t.txt && mv /tmp/t.txt crates/sprig/tests/templates.txt

The template is rendered alone as c/templates/t.txt of a chart without values
(`helm template x CHART --debug`, so output that is not YAML is still shown).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HELM = os.environ.get("HELM", os.path.join(HERE, "../../../.cache/bin/helm"))
SOURCE = "# Source: c/templates/t.txt\n"


def render(chart, tmpl):
    with open(os.path.join(chart, "templates", "t.txt"), "w") as f:
        f.write(tmpl)
    p = subprocess.run([HELM, "template", "x", chart, "--debug"],
                       capture_output=True, text=True, check=False)
    m = re.search(r"^Error: (.*)$", p.stderr, re.M)
    if m and not m.group(1).startswith("YAML parse error"):
        return "ERR " + json.dumps(m.group(1))
    start = p.stdout.find(SOURCE)
    if start < 0:
        sys.exit(f"no output for {tmpl!r}: {p.stderr}")
    body = p.stdout[start + len(SOURCE):]
    cut = body.find("\nError: YAML parse error")
    if cut >= 0:
        body = body[:cut + 1]
    if body.endswith("\n"):
        body = body[:-1]
    return json.dumps(body)


def main():
    with tempfile.TemporaryDirectory() as chart:
        os.makedirs(os.path.join(chart, "templates"))
        with open(os.path.join(chart, "Chart.yaml"), "w") as f:
            f.write("apiVersion: v2\nname: c\nversion: 0.1.0\n")
        for line in sys.stdin:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                print(line)
                continue
            tmpl = line.split("\t", 1)[0]
            print(f"{tmpl}\t{render(chart, tmpl)}")


if __name__ == "__main__":
    main()
