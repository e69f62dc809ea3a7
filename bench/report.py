#!/usr/bin/env python3
"""Writes bench/RESULTS.md and bench/plots/*.png from the outputs of one bench/run.sh run.

    bench/report.py --dir /tmp/stepline-bench.XXXX --results bench/RESULTS.md --plots bench/plots

Reads machine.json, plan.json (Google Benchmark), decode.json (the same), api_baseline.json, e2e.json, e2e_series.csv
and memory.json (if bench/memory ran) from --dir.
"""
import argparse
import csv
import json
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(d, name):
    path = os.path.join(d, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def fmt(v, digits=2):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.{digits}f}"


def verdict(value, limit):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not measured"
    return "**met**" if value < limit or math.isclose(value, limit) else "**missed**"


def plan_rows(plan):
    rows = []
    for b in (plan or {}).get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "BigO":
            continue
        unit = b.get("time_unit", "ns")
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1, "s": 1000}.get(unit, 1)
        if "real_time" in b:
            rows.append((b["name"], b["real_time"] * scale, b["cpu_time"] * scale))
    return rows


def replan_fanout_ms(rows):
    """(wall ms, CPU ms) of re-planning the 10,000-child fan-out."""
    for name, real, cpu in rows:
        if "FanOutReplan" in name and name.endswith("/10000"):
            return real, cpu
    return None, None


def decode_per_step_ms(decode):
    """{benchmark: (CPU ms per step, events per step)} from bench_decode's medians."""
    out = {}
    for b in (decode or {}).get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if "per_step" in b:
            out[b.get("run_name", b["name"])] = (b["per_step"] * 1000, b.get("events_per_step"))
    return out


def targets(e2e, plan, memory, decode):
    chains = next((r for r in e2e if r["scenario"].startswith("chains")), None)
    floor = decode_per_step_ms(decode).get("Floor/simdjson", (None, None))[0]
    out = []
    if plan:
        wall, cpu = replan_fanout_ms(plan_rows(plan))
        out.append(("Re-plan a 10,000-child fan-out (bench_plan, CPU time; wall in brackets)",
                    "< 5 ms", f"{fmt(cpu, 3)} ms ({fmt(wall, 3)} ms)", verdict(cpu, 5)))
    for r in e2e:
        s = r["scenario"]
        out.append((f"Controller writes per step attempt ({s})", "<= 2",
                    fmt(r["writes_per_attempt"]), verdict(r["writes_per_attempt"], 2)))
        out.append((f"Reconciles per step ({s})", "<= 2", fmt(r["reconciles_per_step"]),
                    verdict(r["reconciles_per_step"], 2)))
        out.append((f"Controller CPU per step ({s})", "< 0.5 ms", fmt(r["cpu_ms_per_step"], 3) +
                    " ms", verdict(r["cpu_ms_per_step"], 0.5)))
        ratio = r["cpu_ms_per_step"] / floor if floor else None
        out.append((f"Controller CPU per step / decode floor ({s}; floor {fmt(floor, 4)} ms, "
                    "bench_decode)", "<= 2x", fmt(ratio, 1) + "x", verdict(ratio, 2)))
        share = 100 * r["controller_machine_share"]
        out.append((f"Controller share of the machine ({s})", "< 10%", fmt(share, 1) + "%",
                    verdict(share, 10)))
    if chains:
        p99 = chains["dispatch_latency_ms"]["0.99"]
        out.append((f"Dispatch latency p99 ({chains['scenario']}, "
                    f"{chains['executions']} executions running)", "< 20 ms",
                    fmt(p99, 1) + " ms", verdict(p99, 20)))
    if memory:
        rss = memory.get("vmrss_mb")
        fin, run = memory.get("finished_executions", 0), memory.get("running_executions", 0)
        out.append((f"Controller RSS, {fin:,} finished + {run:,} running executions cached "
                    "(target at 10,000 + 1,000)",
                    "< 100 MB", fmt(rss, 1) + " MB" if rss is not None else "see below",
                    verdict(rss, 100) if rss is not None else "see below"))
    return out


