#!/usr/bin/python3
"""proofs.py -- run, report and gate the formal proofs of the kernels.

Two analyses of src/kernels/*.c (proofs/README.md says what each proves):

  WP   Frama-C's WP in the real model (-wp-model Typed+real) with RTE
       guards (-wp-rte, -warn-unsigned-overflow), smoke tests, the
       induction scripts and driver of proofs/wp, provers Z3 and CVC4,
       results cached in proofs/wp/cache;
  Eva  every driver proofs/eva/*.c: the kernels on bounded inputs in IEEE
       double arithmetic; a run passes when Eva emits no alarm.

Modes:

  full    run the provers where the cache has no answer, then rewrite the
          cache so that it holds exactly this run's entries (make proofs);
          with --functions, only adds the entries of those functions;
  replay  the gate without provers when nothing changed (make check).
          The full run records, in proofs/wp/status.json, every goal's
          verdict under a digest of everything the verdicts depend on
          (kernel sources, shared logic, WP driver and scripts, options,
          versions of Frama-C, Why3, Z3 and CVC4).  When the digest still
          matches, replay reads that record: the goals are those the full
          run proved, and only the gate runs again.  Otherwise it runs WP
          over the proof cache without writing it (-wp-cache offline); a
          goal whose entry is missing -- its formula changed since the
          last full run -- is "stale": it is proved again by the provers
          when they are installed, and reported as stale either way.
          --force skips the record and always runs WP over the cache.

Then the gate: it fails when a goal is unproved and proofs/expected does
not list it with a reason, when a smoke test finds a contradictory
contract, when the number of goals falls below the count in
proofs/expected, or when an Eva driver raises an alarm.  reports/proofs.json
and reports/proofs.md hold the per-function counts (written to a temporary
file, then renamed).  Exit status: 0 pass, 1 gate failure, 2 usage or tool
error, 3 stale cache that could not be re-proved (no prover installed).

Standard library only: run it with /usr/bin/python3.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What every WP run uses; proofs/README.md explains each choice.
WP_OPTIONS = [
    "-aggressive-merging",        # one copy of the static inline wrappers
    "-warn-unsigned-overflow",    # size_t arithmetic must not wrap
    "-wp", "-wp-rte",
    "-wp-model", "Typed+real",
    "-wp-prover", "script,z3,z3na,cvc4",
    "-wp-par", "2",
    "-wp-smoke-tests", "-wp-smoke-timeout", "2",
]
WP_TIMEOUT = 10

GOAL_LINE = re.compile(
    r"^\[wp\] \[(?P<prover>[^\]]+)\] (?P<kind>Goal|Smoke-test) "
    r"(?P<goal>\S+)(?: : (?P<verdict>.*))?$")


def log(msg):
    print("proofs: " + msg, file=sys.stderr, flush=True)


def write_atomic(path, text):
    """Write text to path through a temporary file and a rename."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def have(tool):
    return shutil.which(tool) is not None


# --------------------------------------------------------------------------
# proofs/expected
# --------------------------------------------------------------------------

def read_expected(path):
    """Return (goal count, {goal: reason}, eva alarms allowed).

    Lines: '# comment', 'goals: N', 'eva-alarms: N' and
    'unproved FUNCTION/PROPERTY: reason' (a reason is required)."""
    goals, unproved, eva_alarms = None, {}, 0
    with open(path) as f:
        for num, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^goals:\s*(\d+)$", line)
            if m:
                goals = int(m.group(1))
                continue
            m = re.match(r"^eva-alarms:\s*(\d+)$", line)
            if m:
                eva_alarms = int(m.group(1))
                continue
            m = re.match(r"^unproved\s+(\S+)\s*:\s*(\S.*)$", line)
            if m:
                unproved[m.group(1)] = m.group(2)
                continue
            raise SystemExit("proofs: %s:%d: cannot parse %r" %
                             (path, num, line))
    return goals, unproved, eva_alarms


