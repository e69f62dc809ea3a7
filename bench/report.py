#!/usr/bin/env python3
"""Writes bench/RESULTS.md and bench/plots/*.png from the outputs of one bench/run.sh run.

    bench/report.py --dir /tmp/stepline-bench.XXXX --results bench/RESULTS.md --plots bench/plots

Reads machine.json, plan.json (Google Benchmark), decode.json (the same), api_baseline.json, e2e.json, e2e_series.csv,
scale.json (e2e at 100, 300 and 1,000 executions), standby.json (e2e with a standby replica beside the
controller), fanin.txt (bench_fanin) and memory.json (if bench/memory ran) from --dir.

The previous run: before RESULTS.md is rewritten, its figures are read from bench/results.json (written beside
RESULTS.md by every run since it exists) or, for a RESULTS.md older than that file, from RESULTS.md's end-to-end
table; the plots of CPU per step and dispatch latency show them beside this run's.
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


def targets(e2e, plan, memory, decode, fanin=(), scale=(), standby=()):
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
        own = (chains.get("dispatch_controller_ms") or {}).get("0.99")
        create = chains["job_create_ms"]["0.99"]
        out.append((f"Dispatch, the controller's own part, p99 ({chains['scenario']}; beside it: "
                    f"end to end {fmt(p99, 1)} ms, the server's Job create {fmt(create, 1)} ms)",
                    "< 5 ms", fmt(own, 2) + " ms", verdict(own, 5)))
    out += standby_targets(standby) + fanin_targets(fanin) + scale_targets(scale)
    if memory:
        rss = memory.get("vmrss_mb")
        fin, run = memory.get("finished_executions", 0), memory.get("running_executions", 0)
        out.append((f"Controller RSS, {fin:,} finished + {run:,} running executions cached "
                    "(target at 10,000 + 1,000)",
                    "< 100 MB", fmt(rss, 1) + " MB" if rss is not None else "see below",
                    verdict(rss, 100) if rss is not None else "see below"))
    return out


def fanin_rows(d):
    """[{children, largest_status_bytes, limit, largest_object_bytes, peak_rss_mib}] from fanin.txt."""
    path = os.path.join(d, "fanin.txt")
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path):
        if not line.startswith("children="):
            continue
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        out.append({k: float(v) for k, v in fields.items()})
    return out


def standby_targets(standby):
    """What stops the CPU target: a standby replica's CPU per step beside the controller's."""
    out = []
    for r in standby or ():
        if "standby_cpu_ms_per_step" not in r:
            continue
        share = r["standby_cpu_ms_per_step"] / r["cpu_ms_per_step"]
        out.append((f"What stops the CPU target ({r['scenario']}, standby.json): receiving the "
                    "watch events alone, a standby replica's CPU per step (the same informers: "
                    "watch, decode, trim, cache; no reconciles, no writes)", "—",
                    f"{fmt(r['standby_cpu_ms_per_step'], 3)} ms of the controller's "
                    f"{fmt(r['cpu_ms_per_step'], 3)} ms ({100 * share:.0f}%)",
                    "the measured floor of this client stack"))
    return out


def fanin_targets(fanin):
    out = []
    for f in fanin:
        n, size, limit = int(f["children"]), f["largest_status_bytes"], f["limit"]
        out.append((f"Largest execution status at any write, a {n:,}-child fan-out (bench_fanin, "
                    f"the planner and status writer; process peak RSS {fmt(f['peak_rss_mib'], 0)}"
                    " MiB)", "< 256 KiB", f"{size / 1024:.1f} KiB", verdict(size, limit)))
    if fanin:
        out.append(("A fan-in over 64 KiB still available to later steps and users (issue #22; "
                    "docs/api.md, Status size)", "yes",
                    "up to 8 MiB: stored in ConfigMaps of the execution, read by kubectl and by "
                    "later steps as a file (an input artifact's from, joined in the pod; tests: "
                    "FanInSizeTest, FanInInputTest, e2e execution_fanin); past 8 MiB only on "
                    "the children's pods", "**partly**"))
    return out


def scale_targets(scale):
    """1,000 executions at once: RSS and CPU share, and CPU per step flat from 100 up."""
    if not scale:
        return []
    small, big = scale[0], scale[-1]
    growth = big["cpu_ms_per_step"] / small["cpu_ms_per_step"] if small["cpu_ms_per_step"] else None
    return [(f"{big['executions']:,} executions running at once ({big['scenario']}): controller "
             f"peak RSS {fmt(big.get('peak_rss_mb'), 1)} MB, share of the machine "
             f"{fmt(100 * big['controller_machine_share'], 1)}%", "reported",
             "see the table below", "reported"),
            (f"No worse than linear: controller CPU per step at {big['executions']:,} / at "
             f"{small['executions']:,} executions", "<= 1.5x", fmt(growth, 2) + "x",
             verdict(growth, 1.5))]


def scale_table(scale):
    if not scale:
        return ["not run"]
    lines = ["| executions at once | steps | wall | controller CPU per step | controller share of "
             "the machine | controller peak RSS | dispatch p99 |", "|---|---|---|---|---|---|---|"]
    for r in scale:
        lines.append(f"| {r['executions']:,} | {r['steps']} | {fmt(r['seconds'], 0)} s | "
                     f"{fmt(r['cpu_ms_per_step'], 3)} ms | "
                     f"{fmt(100 * r['controller_machine_share'], 1)}% | "
                     f"{fmt(r.get('peak_rss_mb'), 1)} MB | "
                     f"{fmt(r['dispatch_latency_ms']['0.99'], 1)} ms |")
    return lines


def plot_scale(scale, path):
    fig, ax = plt.subplots(figsize=(7, 4))
    xs = [r["executions"] for r in scale]
    ax.plot(xs, [r["cpu_ms_per_step"] for r in scale], marker="o", label="CPU ms per step")
    ax.set_xlabel("executions running at once")
    ax.set_ylabel("controller CPU ms per step")
    ax2 = ax.twinx()
    ax2.plot(xs, [r.get("peak_rss_mb") or 0 for r in scale], marker="s", color="green",
             label="peak RSS MB")
    ax2.set_ylabel("controller peak RSS, MB")
    ax.legend(loc="upper left")
    ax2.legend(loc="upper right")
    ax.set_title("Executions at once: CPU per step and memory")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def previous_figures(results_md, results_json):
    """{scenario: {"cpu_ms_per_step", "dispatch_ms": [p50, p95, p99], "commit"}} of the run that
    RESULTS.md holds before this one overwrites it."""
    if os.path.exists(results_json):
        with open(results_json) as f:
            return json.load(f)
    if not os.path.exists(results_md):
        return {}
    text = open(results_md).read()
    commit = text.split("commit ", 1)[1].split()[0] if "commit " in text else "?"
    head, out = None, {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == "figure" and head is None:
            head = cells[1:]
            continue
        if head is None or len(cells) != len(head) + 1:
            continue
        for name, cell in zip(head, cells[1:]):
            fig = out.setdefault(name, {"commit": commit})
            if cells[0] == "controller CPU per step":
                fig["cpu_ms_per_step"] = float(cell.split()[0])
            elif cells[0] == "dispatch latency p50 / p95 / p99":
                fig["dispatch_ms"] = [float(x) for x in cell.split(" ms")[0].split(" / ")]
    return {k: v for k, v in out.items() if "cpu_ms_per_step" in v}


def this_run_figures(e2e, commit):
    return {r["scenario"]: {"commit": commit, "cpu_ms_per_step": r["cpu_ms_per_step"],
                            "dispatch_ms": [r["dispatch_latency_ms"][q] for q in
                                            ("0.5", "0.95", "0.99")]} for r in e2e}


def plot_against_previous(previous, current, path):
    """Bars: CPU per step and dispatch p50/p95/p99 per scenario, the previous run beside this."""
    names = [n for n in current if n in previous]
    if not names:
        names = list(current)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.38
    for i, (label, figs) in enumerate((("previous run", previous), ("this run", current))):
        xs = [j + (i - 0.5) * width for j in range(len(names))]
        a.bar(xs, [figs.get(n, {}).get("cpu_ms_per_step", 0) for n in names], width,
              label=f"{label} ({next(iter(figs.values()), {}).get('commit', '?')})")
        ys = [figs.get(n, {}).get("dispatch_ms", [0, 0, 0]) for n in names]
        # p99 first, p50 over it (p50 <= p99, so both show)
        b.bar(xs, [y[2] for y in ys], width, alpha=0.5, hatch="//", label=f"{label} p99")
        b.bar(xs, [y[0] for y in ys], width, label=f"{label} p50")
    a.set_xticks(range(len(names)), names)
    a.axhline(0.5, color="red", linestyle="--", label="target 0.5 ms")
    a.set_ylabel("controller CPU ms per step")
    a.legend(fontsize=7)
    b.set_xticks(range(len(names)), names)
    b.set_yscale("log")
    b.set_ylabel("dispatch latency, ms (p99 hatched, p50 solid)")
    b.legend(fontsize=7)
    fig.suptitle("This run against the previous one")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


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
        ("dispatch, the controller's own part p50 / p95 / p99",
         lambda r: "not measured in this run" if not r.get("dispatch_controller_ms") else
         " / ".join(fmt(r["dispatch_controller_ms"][q], 2) for q in ("0.5", "0.95", "0.99")) +
         " ms"),
        ("Job create (the server's answer) p50 / p95 / p99",
         lambda r: " / ".join(fmt(r["job_create_ms"][q], 1) for q in ("0.5", "0.95", "0.99")) +
         " ms"),
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
        return ["bench/memory did not run, or did not finish (no memory.json among the outputs)."]
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
    scale = (load(args.dir, "scale.json") or {}).get("scenarios", [])
    standby = (load(args.dir, "standby.json") or {}).get("scenarios", [])
    fanin = fanin_rows(args.dir)
    os.makedirs(args.plots, exist_ok=True)
    results_json = os.path.join(os.path.dirname(os.path.abspath(args.results)), "results.json")
    previous = previous_figures(args.results, results_json)
    current = this_run_figures(e2e, (machine or {}).get("commit", "?"))
    plot_against_previous(previous, current, os.path.join(args.plots, "against_previous.png"))
    if scale:
        plot_scale(scale, os.path.join(args.plots, "scale.png"))
    series = read_series(os.path.join(args.dir, "e2e_series.csv"))
    plot_latency(e2e, os.path.join(args.plots, "dispatch_latency.png"))
    plot_throughput(series, os.path.join(args.plots, "throughput.png"))
    plot_cpu(series, e2e, os.path.join(args.plots, "cpu_per_step.png"))
    rel = os.path.relpath(args.plots, os.path.dirname(os.path.abspath(args.results)))
    notes_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS-notes.md")
    lines = render(machine, plan, baseline, e2e, memory, decode, rel, fanin, scale, standby)
    if os.path.exists(notes_path):
        lines += ["", open(notes_path).read().rstrip()]
    with open(args.results, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(results_json, "w") as f:
        json.dump(current, f, indent=1)
        f.write("\n")


def render(machine, plan, baseline, e2e, memory, decode, rel, fanin=(), scale=(), standby=()):
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
    lines += [f"| {a} | {b} | {c} | {d} |"
              for a, b, c, d in targets(e2e, plan, memory, decode, fanin, scale, standby)]
    lines += ["", "## End to end (`bench/e2e/e2e.py`)", ""]
    lines += e2e_table(e2e, baseline)
    lines += ["", f"![dispatch latency]({rel}/dispatch_latency.png)",
              f"![throughput]({rel}/throughput.png)", f"![cpu per step]({rel}/cpu_per_step.png)",
              f"![this run against the previous one]({rel}/against_previous.png)",
              "", "## Executions at once (`bench/e2e/e2e.py`, 2-step chains)", ""]
    lines += scale_table(scale)
    if scale:
        lines += ["", f"![executions at once]({rel}/scale.png)"]
    lines += ["", "## One fan-out through its life (`bench_fanin`)", ""]
    lines += ["| children | largest status written | largest object written | process peak RSS |",
              "|---|---|---|---|"] + [
        f"| {int(f['children']):,} | {int(f['largest_status_bytes']):,} B | "
        f"{int(f['largest_object_bytes']):,} B | {fmt(f['peak_rss_mib'], 0)} MiB |"
        for f in fanin] if fanin else ["not run"]
    lines += ["", "## API baseline (`bench_api_baseline`)", ""]
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
