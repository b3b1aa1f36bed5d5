#!/usr/bin/python3
"""report_page_test.py -- the report page is well-formed and its links hold.

Builds a report with tools/report.py from the fixtures in
tests/data/report/ (real outputs of softlin check, oracle and coverage)
into a temporary directory, then checks that index.html
  - parses, with every non-void element closed in order,
  - links only to files that exist inside the report directory,
  - has no reference to the network (http:, https:, //),
  - shows the verdict table, the accuracy table, the coverage figures and
    at least one figure as inline SVG;
and that a report whose gate fails says so (exit 1, "gate: fail"), for a
failed check and for a failed proof gate.
Prints "report_page: N passed, M failed" and exits 1 on any failure.
"""

import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr", "path", "rect", "circle", "line",
        "polyline", "polygon", "use", "image", "stop", "ellipse"}


class Checker(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.links, self.svgs = [], [], [], 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src") and v is not None:
                self.links.append(v)
        if tag == "svg":
            self.svgs += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src") and v is not None:
                self.links.append(v)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unexpected </%s> (open: %s)"
                               % (tag, self.stack[-3:]))
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def build(src):
    out = tempfile.mkdtemp(prefix="softlin-report-")
    shutil.copytree(src, out, dirs_exist_ok=True)
    res = subprocess.run([sys.executable, os.path.join(TOP, "tools",
                                                       "report.py"), out],
                         capture_output=True, text=True)
    return out, res


def build_mutated(src, rel, mutate):
    """Build from a copy of src whose JSON file rel went through mutate;
    return the page text and report.py's exit status."""
    bad = tempfile.mkdtemp(prefix="softlin-report-src-")
    shutil.copytree(src, bad, dirs_exist_ok=True)
    p = os.path.join(bad, rel)
    with open(p) as f:
        rep = json.load(f)
    mutate(rep)
    with open(p, "w") as f:
        json.dump(rep, f)
    out, res = build(bad)
    with open(os.path.join(out, "index.html")) as f:
        text = f.read()
    shutil.rmtree(out)
    shutil.rmtree(bad)
    return text, res.returncode


def main():
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what)

    src = os.path.join(HERE, "data", "report")
    out, res = build(src)
    check(res.returncode == 0, "report.py exit %d: %s" % (res.returncode,
                                                          res.stderr))
    page = os.path.join(out, "index.html")
    check(os.path.exists(page), "index.html written")
    check(os.path.exists(os.path.join(out, "summary.md")), "summary.md")
    check(not any(f.endswith(".tmp") for _, _, fs in os.walk(out)
                  for f in fs), "no temporary file left")
    c = Checker()
    with open(page) as f:
        c.feed(f.read())
    c.close()
    check(not c.errors, "balanced tags: %s" % c.errors[:3])
    check(c.stack == [], "every element closed: %s" % c.stack[-3:])
    for link in c.links:
        if link.startswith("#"):
            continue
        check(not link.startswith(("http:", "https:", "//")),
              "no network link: " + link)
        path = os.path.normpath(os.path.join(out, link))
        check(path.startswith(out), "link stays inside: " + link)
        check(os.path.exists(path), "linked file exists: " + link)
    text = " ".join(c.text)
    for needle in ("gate: pass", "concentration", "Accuracy",
                   "Coverage", "rigorous", "Proofs (Frama-C WP and Eva)",
                   "sl_attn_forward", "Eva: IEEE doubles"):
        check(needle in text, "page shows " + needle)
    check(c.svgs >= 3, "figures inline (%d svg)" % c.svgs)
    shutil.rmtree(out)

    # A failing gate must show as such: a control that passed, and a
    # proof gate that failed (with its reason on the page).
    def lose_control(rep):
        for r in rep["rows"]:
            if r["control"]:
                r["verdict"] = "PASS"
                break

    def fail_proofs(rep):
        rep["pass"] = False
        rep["failures"] = ["unproved goal not in proofs/expected: "
                           "sl_scale/sl_scale_ensures_value"]

    for rel, mutate, needles in (
            (os.path.join("checks", "gaussian.json"), lose_control, ()),
            ("proofs.json", fail_proofs, ("sl_scale_ensures_value",))):
        text, code = build_mutated(src, rel, mutate)
        check(code == 1, "%s: failing gate exits 1 (got %d)" % (rel, code))
        check("gate: fail" in text, "%s: page says gate: fail" % rel)
        for needle in needles:
            check(needle in text, "%s: page shows %s" % (rel, needle))

    print("report_page: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
