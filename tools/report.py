#!/usr/bin/python3
"""report.py -- turn the JSON and CSV outputs of a run into reports/.

Usage: report.py REPORTS_DIR

Reads, where present:
  checks/*.json            softlin check reports (schema softlin-check/1)
  train/*.json, *.csv      softlin train reports and their per-step tables
  accuracy.json            softlin oracle (schema softlin-accuracy/1)
  proofs.json              the proof run (make proofs / proofs-replay)
  coverage/coverage.json   the coverage figures (tools/coverage.sh)
and writes index.html (self-contained: CSS and SVG figures inline, links
only to files inside REPORTS_DIR), summary.md and fig/*.svg (gnuplot).
Every file is written to NAME.tmp first and renamed when complete.
Standard library only; gnuplot draws the figures.
"""

import glob
import html
import json
import math
import os
import subprocess
import sys
import tempfile

GATE_CLASSES = ("rigorous",)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def fmt(x, digits=4):
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if math.isnan(x) or math.isinf(x):
            return "-"
        return "%.*g" % (digits, x)
    return str(x)


def esc(s):
    return html.escape(str(s), quote=True)


# ---- Gate ---------------------------------------------------------------


def row_gate_problem(r):
    """A reason this row fails the gate, or None."""
    if r.get("control") and r.get("verdict") == "PASS":
        return "control passed"
    if (not r.get("control") and r.get("class") in GATE_CLASSES
            and r.get("verdict") == "FAIL"):
        return "rigorous failure"
    return None


def fit_gate_problem(f):
    if f.get("control") and f.get("verdict") == "PASS":
        return "control passed"
    if not f.get("control") and f.get("verdict") == "FAIL":
        return "rate failure"
    return None


# ---- Figures (gnuplot) ----------------------------------------------------

GNUPLOT_HEAD = """set terminal svg size 620,400 dynamic font 'Helvetica,11'
set output '%s'
set key top right box opaque
set grid lw 0.5 lc rgb '#dddddd'
set border lc rgb '#444444'
"""


