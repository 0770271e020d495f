#!/usr/bin/python3
"""Plot the closed-loop series (time s, target bps, capacity bps, received bps) that
GCC_SERIES=path dotnet test tests/Engine.Gcc.Tests --filter Rfc8867VariableCapacity_TracksCapacityWithBoundedQueue
writes. Usage: plot_rfc8867_5_1.py series.csv out.png   (needs Debian's python3-matplotlib)"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

rows = [tuple(float(v) for v in r) for r in csv.reader(open(sys.argv[1]))]
t = [r[0] for r in rows]
fig, ax = plt.subplots(figsize=(10, 4))
ax.step(t, [r[2] / 1e3 for r in rows], where="post", label="capacity", color="black", linewidth=1.5)
ax.plot(t, [r[1] / 1e3 for r in rows], label="target (REMB at sender)", color="tab:blue")
ax.plot(t, [r[3] / 1e3 for r in rows], label="received (100 ms)", color="tab:orange", alpha=0.5, linewidth=0.8)
ax.set_xlabel("time (s)")
ax.set_ylabel("kbps")
ax.set_title("RFC 8867 §5.1 variable capacity: receive-side GCC, ideal encoder, 50 ms one-way, 300 ms queue")
ax.legend(loc="upper left")
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=100)