# --------------------------------------------------------------------------
# WP
# --------------------------------------------------------------------------

Z3_NOAUTO = """
[prover]
alternative = "noauto"
command = "{z3} -smt2 -T:%t auto_config=false sat.random_seed=42 \
nlsat.randomize=false smt.random_seed=42 -st %f"
command_steps = "{z3} -smt2 auto_config=false sat.random_seed=42 \
nlsat.randomize=false smt.random_seed=42 -st rlimit=%S %f"
driver = "z3_471"
editor = ""
in_place = false
interactive = false
name = "Z3"
path = "{z3}"
shortcut = "z3na"
version = "{version}"
"""


def why3_config(workdir):
    """The Why3 configuration of the run: the user's (or a fresh
    `why3 config detect`), with memlimit = 0 and a second Z3 set-up,
    "Z3 noauto", that disables Z3's automatic configuration.  Z3's
    defaults time out on some goals that it proves at once without them,
    and the reverse; the portfolio tries both.  Returns the file name."""
    target = os.path.join(workdir, "why3.conf")
    base = os.environ.get("WHY3CONFIG") or os.path.expanduser(
        "~/.why3.conf")
    if os.path.exists(base):
        text = open(base).read()
    else:
        subprocess.run(["why3", "--config=" + target, "config", "detect"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        text = open(target).read()
    text = re.sub(r"(?m)^memlimit = .*$", "memlimit = 0", text)
    text = re.sub(r'(?ms)^\[prover\]\nalternative = "noauto".*?\n\n', "",
                  text + "\n\n")
    z3 = shutil.which("z3") or "z3"
    out = subprocess.run([z3, "-version"], stdout=subprocess.PIPE,
                         text=True).stdout
    m = re.search(r"version (\S+)", out)
    text = text.rstrip() + "\n" + Z3_NOAUTO.format(
        z3=z3, version=m.group(1) if m else "unknown")
    write_atomic(target, text)
    return target


def run_wp(args, workdir, cache_mode):
    """Run WP on the kernels; return (goal table, smoke table, log text)."""
    report = os.path.join(workdir, "wp.json")
    kernels = sorted(os.path.join(args.kernels, f)
                     for f in os.listdir(args.kernels) if f.endswith(".c"))
    cmd = ["frama-c",
           "-cpp-extra-args=-I%s -I%s" % (args.spec, args.src)]
    cmd += kernels + WP_OPTIONS
    cmd += ["-wp-timeout", str(args.timeout),
            "-wp-driver", os.path.join(args.session, "softlin.driver"),
            "-wp-session", args.session,
            "-wp-cache", cache_mode,
            "-wp-report-json", report]
    if args.functions:
        cmd += ["-wp-fct", args.functions]
    log("WP (%s cache): %d kernel files" % (cache_mode, len(kernels)))
    env = dict(os.environ, WHY3CONFIG=why3_config(workdir))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env)
    text = proc.stdout
    with open(os.path.join(workdir, "wp.log"), "w") as f:
        f.write(" ".join(cmd) + "\n\n" + text)
    if proc.returncode != 0 or not os.path.exists(report):
        sys.stderr.write(text[-3000:])
        raise SystemExit("proofs: frama-c failed (log: %s/wp.log)" % workdir)
    with open(report) as f:
        data = json.load(f)
    return parse_wp(data, text), text


def goal_key(goal_id):
    """typed_real_softlin_sl_dot_ensures_value -> sl_dot_ensures_value."""
    return re.sub(r"^typed_real(_softlin)?_", "", goal_id)


def parse_wp(data, text):
    """One record per goal: owner (function or lemma section), property,
    verdict, whether its answer came from the cache, whether it is a
    smoke test."""
    goals = {}

    def add(owner, prop, stats):
        main = stats.get("wp:main", {})
        provers = [p for p in stats if p not in ("wp:main",)]
        proved = main.get("valid", 0) == main.get("total", 0) > 0
        goals[prop] = {"owner": owner, "property": prop, "proved": proved,
                       "provers": sorted(provers), "cached": False,
                       "smoke": "_wp_smoke_" in prop}

    for fct, props in data.get("wp:functions", {}).items():
        for prop, stats in props.items():
            if prop != "wp:section":
                add(fct, prop, stats)
    for ax, props in data.get("wp:axiomatics", {}).items():
        for prop, stats in props.items():
            if prop != "wp:section":
                add("lemmas" + (":" + ax if ax else ""), prop, stats)

    # The log says which answers came from the cache and how smoke tests
    # ended (the JSON counts a passed smoke test as valid).
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = GOAL_LINE.match(line)
        if not m:
            continue
        key = goal_key(m.group("goal"))
        rec = goals.get(key)
        if rec is None:
            continue
        block = [line]
        j = i + 1
        while j < len(lines) and lines[j].startswith("  "):
            block.append(lines[j])
            j += 1
        if "(cached)" in " ".join(block) or m.group("prover") == "Qed":
            rec["cached"] = True
        if m.group("kind") == "Smoke-test":
            rec["proved"] = m.group("prover") == "Passed"
        rec["status"] = m.group("prover")
    return goals


def is_stale(rec):
    """A goal with no cached answer: no prover result at all in replay."""
    return not rec["cached"] and not rec["proved"] and not rec["provers"]


def tool_version(cmd):
    """First line of a tool's version output, or "missing"."""
    if not have(cmd[0]):
        return "missing"
    out = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True).stdout
    return (out.strip().splitlines() or ["?"])[0]