def gnuplot(svg, script, data):
    """Run gnuplot with data files {name: rows}; True when svg exists."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, rows in data.items():
            p = os.path.join(tmp, name + ".dat")
            with open(p, "w") as f:
                for row in rows:
                    f.write(" ".join(repr(float(v)) for v in row) + "\n")
            paths[name] = p
        for name, p in paths.items():
            script = script.replace("{%s}" % name, p)
        text = GNUPLOT_HEAD % (svg + ".tmp") + script
        res = subprocess.run(["gnuplot"], input=text, text=True,
                             capture_output=True)
        if res.returncode != 0 or not os.path.exists(svg + ".tmp"):
            sys.stderr.write("report: gnuplot failed for %s: %s\n"
                             % (svg, res.stderr.strip()[:200]))
            return False
        os.replace(svg + ".tmp", svg)
        return True


def fig_quantiles(rep, target, svg):
    """Quantile of the deviation against n, with bounds and reference."""
    rows = [r for r in rep["rows"] if r["target"] == target
            and r["check"] in ("concentration", "gradient")
            and r["sweep"] is None]
    series = {}
    for r in rows:
        if r["control"]:
            continue
        series.setdefault("q", {})[r["n"]] = r["quantile"]
        series.setdefault("ref", {})[r["n"]] = r["reference"]
        series.setdefault(r["bound"], {})[r["n"]] = r["bound_value"]
    if "q" not in series or len(series["q"]) < 1:
        return False
    data = {k: sorted(v.items()) for k, v in series.items()
            if all(x is not None and x > 0 for x in v.values())}
    plots = ["'{q}' w lp pt 7 lc rgb '#1f4e9c' lw 2 t 'empirical quantile'"]
    if "chebyshev" in data:
        plots.append("'{chebyshev}' w lp pt 5 lc rgb '#b22222' lw 2 "
                     "t 'rigorous bound'")
    if "paper" in data:
        plots.append("'{paper}' w lp pt 9 lc rgb '#e08a00' dt 2 "
                     "t 'paper form (user C, c)'")
    if "ref" in data:
        plots.append("'{ref}' w l lc rgb '#2e8b57' dt 3 lw 2 "
                     "t 'asymptotic reference'")
    script = ("set logscale xy\nset format x '10^{%%L}'\n"
              "set xlabel 'prompt length n'\n"
              "set ylabel '(1 - delta) quantile of |%s deviation|'\n"
              "plot " % target) + ", ".join(plots) + "\n"
    return gnuplot(svg, script, data)


def fig_violations(rep, svg):
    rows = [r for r in rep["rows"] if r["check"] in
            ("concentration", "gradient") and r["sweep"] is None
            and r["bound"] in ("chebyshev", "chebyshev/20")
            and r["verdict"] != "N/A"]
    if not rows:
        return False
    data, plots = {}, []
    styles = {("output", False): ("#1f4e9c", 7), ("dV", False):
              ("#2e8b57", 5), ("dW", False): ("#b22222", 9),
              ("output", True): ("#1f4e9c", 6), ("dV", True):
              ("#2e8b57", 4), ("dW", True): ("#b22222", 8)}
    for (target, ctl), (color, pt) in styles.items():
        pts = sorted((r["n"], max(r["rate"], 1e-4), r["cp_low"],
                      r["cp_high"]) for r in rows
                     if r["target"] == target and r["control"] == ctl)
        if not pts:
            continue
        name = "%s_%d" % (target, ctl)
        data[name] = [(n, rt, max(lo, 1e-4), max(hi, 1e-4))
                      for n, rt, lo, hi in pts]
        label = target + (" control (bound/20)" if ctl else " rigorous")
        plots.append("'{%s}' u 1:2:3:4 w yerrorlines pt %d lc rgb '%s' "
                     "%s t '%s'" % (name, pt, color,
                                    "dt 2" if ctl else "lw 2", label))
    delta = rows[0]["delta"]
    script = ("set logscale xy\nset format x '10^{%L}'\n"
              "set yrange [5e-5:1.5]\nset key bottom right\n"
              "set xlabel 'prompt length n'\n"
              "set ylabel 'violation rate (Clopper-Pearson interval)'\n"
              "plot " + ", ".join(plots) +
              ", %r w l lc rgb 'black' dt 4 t 'delta'\n" % delta)
    return gnuplot(svg, script, data)


def fig_kappa(rep, svg):
    rows = [r for r in rep["rows"] if r["check"] == "kappa"
            and not r["control"]]
    if not rows:
        return False
    q = sorted({(r["sweep"], r["quantile"]) for r in rows})
    b = sorted((r["sweep"], r["bound_value"]) for r in rows
               if r["bound"] == "chebyshev")
    c = sorted((r["sweep"], r["constant"]) for r in rows
               if r["bound"] == "chebyshev")
    script = ("set logscale x\nset logscale y\n"
              "set xlabel 'kappa = E e^2 (Gaussian: exp(a^T S a))'\n"
              "set ylabel 'deviation at n = %d'\nset y2label "
              "'empirical paper constant'\nset y2tics\nset logscale y2\n"
              "set key top left\n"
              "plot '{q}' w lp pt 7 lw 2 lc rgb '#1f4e9c' t 'quantile', "
              "'{b}' w lp pt 5 lw 2 lc rgb '#b22222' t 'rigorous bound', "
              "'{c}' axes x1y2 w lp pt 9 dt 2 lc rgb '#e08a00' "
              "t 'empirical constant (right)'\n" % rows[0]["n"])
    return gnuplot(svg, script, {"q": q, "b": b, "c": c})


def read_csv(path):
    try:
        with open(path) as f:
            lines = [ln.rstrip("\n").split(",") for ln in f if ln.strip()]
    except OSError:
        return None, []
    if not lines:
        return None, []
    return lines[0], lines[1:]


def fig_train_gaps(csv_path, svg):
    head, rows = read_csv(csv_path)
    if head is None or "gap" not in head or "step" not in head:
        return False
    i_n, i_s, i_g = head.index("n"), head.index("step"), head.index("gap")
    by_n = {}
    for r in rows:
        try:
            g = float(r[i_g])
        except ValueError:
            continue
        if g > 0:
            by_n.setdefault(int(float(r[i_n])), []).append(
                (int(float(r[i_s])), g))
    if not by_n:
        return False
    data, plots = {}, []
    for k, n in enumerate(sorted(by_n)):
        data["n%d" % n] = sorted(by_n[n])
        plots.append("'{n%d}' w l lw 2 lc %d t 'n = %d'" % (n, k + 1, n))
    script = ("set logscale y\nset xlabel 'gradient step t'\n"
              "set ylabel '|theta_n(t) - theta_inf(t)|'\n"
              "set key outside right\nplot " + ", ".join(plots) + "\n")
    return gnuplot(svg, script, data)


def fig_excess(train, svg):
    pts = []
    for r in train.get("rows", []):
        if r.get("check") == "excess" and r.get("quantile") is not None:
            if r["quantile"] > 0:
                pts.append((r["n"], r["quantile"]))
    if not pts:
        return False
    script = ("set logscale xy\nset format x '10^{%L}'\n"
              "set xlabel 'prompt length n'\nset ylabel "
              "'L_inf(theta_n(T)) - min L_inf'\n"
              "plot '{e}' w lp pt 7 lw 2 lc rgb '#1f4e9c' "
              "t 'excess risk'\n")
    return gnuplot(svg, script, {"e": sorted(pts)})


# ---- HTML -----------------------------------------------------------------

CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;color:#cfd8e3}
main{padding:16px 32px;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;
padding:12px 20px;margin:16px 0}
h2{font-size:19px;margin:6px 0 10px}
h3{font-size:15px;margin:14px 0 6px;color:#333}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
th,td{border-bottom:1px solid #eee;padding:3px 8px;text-align:right}
th{background:#f3f5f8;position:sticky;top:0}
td.l,th.l{text-align:left}
.PASS{color:#116611;font-weight:bold}
.FAIL{color:#b00000;font-weight:bold}
.NA{color:#888}
.ctl{color:#666;font-style:italic}
.badge{display:inline-block;padding:6px 14px;border-radius:14px;
font-weight:bold;font-size:15px}
.ok{background:#d9f2d9;color:#0d5d0d}
.bad{background:#f8d7d7;color:#8a0000}
.grid{display:grid;gap:12px;
grid-template-columns:repeat(auto-fill,minmax(480px,1fr))}
.fig{border:1px solid #eee;border-radius:4px;padding:4px;background:#fff}
.fig svg{width:100%;height:auto;display:block}
.fig p{margin:2px 6px;font-size:12px;color:#555;max-width:600px}
.cards{display:flex;gap:14px;flex-wrap:wrap}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:8px 14px;
min-width:150px}
.card b{font-size:20px;display:block}
code{background:#f1f1f1;padding:1px 4px;border-radius:3px}
"""


