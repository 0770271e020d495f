#!/usr/bin/python3
"""Plot the send-side scenario series that
dotnet run -c Release --project bench/Engine.Gcc.Bench -- --scenarios DIR
writes (DIR/gcc-send-*.csv): rate and target against capacity, queuing delay against time.
Usage: plot_send_side.py DIR OUTDIR   (needs Debian's python3-matplotlib)"""
import csv
import glob
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLORS = ["tab:blue", "tab:green", "tab:purple"]

for path in sorted(glob.glob(os.path.join(sys.argv[1], "gcc-send-*.csv"))):
    with open(path) as f:
        title = f.readline().lstrip("# ").strip()
        rows = list(csv.DictReader(f))
    flows = list(dict.fromkeys(r["flow"] for r in rows))
    fig, (rate, delay) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for i, name in enumerate(flows):
        fr = [r for r in rows if r["flow"] == name]
        t = [float(r["seconds"]) for r in fr]
        c = COLORS[i % len(COLORS)]
        label = "" if len(flows) == 1 else f" {name}"
        caps = [r["capacity_bps"] for r in fr]
        if i == 0 or caps != [r["capacity_bps"] for r in rows if r["flow"] == flows[0]]:
            rate.step(t, [float(v) / 1e3 for v in caps], where="post", color="black" if i == 0 else "grey",
                      linewidth=1.5, label=f"capacity{label}")
        rate.plot(t, [float(r["target_bps"]) / 1e3 for r in fr], color=c, label=f"target{label}")
        rate.plot(t, [float(r["received_bps"]) / 1e3 for r in fr], color=c, alpha=0.4, linewidth=0.8, label=f"received (100 ms){label}")
        delay.plot(t, [float(r["max_queue_ms"]) for r in fr], color=c, linewidth=0.8, label=f"max per 100 ms{label}")
    delay.axhline(60, color="red", linestyle="--", linewidth=0.8, label="60 ms goal")
    rate.set_ylabel("kbps")
    rate.set_title(f"send-side GCC, {title}", fontsize=10)
    rate.legend(loc="upper right", fontsize=7)
    rate.grid(alpha=0.3)
    delay.set_ylabel("queuing delay (ms)")
    delay.set_xlabel("time (s)")
    delay.legend(loc="upper right", fontsize=7)
    delay.grid(alpha=0.3)
    fig.tight_layout()
    name = os.path.basename(path)[: -len(".csv")]
    fig.savefig(os.path.join(sys.argv[2], f"{name}.png"), dpi=90)
    plt.close(fig)