def inputs_digest(args):
    """SHA-256 of everything the WP verdicts depend on: the kernel sources
    and headers, the shared logic, the WP driver and scripts, the options
    and the tool versions (not the cache, not proofs/expected)."""
    h = hashlib.sha256()
    files = []
    for d, exts in ((args.kernels, (".c", ".h")), (args.spec, (".acsl",))):
        files += [os.path.join(d, f) for f in sorted(os.listdir(d))
                  if f.endswith(exts)]
    for f in ("softlin.driver", "softlin_explog.mlw"):
        files.append(os.path.join(args.session, f))
    sdir = os.path.join(args.session, "script")
    if os.path.isdir(sdir):
        files += [os.path.join(sdir, f) for f in sorted(os.listdir(sdir))]
    for f in files:
        h.update(os.path.basename(f).encode() + b"\0")
        with open(f, "rb") as fh:
            h.update(fh.read() + b"\0")
    h.update(" ".join(WP_OPTIONS + [str(args.timeout)]).encode())
    for cmd in (["frama-c", "-version"], ["why3", "--version"],
                ["z3", "-version"], ["cvc4", "--version"]):
        h.update(tool_version(cmd).encode() + b"\0")
    return h.hexdigest()


def record_path(args):
    return os.path.join(args.session, "status.json")


def read_record(args, digest):
    """The goals recorded by the last full run, if its digest is digest."""
    try:
        with open(record_path(args)) as f:
            rec = json.load(f)
    except (OSError, ValueError):
        return None
    if rec.get("digest") != digest:
        return None
    goals = rec.get("goals", {})
    for g in goals.values():
        g["cached"] = True
    return goals


def write_record(args, digest, goals):
    keep = ("owner", "property", "proved", "smoke", "provers", "status")
    rec = {"digest": digest,
           "note": "written by tools/proofs.py full; read by replay",
           "goals": {k: {f: g[f] for f in keep if f in g}
                     for k, g in sorted(goals.items())}}
    write_atomic(record_path(args), json.dumps(rec, indent=1,
                                               sort_keys=True) + "\n")


# --------------------------------------------------------------------------
# Eva
# --------------------------------------------------------------------------