def proofs_section(proofs):
    """The proof status: WP per function or lemma block, the goals left
    unproved with their reasons, and the Eva drivers (tools/proofs.py)."""
    wp = proofs.get("wp", {})
    excused = {}
    for g in wp.get("unproved", []):
        owner = g.get("goal", "").split("/")[0]
        if g.get("reason"):
            excused[owner] = excused.get(owner, 0) + 1
    rows = []
    for owner, fn in sorted(wp.get("functions", {}).items()):
        left = fn.get("total", 0) - fn.get("proved", 0)
        ok = left == excused.get(owner, 0)
        status = ('<td class="PASS">all proved</td>' if left == 0 else
                  '<td class="PASS">%d listed</td>' % left if ok else
                  '<td class="FAIL">%d not listed</td>'
                  % (left - excused.get(owner, 0)))
        rows.append([td(owner, True), td(fn.get("proved")),
                     td(fn.get("total")), td(excused.get(owner, 0)),
                     status])
    out = ['<section><h2>Proofs (Frama-C WP and Eva)</h2>',
           '<p>WP, real model: <b>%s of %s</b> goals proved (%s listed in '
           'proofs/expected with a reason), %s of %s smoke tests passed; '
           'run mode: %s; gate <b>%s</b>. What each model proves: '
           'proofs/README.md. <a href="proofs.md">proofs.md</a>, '
           '<a href="proofs.json">JSON</a>.</p>' % (
               esc(fmt(wp.get("proved"))), esc(fmt(wp.get("total"))),
               esc(fmt(len(wp.get("expected_unproved", {})))),
               esc(fmt(wp.get("smoke_passed"))),
               esc(fmt(wp.get("smoke_total"))),
               esc({"record": "replay of the recorded full run (inputs "
                             "unchanged, no prover started)",
                    "wp": "WP over the proof cache" if proofs.get("mode")
                    == "replay" else "full run with the provers"}.get(
                        proofs.get("source"), proofs.get("mode", "-"))),
               "pass" if proofs.get("pass") else "FAIL")]
    if wp.get("stale"):
        out.append("<p>%d goal(s) changed since the last full run (stale "
                   "cache entries, proved again for this report).</p>"
                   % len(wp["stale"]))
    out.append(table(["function or lemma block", "proved", "goals",
                      "listed unproved", "status"], rows))
    left = wp.get("unproved", [])
    if left:
        out.append("<h3>Goals left unproved</h3><ul>%s</ul>" % "".join(
            "<li><code>%s</code>: %s</li>" % (
                esc(g.get("goal")),
                esc(g.get("reason") or "NOT in proofs/expected"))
            for g in left))
    eva = proofs.get("eva", [])
    if eva:
        erows = [[td(e.get("driver"), True), td(e.get("alarms")),
                  td(e.get("invalid")), td(e.get("seconds")),
                  verdict_cell("PASS" if e.get("ran") and not e.get("alarms")
                               and not e.get("invalid") else "FAIL")]
                 for e in eva]
        out.append("<h3>Eva: IEEE doubles on bounded inputs</h3>" +
                   table(["driver", "alarms", "invalid", "seconds",
                          "status"], erows))
    for f in proofs.get("failures", []):
        out.append("<p>gate failure: %s</p>" % esc(f))
    out.append("</section>")
    return "".join(out)