def e2e_table(e2e, baseline):
    head = ["figure"] + [r["scenario"] for r in e2e]
    rows = [
        ("steps", lambda r: f"{r['steps']} ({r['executions']} executions)"),
        ("finished / failed executions",
         lambda r: f"{r['finished_executions']} / {r['failed_executions']}"),
        ("wall time", lambda r: fmt(r["seconds"], 1) + " s"),
        ("steps per second", lambda r: fmt(r["steps_per_second"], 1)),
        ("API reads per step attempt", lambda r: fmt(r["reads_per_attempt"])),
        ("API writes per step attempt", lambda r: fmt(r["writes_per_attempt"])),
        ("writes by verb and resource, per attempt",
         lambda r: ", ".join(f"{k} {v:.2f}" for k, v in r["writes_by_verb_resource"].items())),
        ("API server writes per step attempt, all clients",
         lambda r: "not measured in this run" if "server_writes_per_attempt" not in r else
         fmt(r["server_writes_per_attempt"]) + " (" + ", ".join(
             f"{k} {v:.2f}" for k, v in r["server_writes_by_resource"].items()) + ")"),
        ("reconciles per execution", lambda r: fmt(r["reconciles_per_execution"], 1)),
        ("reconciles per step", lambda r: fmt(r["reconciles_per_step"])),
        ("controller CPU per step", lambda r: fmt(r["cpu_ms_per_step"], 3) + " ms"),
        ("controller share of the machine",
         lambda r: fmt(100 * r["controller_machine_share"], 1) + "%"),
        ("whole machine busy (all processes)", lambda r: fmt(100 * r["machine_busy_share"], 0) +
         "%"),
        ("others' share (test server, etcd, agent)",
         lambda r: ", ".join(f"{k} {100 * v:.0f}%" for k, v in r["others_machine_share"].items())),
        ("dispatch latency p50 / p95 / p99",
         lambda r: " / ".join(fmt(r["dispatch_latency_ms"][q], 1) for q in ("0.5", "0.95", "0.99"))
         + f" ms ({r['dispatch_latency_count']:.0f} dispatches)"),
        ("controller peak RSS (VmHWM)", lambda r: fmt(r["peak_rss_mb"], 1) + " MB"),
    ]
    if baseline:
        rate = baseline["dispatches_per_second"]
        rows.append(("steps/s vs api_baseline dispatches/s",
                     lambda r: f"{r['steps_per_second'] / rate:.2f} "
                               f"({fmt(r['steps_per_second'], 1)} / {fmt(rate, 0)})"))
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, f in rows:
        lines.append("| " + " | ".join([label] + [f(r) for r in e2e]) + " |")
    return lines