EVA_ALARMS = re.compile(r"(\d+) alarms? generated by the analysis")
EVA_INVALID = re.compile(r"^\s+(Assertions|Preconditions)\s+\d+ valid\s+"
                         r"(\d+) unknown\s+(\d+) invalid", re.M)


def run_eva(args, workdir):
    results = []
    drivers = sorted(f for f in os.listdir(args.eva) if f.endswith(".c"))
    kernels = sorted(os.path.join(args.kernels, f)
                     for f in os.listdir(args.kernels) if f.endswith(".c"))
    for drv in drivers:
        name = drv[:-2]
        cmd = ["frama-c",
               "-cpp-extra-args=-I%s -I%s" % (args.spec, args.src),
               os.path.join(args.eva, drv)] + kernels + [
            "-aggressive-merging", "-main", "eva_main",
            "-eva", "-eva-precision", "3", "-eva-no-show-progress",
            "-eva-warn-key", "builtins:missing-spec=abort"]
        start = time.time()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        text = proc.stdout
        with open(os.path.join(workdir, "eva-%s.log" % name), "w") as f:
            f.write(" ".join(cmd) + "\n\n" + text)
        m = EVA_ALARMS.search(text)
        alarms = int(m.group(1)) if m else None
        if re.search(r"No alarms? (raised|generated)", text):
            alarms = 0
        # A property found invalid stops Eva on that path: what follows it
        # was not analysed, so an invalid status fails the driver.
        invalid = sum(int(g[2]) for g in EVA_INVALID.findall(text))
        unknown = {g[0].lower(): int(g[1]) for g in EVA_INVALID.findall(text)}
        ok = proc.returncode == 0 and alarms is not None
        results.append({"driver": drv, "alarms": alarms, "ran": ok,
                        "invalid": invalid,
                        "unknown_preconditions": unknown.get(
                            "preconditions", 0),
                        "seconds": round(time.time() - start, 1)})
        log("Eva %s: %s alarm(s)" % (drv, alarms if ok else "?"))
    return results


# --------------------------------------------------------------------------
# Reports and gate
# --------------------------------------------------------------------------

def summarise(goals):
    table = {}
    for rec in goals.values():
        if rec["smoke"]:
            continue
        row = table.setdefault(rec["owner"], {"proved": 0, "total": 0})
        row["total"] += 1
        row["proved"] += rec["proved"]
    return dict(sorted(table.items()))


def gate(goals, eva, expected, args):
    """Return (failures, notes)."""
    exp_goals, exp_unproved, exp_alarms = expected
    fails, notes = [], []
    real = {k: r for k, r in goals.items() if not r["smoke"]}
    smoke = {k: r for k, r in goals.items() if r["smoke"]}
    for key, rec in sorted(real.items()):
        name = "%s/%s" % (rec["owner"], key)
        if not rec["proved"] and name not in exp_unproved:
            fails.append("unproved goal not in proofs/expected: " + name)
    for key, rec in sorted(smoke.items()):
        if not rec["proved"]:
            fails.append("smoke test failed (contradictory contract?): " +
                         key)
    names = {"%s/%s" % (r["owner"], k): r for k, r in real.items()}
    for name in sorted(exp_unproved):
        if args.functions:
            break
        if name not in names:
            notes.append("proofs/expected lists a goal that no longer "
                         "exists: " + name)
        elif names[name]["proved"]:
            notes.append("proofs/expected lists a goal now proved "
                         "(remove it): " + name)
    if args.functions:
        pass
    elif exp_goals is not None and len(real) < exp_goals:
        fails.append("goal count fell from %d to %d: an annotation or a "
                     "contract was lost" % (exp_goals, len(real)))
    elif exp_goals is not None and len(real) > exp_goals:
        notes.append("goal count rose from %d to %d: update 'goals:' in "
                     "proofs/expected" % (exp_goals, len(real)))
    for run in eva:
        if not run["ran"]:
            fails.append("Eva driver did not run: " + run["driver"])
        if run.get("invalid"):
            fails.append("Eva found %d invalid propert%s in %s (analysis "
                         "stopped there)" % (run["invalid"], "y" if
                                             run["invalid"] == 1 else "ies",
                                             run["driver"]))
    total_alarms = sum(r["alarms"] or 0 for r in eva)
    if total_alarms > exp_alarms:
        fails.append("Eva raised %d alarm(s), proofs/expected allows %d" %
                     (total_alarms, exp_alarms))
    return fails, notes