def verdict_cell(v, control=False):
    """A verdict; a control must FAIL, so its FAIL is the good outcome."""
    if control and v == "FAIL":
        return '<td class="PASS">FAIL, as required</td>'
    if control and v == "PASS":
        return '<td class="FAIL">PASS: control lost</td>'
    cls = {"PASS": "PASS", "FAIL": "FAIL"}.get(v, "NA")
    return '<td class="%s">%s</td>' % (cls, esc(v))


def table(headers, rows, left=1):
    out = ["<table><tr>"]
    for k, h in enumerate(headers):
        out.append('<th%s>%s</th>' % (' class="l"' if k < left else "",
                                      esc(h)))
    out.append("</tr>")
    for r in rows:
        out.append("<tr>" + "".join(r) + "</tr>")
    out.append("</table>")
    return "".join(out)


def td(x, left=False, cls=None):
    c = []
    if left:
        c.append("l")
    if cls:
        c.append(cls)
    attr = ' class="%s"' % " ".join(c) if c else ""
    return "<td%s>%s</td>" % (attr, esc(fmt(x)))


def check_table(rep):
    rows = []
    for r in rep["rows"]:
        ctl = r["control"]
        label = r["bound"] + (" (control)" if ctl else "")
        ci = "[%s, %s]" % (fmt(r["cp_low"], 3), fmt(r["cp_high"], 3))
        rows.append([td(r["check"], True), td(r["target"], True),
                     td(label, True, "ctl" if ctl else None),
                     td(r["class"], True), td(r["sweep"]), td(r["n"]),
                     td("%d/%d" % (r["violations"], r["trials"])),
                     td(ci), td(r["quantile"]), td(r["bound_value"]),
                     td(r["tightness"], cls=None), td(r["reference"]),
                     td(r["constant"]), verdict_cell(r["verdict"], ctl)])
    return table(["check", "target", "bound", "class", "sweep", "n",
                  "violations", "interval (1-alpha)", "quantile", "bound",
                  "tightness", "reference", "emp. constant", "verdict"],
                 rows, left=4)


def fit_table(rep):
    rows = []
    for f in rep.get("fits", []):
        rows.append([td(f["check"], True), td(f["target"], True),
                     td("control" if f["control"] else "claim", True),
                     td(f["claim"]), td(f["tol"]), td(f["slope"]),
                     td(f["slope_se"]),
                     verdict_cell(f["verdict"], f["control"])])
    if not rows:
        return ""
    return table(["fit", "target", "kind", "claimed slope", "tol",
                  "fitted slope", "std. error", "verdict"], rows, left=3)


def inline_svg(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return ""
    i = text.find("<svg")
    return text[i:] if i >= 0 else ""


def figure(path, caption, rel):
    svg = inline_svg(path)
    if not svg:
        return ""
    return ('<div class="fig">%s<p>%s <a href="%s">(SVG)</a></p></div>'
            % (svg, esc(caption), esc(rel)))


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: report.py REPORTS_DIR\n")
        return 2
    top = sys.argv[1]
    figdir = os.path.join(top, "fig")
    os.makedirs(figdir, exist_ok=True)

    checks = []
    for p in sorted(glob.glob(os.path.join(top, "checks", "*.json"))):
        rep = load(p)
        if rep and rep.get("schema") == "softlin-check/1":
            checks.append((os.path.relpath(p, top), rep))
    trains = []
    for p in sorted(glob.glob(os.path.join(top, "train", "*.json"))):
        rep = load(p)
        if rep and "rows" in rep:
            trains.append((os.path.relpath(p, top), rep))
    acc = load(os.path.join(top, "accuracy.json"))
    proofs = load(os.path.join(top, "proofs.json"))
    cov = load(os.path.join(top, "coverage", "coverage.json"))

    # Gate over every report.
    problems = []
    for rel, rep in checks + trains:
        for r in rep.get("rows", []):
            why = row_gate_problem(r)
            if why:
                problems.append("%s: %s %s %s n=%s: %s" % (
                    rel, r["check"], r["target"], r["bound"], r["n"], why))
        for f in rep.get("fits", []):
            why = fit_gate_problem(f)
            if why:
                problems.append("%s: fit %s %s: %s" % (
                    rel, f["check"], f["target"], why))
    acc_fail = [k for k in (acc or {}).get("kernels", [])
                if k.get("verdict") != "PASS"]
    proof_fail = proofs is not None and not proofs.get("pass")
    if proof_fail:
        problems += ["proofs: " + f for f in proofs.get("failures", [])]
    wp = (proofs or {}).get("wp", {})
    gate_ok = not problems and not acc_fail and not proof_fail

    # Figures.
    figs = []
    for rel, rep in checks:
        base = os.path.splitext(os.path.basename(rel))[0]
        for target in ("output", "dV", "dW"):
            svg = os.path.join(figdir, "%s-quantile-%s.svg" % (base, target))
            if fig_quantiles(rep, target, svg):
                figs.append((svg, "%s, %s: (1 - delta) quantile of the "
                             "deviation against n, log-log, with the "
                             "bounds and the asymptotic reference."
                             % (base, target)))
        svg = os.path.join(figdir, "%s-violations.svg" % base)
        if fig_violations(rep, svg):
            figs.append((svg, "%s: violation rate against n with its "
                         "Clopper-Pearson interval; the controls "
                         "(bound / 20) must lie above delta." % base))
        svg = os.path.join(figdir, "%s-kappa.svg" % base)
        if fig_kappa(rep, svg):
            figs.append((svg, "%s: kappa sweep: quantile, rigorous bound "
                         "and empirical paper constant." % base))
    for rel, rep in trains:
        base = os.path.splitext(os.path.basename(rel))[0]
        csv = os.path.splitext(os.path.join(top, rel))[0] + ".csv"
        svg = os.path.join(figdir, "%s-gaps.svg" % base)
        if fig_train_gaps(csv, svg):
            figs.append((svg, "%s: trajectory gap |theta_n(t) - "
                         "theta_inf(t)| against the step, per n." % base))
        svg = os.path.join(figdir, "%s-excess.svg" % base)
        if fig_excess(rep, svg):
            figs.append((svg, "%s: excess risk of the final parameters "
                         "against n." % base))

    # HTML.
    h = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
         '<title>softlin report</title><style>%s</style></head><body>'
         % CSS]
    h.append("<header><h1>softlin report</h1><p>Softmax attention as "
             "linear attention for long prompts: checks, accuracy, proofs "
             "and coverage of one run.</p></header><main>")
    badge = ('<span class="badge ok">gate: pass</span>' if gate_ok else
             '<span class="badge bad">gate: fail</span>')
    h.append("<section><h2>At a glance</h2>%s<div class=\"cards\">"
             % badge)
    nrows = sum(len(r.get("rows", [])) for _, r in checks + trains)
    h.append('<div class="card">check rows<b>%d</b></div>' % nrows)
    h.append('<div class="card">gate problems<b>%d</b></div>'
             % len(problems))
    if acc:
        h.append('<div class="card">kernel outputs within budget<b>%d/%d'
                 '</b></div>' % (len(acc.get("kernels", [])) -
                                 len(acc_fail), len(acc.get("kernels", []))))
    if proofs:
        h.append('<div class="card">proved goals (WP)<b>%s/%s</b></div>'
                 % (fmt(wp.get("proved")), fmt(wp.get("total"))))
    if cov:
        h.append('<div class="card">kernel line coverage<b>%s%%</b></div>'
                 % fmt(cov["kernels"]["lines"]))
    h.append("</div>")
    if problems:
        h.append("<h3>Gate problems</h3><ul>%s</ul>" % "".join(
            "<li>%s</li>" % esc(p) for p in problems))
    h.append("</section>")

    if figs:
        h.append('<section><h2>Figures</h2><div class="grid">')
        for svg, cap in figs:
            h.append(figure(svg, cap, os.path.relpath(svg, top)))
        h.append("</div></section>")

    for rel, rep in checks + trains:
        h.append('<section><h2>%s: %s, measure %s</h2>' % (
            esc(rep.get("command", "check")), esc(rep.get("name", "")),
            esc(rep.get("measure", ""))))
        h.append("<p>seed <code>%s</code>, %s trials, delta %s, alpha %s, "
                 "a<sup>T</sup>S a = %s, kappa = %s, parameters from "
                 "<code>%s</code>, %s threads, %s s. Files: "
                 '<a href="%s">JSON</a>' % (
                     esc(rep.get("seed")), esc(fmt(rep.get("trials"))),
                     esc(fmt(rep.get("delta"))), esc(fmt(rep.get("alpha"))),
                     esc(fmt(rep.get("quad"))), esc(fmt(rep.get("kappa"))),
                     esc(rep.get("params_source")),
                     esc(fmt(rep.get("run", {}).get("threads"))),
                     esc(fmt(rep.get("run", {}).get("elapsed_s"), 3)),
                     esc(rel)))
        csv = os.path.splitext(rel)[0] + ".csv"
        if os.path.exists(os.path.join(top, csv)):
            h.append(', <a href="%s">CSV</a>' % esc(csv))
        h.append(".</p>")
        h.append(fit_table(rep))
        h.append(check_table(rep))
        h.append("</section>")

    if acc:
        rows = []
        for k in acc.get("kernels", []):
            rows.append([td(k.get("kernel"), True), td(k.get("output"), True),
                         td(k.get("cases")), td(k.get("max_error")),
                         td(k.get("budget")), td(k.get("tightness")),
                         td(k.get("worst_case")), td(k.get("arb_agree")),
                         verdict_cell(k.get("verdict"))])
        h.append('<section><h2>Accuracy: kernels against MPFR oracles</h2>'
                 '<p>seed %s, %s cases per kernel, MPFR %s bits; budgets in '
                 '<code>spec/ACCURACY.md</code>. <a href="accuracy.json">'
                 'JSON</a>.</p>%s</section>' % (
                     esc(acc.get("seed")), esc(fmt(acc.get("cases"))),
                     esc(fmt(acc.get("prec_bits"))),
                     table(["kernel", "output", "cases", "max error",
                            "budget", "tightness", "worst case", "Arb",
                            "verdict"], rows, left=2)))

    if proofs:
        h.append(proofs_section(proofs))

    if cov:
        rows = []
        for key, name in (("kernels", "src/kernels"), ("src", "src")):
            c = cov[key]
            rows.append([td(name, True), td("%s%%" % fmt(c["lines"])),
                         td("%d/%d" % (c["lines_hit"], c["lines_total"])),
                         td("%s%%" % fmt(c["branches"])),
                         td("%d/%d" % (c["branches_hit"],
                                       c["branches_total"]))])
        lcov = ('; <a href="coverage/index.html">lcov pages</a>'
                if os.path.exists(os.path.join(top, "coverage",
                                               "index.html")) else "")
        h.append('<section><h2>Coverage</h2><p>Test-suite coverage%s.</p>%s'
                 '</section>' % (lcov, table(["files", "lines", "hit/total",
                                       "branches", "hit/total"], rows)))

    h.append("</main></body></html>\n")
    write_atomic(os.path.join(top, "index.html"), "".join(h))

    # summary.md for CI logs.
    md = ["# softlin report", "",
          "Gate: **%s**" % ("pass" if gate_ok else "fail"), ""]
    for rel, rep in checks + trains:
        s = rep.get("summary", {})
        md.append("- `%s` (%s, %s): %s rows, %s fits, gate %s" % (
            rel, rep.get("name"), rep.get("measure"), s.get("rows"),
            s.get("fits"), s.get("gate")))
        for f in rep.get("fits", []):
            if not f["control"]:
                md.append("  - %s %s slope %.3f +- %.3f (%s)" % (
                    f["check"], f["target"], f["slope"], f["slope_se"],
                    f["verdict"]))
    if acc:
        md.append("- accuracy: %d/%d kernel outputs within budget" % (
            len(acc.get("kernels", [])) - len(acc_fail),
            len(acc.get("kernels", []))))
    if proofs:
        md.append("- proofs: %s/%s WP goals proved, %s Eva alarm(s), "
                  "gate %s" % (wp.get("proved"), wp.get("total"),
                               sum(e.get("alarms") or 0
                                   for e in proofs.get("eva", [])),
                               "pass" if proofs.get("pass") else "FAIL"))
    if cov:
        md.append("- coverage: src/kernels lines %s%%, src lines %s%%" % (
            cov["kernels"]["lines"], cov["src"]["lines"]))
    for p in problems:
        md.append("- problem: " + p)
    md.append("")
    write_atomic(os.path.join(top, "summary.md"), "\n".join(md))
    print("report: %s/index.html, gate %s" % (top, "pass" if gate_ok
                                               else "fail"))
    return 0 if gate_ok else 1


if __name__ == "__main__":
    sys.exit(main())
