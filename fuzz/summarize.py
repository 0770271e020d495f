#!/usr/bin/env python3
"""Markdown rows from `fuzz/run.sh TARGET SECONDS` logs: the RESULT line plus, from the pulse lines,
the edges at half time and when the last new edge or feature appeared (is coverage still growing?).
Usage: fuzz/summarize.py LOG..."""
import re
import sys

print("| target | seconds | runs | exec/s | edges: first pulse / half time / end | last new edge | features: first pulse / end | last new feature | corpus | crashes |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for path in sys.argv[1:]:
    pulses, result = [], None
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r"pulse t=([\d.]+)s exec/s: (\d+) edges: (\d+) features: (\d+)", line)
            if m:
                pulses.append(tuple(float(x) for x in m.groups()))
            if line.startswith("RESULT"):
                result = dict(kv.split("=", 1) for kv in line.split()[1:])
    if result is None:
        print(f"| {path} | | | | | | | | | | no RESULT (crashed?) |")
        continue
    secs = float(result["seconds"])
    half = [p for p in pulses if p[0] <= secs / 2]
    edges_first = int(pulses[0][2]) if pulses else 0
    features_first = int(pulses[0][3]) if pulses else 0
    edges_half = int(half[-1][2]) if half else 0
    last_edge = last_feature = None
    for prev, cur in zip(pulses, pulses[1:]):
        if cur[2] > prev[2]:
            last_edge = cur[0]
        if cur[3] > prev[3]:
            last_feature = cur[0]
    when = lambda t: "none after start" if t is None else f"{t:.0f} s"
    print(f"| {result['target']} | {result['seconds']} | {result['execs']} | {result['exec_per_s']} "
          f"| {edges_first} / {edges_half} / {result['edges']} | {when(last_edge)} "
          f"| {features_first} / {result['features']} | {when(last_feature)} | {result['corpus']} | {result['crashes']} |")