def plot_latency(e2e, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in e2e:
        b = r["dispatch_latency_buckets"]
        bounds = [x for x, _ in b if x != "+Inf"]
        counts = [c for _, c in b]
        per = [counts[0]] + [counts[i] - counts[i - 1] for i in range(1, len(bounds))]
        total = counts[-1] or 1
        ax.step([1000 * x for x in bounds], [100 * p / total for p in per], where="pre",
                label=r["scenario"])
    ax.set_xscale("log")
    ax.axvline(20, color="red", linestyle="--", label="target p99 20 ms")
    ax.set_xlabel("dispatch latency, ms (bucket upper bound)")
    ax.set_ylabel("% of dispatches in the bucket")
    ax.legend()
    ax.set_title("Dispatch latency: Job seen finished -> dependent's create returned")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def read_series(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for row in csv.DictReader(f):
            out.setdefault(row["scenario"], []).append({k: float(v) for k, v in row.items()
                                                        if k != "scenario"})
    return out


def plot_throughput(series, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, rows in series.items():
        for (a, b) in zip(rows, rows[1:]):
            b["rate"] = (b["steps_finished"] - a["steps_finished"]) / max(1e-6, b["t"] - a["t"])
        pts = [(r["t"], r["rate"]) for r in rows if "rate" in r]
        ax.plot([t for t, _ in pts], [v for _, v in pts], label=f"{name}: steps finished/s")
    ax.set_xlabel("seconds since the executions were created")
    ax.set_ylabel("steps finished per second")
    ax.legend()
    ax.set_title("Throughput over time")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_cpu(series, e2e, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, rows in series.items():
        c0 = rows[0]["controller_cpu_s"]
        pts = [(r["t"], 1000 * (r["controller_cpu_s"] - c0) / r["jobs_created"])
               for r in rows if r["jobs_created"] > 0]
        ax.plot([t for t, _ in pts], [v for _, v in pts], label=f"{name} (cumulative)")
    ax.axhline(0.5, color="red", linestyle="--", label="target 0.5 ms")
    ax.set_xlabel("seconds since the executions were created")
    ax.set_ylabel("controller CPU ms per Job created")
    ax.legend()
    ax.set_title("Controller CPU per step")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def memory_lines(memory):
    if not memory:
        return ["bench/memory did not run in this tree (bench/memory/run.sh absent)."]
    return ["```json", json.dumps(memory, indent=1), "```"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--plots", required=True)
    args = p.parse_args()
    machine = load(args.dir, "machine.json")
    plan = load(args.dir, "plan.json")
    baseline = load(args.dir, "api_baseline.json")
    e2e = (load(args.dir, "e2e.json") or {}).get("scenarios", [])
    memory = load(args.dir, "memory.json")
    decode = load(args.dir, "decode.json")
    os.makedirs(args.plots, exist_ok=True)
    series = read_series(os.path.join(args.dir, "e2e_series.csv"))
    plot_latency(e2e, os.path.join(args.plots, "dispatch_latency.png"))
    plot_throughput(series, os.path.join(args.plots, "throughput.png"))
    plot_cpu(series, e2e, os.path.join(args.plots, "cpu_per_step.png"))
    rel = os.path.relpath(args.plots, os.path.dirname(os.path.abspath(args.results)))
    notes_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS-notes.md")
    lines = render(machine, plan, baseline, e2e, memory, decode, rel)
    if os.path.exists(notes_path):
        lines += ["", open(notes_path).read().rstrip()]
    with open(args.results, "w") as f:
        f.write("\n".join(lines) + "\n")


def render(machine, plan, baseline, e2e, memory, decode, rel):
    m = machine or {}
    lines = [
        "# Stepline benchmark results",
        "",
        "Written by `bench/run.sh` (do not edit by hand: the analysis lives in "
        "`bench/RESULTS-notes.md`, appended below). All figures are from one run.",
        "",
        "## Machine",
        "",
        f"- CPU: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; RAM {m.get('ram_gb', '?')} GB",
        f"- Load average at start (1/5/15 min): {' / '.join(m.get('load_at_start', []))}"
        " (the machine is shared: figures move with the load)",
        f"- Kernel {m.get('kernel', '?')}; commit {m.get('commit', '?')}",
        "",
        "## Targets",
        "",
        "| target | limit | this run | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(e2e, plan, memory, decode)]
    lines += ["", "## End to end (`bench/e2e/e2e.py`)", ""]
    lines += e2e_table(e2e, baseline)
    lines += ["", f"![dispatch latency]({rel}/dispatch_latency.png)",
              f"![throughput]({rel}/throughput.png)", f"![cpu per step]({rel}/cpu_per_step.png)",
              "", "## API baseline (`bench_api_baseline`)", ""]
    if baseline:
        lines.append(
            f"{baseline['steps']} step dispatches (a Job create and an execution /status PUT "
            f"each) with {baseline['workers']} in flight, the project's client, no client-side "
            f"rate limit: **{baseline['dispatches_per_second']:.0f} dispatches/s** "
            f"({baseline['writes_per_second']:.0f} writes/s), {baseline['failures']} failures.")
    else:
        lines.append("not run")
    lines += ["", "## Planner (`bench_plan`)", "", "| benchmark | real ms | CPU ms |", "|---|---|---|"]
    lines += [f"| {n} | {r:.4f} | {c:.4f} |" for n, r, c in plan_rows(plan)]
    lines += ["", "## Decoding one step's watch events (`bench_decode`)", ""]
    rows = decode_per_step_ms(decode)
    if rows:
        lines += ["The watch events the controller received while 10-step chain executions ran "
                  "(recorded by `bench/decode/record.py`), decoded once per iteration; CPU time "
                  "per step, median of the repetitions.", "",
                  "| decoder | CPU ms per step | watch events per step |", "|---|---|---|"]
        lines += [f"| {n} | {fmt(ms, 4)} | {fmt(ev, 1)} |" for n, (ms, ev) in rows.items()]
    else:
        lines.append("not run")
    lines += ["", "## Memory (`bench/memory`)", ""] + memory_lines(memory)
    return lines


if __name__ == "__main__":
    main()