def markdown(report):
    out = ["# Formal proofs of the kernels", "",
           "Generated by `tools/proofs.py %s` on %s; see proofs/README.md."
           % (report["mode"], report["date"]), "",
           "Goals from: %s." % (
               "the record of the last full run (`proofs/wp/status.json`; "
               "inputs unchanged, digest `%s`)" % report["digest"][:16]
               if report["source"] == "record" else
               "this run of WP (%s)" % ("provers and cache"
                                        if report["mode"] == "full" else
                                        "cache replay")), "",
           "WP, real model: **%d / %d** goals proved (%d expected "
           "exceptions), %d / %d smoke tests passed; %s seconds."
           % (report["wp"]["proved"], report["wp"]["total"],
              len(report["wp"]["expected_unproved"]),
              report["wp"]["smoke_passed"], report["wp"]["smoke_total"],
              report["wp"]["seconds"]), ""]
    if report["wp"]["stale"]:
        out += ["Stale cache entries (goals changed since the last "
                "`make proofs`): %d." % len(report["wp"]["stale"]), ""]
    out += ["| function or lemma block | proved | total |",
            "| --- | ---: | ---: |"]
    for owner, row in report["wp"]["functions"].items():
        out.append("| `%s` | %d | %d |" % (owner, row["proved"],
                                            row["total"]))
    out += ["", "## Unproved goals", ""]
    if report["wp"]["unproved"]:
        for g in report["wp"]["unproved"]:
            out.append("- `%s`: %s" % (g["goal"], g["reason"] or
                                       "**not in proofs/expected**"))
    else:
        out.append("None.")
    out += ["", "## Eva (IEEE doubles, bounded inputs)", "",
            "| driver | alarms | invalid | unknown preconditions | seconds |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for run in report["eva"]:
        out.append("| `%s` | %s | %s | %s | %s |" % (
            run["driver"], run["alarms"], run.get("invalid"),
            run.get("unknown_preconditions"), run["seconds"]))
    out += ["", "## Gate: %s" % ("PASS" if report["pass"] else "FAIL"), ""]
    out += ["- " + f for f in report["failures"]]
    out += ["- note: " + n for n in report["notes"]]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["full", "replay"])
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("--kernels", help="kernel sources (src/kernels)")
    ap.add_argument("--spec", help="shared ACSL (spec)")
    ap.add_argument("--src", help="include root (src)")
    ap.add_argument("--session", help="WP session (proofs/wp)")
    ap.add_argument("--eva", help="Eva drivers (proofs/eva)")
    ap.add_argument("--expected", help="proofs/expected")
    ap.add_argument("--reports", help="report directory (reports)")
    ap.add_argument("--timeout", type=int, default=WP_TIMEOUT)
    ap.add_argument("--no-eva", action="store_true")
    ap.add_argument("--force", action="store_true",
                    help="replay: run WP over the cache even when the "
                    "inputs match the recorded full run")
    ap.add_argument("--functions",
                    help="only these functions (comma-separated, WP's "
                    "-wp-fct); no goal-count check, no record")
    args = ap.parse_args()
    r = args.root
    args.kernels = args.kernels or os.path.join(r, "src", "kernels")
    args.spec = args.spec or os.path.join(r, "spec")
    args.src = args.src or os.path.join(r, "src")
    args.session = args.session or os.path.join(r, "proofs", "wp")
    args.eva = args.eva or os.path.join(r, "proofs", "eva")
    args.expected = args.expected or os.path.join(r, "proofs", "expected")
    args.reports = args.reports or os.path.join(r, "reports")
    if not have("frama-c"):
        log("frama-c not found: run tools/deps.sh")
        return 2

    expected = read_expected(args.expected)
    workdir = os.path.join(args.reports, "proofs-logs")
    os.makedirs(workdir, exist_ok=True)

    start = time.time()
    provers = have("why3") and have("z3") and have("cvc4")
    digest = inputs_digest(args)
    source = "wp"
    goals = None
    if args.mode == "full":
        # A run restricted to some functions must not drop the cache
        # entries of the others: it only adds to the cache.
        goals, _ = run_wp(args, workdir,
                          "update" if args.functions else "cleanup")
        if not args.functions:
            write_record(args, digest, goals)
    elif not args.force and not args.functions:
        goals = read_record(args, digest)
        if goals is not None:
            source = "record"
            log("inputs unchanged since the last full run (digest %s...): "
                "gate on its recorded goals" % digest[:12])
    if goals is None and args.mode == "replay":
        goals, _ = run_wp(args, workdir, "offline")
        stale = [k for k, rec in goals.items() if is_stale(rec)]
        if stale and provers:
            log("%d stale cache entries: proving them again (the cache is "
                "left as it is)" % len(stale))
            again, _ = run_wp(args, workdir, "replay")
            for k in stale:
                if k in again:
                    again[k]["stale"] = True
            goals = again
        for k in stale:
            if k in goals:
                goals[k]["stale"] = True
    wp_seconds = round(time.time() - start, 1)

    eva = [] if args.no_eva else run_eva(args, workdir)

    fails, notes = gate(goals, eva, expected, args)
    stale = sorted(k for k, rec in goals.items() if rec.get("stale"))
    if stale:
        notes.append("%d goal(s) changed since the last `make proofs` (stale "
                     "cache entries): %s" % (len(stale), ", ".join(stale)))
    real = [rec for rec in goals.values() if not rec["smoke"]]
    smoke = [rec for rec in goals.values() if rec["smoke"]]
    exp_unproved = expected[1]
    report = {
        "mode": args.mode,
        "source": source,
        "digest": digest,
        "functions_only": args.functions,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "pass": not fails,
        "failures": fails,
        "notes": notes,
        "wp": {
            "model": "Typed+real",
            "total": len(real),
            "proved": sum(rec["proved"] for rec in real),
            "expected_goals": expected[0],
            "smoke_total": len(smoke),
            "smoke_passed": sum(rec["proved"] for rec in smoke),
            "seconds": wp_seconds,
            "stale": stale,
            "functions": summarise(goals),
            "unproved": [
                {"goal": "%s/%s" % (rec["owner"], rec["property"]),
                 "reason": exp_unproved.get("%s/%s" % (rec["owner"],
                                                       rec["property"]))}
                for rec in sorted(real, key=lambda g: (g["owner"],
                                                       g["property"]))
                if not rec["proved"]],
            "expected_unproved": exp_unproved,
        },
        "eva": eva,
    }
    write_atomic(os.path.join(args.reports, "proofs.json"),
                 json.dumps(report, indent=2) + "\n")
    write_atomic(os.path.join(args.reports, "proofs.md"), markdown(report))
    log("WP: %d / %d goals proved, %d / %d smoke tests passed (%.0f s)" %
        (report["wp"]["proved"], report["wp"]["total"],
         report["wp"]["smoke_passed"], report["wp"]["smoke_total"],
         wp_seconds))
    for n in notes:
        log("note: " + n)
    for f in fails:
        log("FAIL: " + f)
    if stale and not provers and args.mode == "replay":
        log("stale cache and no prover installed: run `make proofs`")
        return 3
    log("gate: %s (reports/proofs.md)" % ("PASS" if not fails else "FAIL"))
    return 0 if not fails else 1


if __name__ == "__main__":
    sys.exit(main())
