#!/usr/bin/env python3
"""Markdown rows from `fuzz/run.sh TARGET SECONDS` logs: the RESULT line plus, from the pulse lines,
the edges at half time and when the last new edge or feature appeared (is coverage still growing?).
Usage: fuzz/summarize.py LOG..."""
import re
import sys

print("| target | seconds | runs | exec/s | edges | edges at half time | last new edge at | features | last new feature at | corpus | crashes |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
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
    edges_half = int(half[-1][2]) if half else 0
    last_edge = last_feature = 0.0
    for prev, cur in zip(pulses, pulses[1:]):
        if cur[2] > prev[2]:
            last_edge = cur[0]
        if cur[3] > prev[3]:
            last_feature = cur[0]
    print(f"| {result['target']} | {result['seconds']} | {result['execs']} | {result['exec_per_s']} | {result['edges']} | {edges_half} "
          f"| {last_edge:.0f} s | {result['features']} | {last_feature:.0f} s | {result['corpus']} | {result['crashes']} |")
