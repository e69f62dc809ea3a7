"""Prometheus text format (0.0.4) for the e2e bench: parse, sum, diff, histogram quantiles."""
import math
import re

_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{(name, ((label, value), ...)): float}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        labels = tuple(sorted(_LABEL.findall(m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def diff(after, before):
    return {k: v - before.get(k, 0.0) for k, v in after.items()}


def total(samples, name, **want):
    """Sum of the samples of name whose labels include want (values may be sets)."""
    s = 0.0
    for (n, labels), v in samples.items():
        if n != name:
            continue
        d = dict(labels)
        if all(d.get(k) in (w if isinstance(w, (set, tuple, list)) else (w,))
               for k, w in want.items()):
            s += v
    return s


def by_label(samples, name, label, **want):
    """{label value: sum} for the samples of name."""
    out = {}
    for (n, labels), v in samples.items():
        d = dict(labels)
        if n == name and all(d.get(k) == w for k, w in want.items()):
            out[d.get(label, "")] = out.get(d.get(label, ""), 0.0) + v
    return out


def buckets(samples, name, **want):
    """[(upper bound, cumulative count)] of histogram name, increasing, +Inf last."""
    acc = {}
    for (n, labels), v in samples.items():
        d = dict(labels)
        if n != name + "_bucket" or any(d.get(k) != w for k, w in want.items()):
            continue
        le = float("inf") if d["le"] == "+Inf" else float(d["le"])
        acc[le] = acc.get(le, 0.0) + v
    return sorted(acc.items())


def quantile(q, cumulative):
    """histogram_quantile: linear within the bucket that holds the q-th observation."""
    if not cumulative or cumulative[-1][1] <= 0:
        return math.nan
    rank = q * cumulative[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite bound: report that bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound
