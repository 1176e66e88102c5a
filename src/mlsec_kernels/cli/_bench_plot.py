"""``mlsec-kernels bench --plot``: one PNG of a bench report.

Time over the copy floor is the only measure that compares cases of different sizes and
machines of different bandwidth, so it is the axis: one panel per op family, a group of
horizontal bars per case (one per backend, CPU tier and peer), log scale, 1.0 = a plain
memory copy. The (1, 1000) latency cases move a few KB: their "floor" is a call's overhead, not
memory, so they get a panel of their own in microseconds per call.
"""

from __future__ import annotations

import math

FAMILIES = (
    ("perturbation", ("fgsm", "pgd_step", "project", "random_start")),
    ("rng", ("rng",)),
    ("squeeze", ("bit_depth", "median_filter", "non_local_means")),
    ("transforms", ("gaussian_noise", "pixel_deflection", "random_resize_pad")),
    ("output ops", ("output",)),
)
LATENCY = "latency (1x1000, per call, Python layer included)"
_PEER_COLOURS = ("0.55", "tab:purple", "tab:brown", "tab:olive", "tab:pink", "tab:cyan", "tab:red")
COPY = "memory copy (1.0)"
BAR, GAP = 1.0, 0.9  # bar height and the space between two cases, in bar units


def _panel(r) -> str:
    if r["label"] == "latency":
        return LATENCY
    fam = r["op"].split(".")[0]
    return next((name for name, ops in FAMILIES if fam in ops), "other")


def _case_label(r) -> str:
    kw = r.get("kw", {})
    extra = [
        f"L{kw['norm']}" if "norm" in kw else "",
        f"size {kw['size']}" if "size" in kw else "",
        r["label"] if r["label"] not in ("", "latency") else "",
    ]
    return " ".join([r["op"]] + [e for e in extra if e])


def _colours(whos: list) -> dict:
    """Our backends in strong colours (the C++ tiers as shades of one blue, Numba's as
    shades of orange, highest tier darkest), peers in muted ones."""
    from matplotlib import colormaps

    out = {}
    for side, cmap in (("cpp[", "Blues"), ("numba[", "Oranges")):
        tiers = [w for w in whos if w.startswith(side)]
        out.update({w: colormaps[cmap](0.9 - 0.45 * i / max(1, len(tiers) - 1)) for i, w in enumerate(tiers)})
    out.update({"cpp": "tab:blue", "numba": "tab:orange", "cuda": "tab:green"})
    peers = [w for w in whos if w not in out]
    out.update({w: _PEER_COLOURS[i % len(_PEER_COLOURS)] for i, w in enumerate(peers)})
    return out


def _order(rows) -> list:
    """Who appears, our backends first (tiers highest first, as the report sorts them)."""
    whos = list(dict.fromkeys(_who(r) for r in rows))
    return sorted(whos, key=lambda w: w.endswith("(peer)"))


def _panels(rep) -> dict:
    """Panel -> (case label, shape) -> rows, in the report's order."""
    out: dict = {}
    for r in rep["results"]:
        cases = out.setdefault(_panel(r), {})
        cases.setdefault((_case_label(r), tuple(r["shape"])), []).append(r)
    order = [n for n, _ in FAMILIES] + ["other", LATENCY]
    return {p: out[p] for p in order if p in out}


def _units(cases) -> float:
    return sum(len(rows) * BAR + GAP for rows in cases.values())


def _columns(panels) -> list:
    """Panels in one column, or, past a screen's height, two of about equal height."""
    names, sizes = list(panels), [_units(c) for c in panels.values()]
    if sum(sizes) < 60 or len(names) < 2:
        return [names]
    split = min(range(1, len(names)), key=lambda i: max(sum(sizes[:i]), sum(sizes[i:])))
    return [names[:split], names[split:]]


def _who(r) -> str:
    return r["backend"] + ("" if r["kind"] == "mlsec" else " (peer)")


def _draw(ax, title, cases, whos, colours, latency):
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    y, ticks, labels, values = 0.0, [], [], []
    for (label, _shape), rows in cases.items():
        top = y
        for r in sorted(rows, key=lambda r: whos.index(_who(r))):
            who = _who(r)
            v = r["median_ms"] * 1e3 if latency else r["x_floor"]
            ax.barh(y, v, height=BAR * 0.85, color=colours[who], label=who)
            ax.text(v * 1.04, y, f"{v:.3g}" if v < 1000 else f"{v:.0f}", va="center", ha="left", fontsize=7)
            values.append(v)
            y += BAR
        ticks.append((top + y - BAR) / 2)
        labels.append(label)
        y += GAP
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_ylim(y - GAP + 0.2, -0.8)
    ax.set_xscale("log")
    lo, hi = min(values), max(values)
    if not latency:
        lo, hi = min(lo, 1.0), max(hi, 1.0)
        ax.axvline(1.0, color="k", ls="--", lw=1, label=COPY)
    ax.set_xlim(lo / 1.6, hi * 3.0)
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if hi / lo < 300 else (1.0,)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel("us per call (lower is better)" if latency else "time / copy floor (lower is better)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", which="major", alpha=0.3)


def plot(rep: dict, path: str) -> str | None:
    """Writes the PNG; returns an error message instead where matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "--plot needs matplotlib (pip install matplotlib); the table and --json do not"
    panels = _panels(rep)
    if not panels:
        return "--plot: no results to draw"
    whos = _order(rep["results"])
    colours = _colours(whos)
    cols = _columns(panels)
    # Laid out in inches, so that a bar is as thick in every panel and column.
    rows_of_legend = math.ceil((len(whos) + 1) / 5)
    head, foot, gap, per_unit = 0.75 + 0.22 * rows_of_legend + 0.45, 0.5, 0.85, 0.17
    inches = [[per_unit * _units(panels[n]) for n in col] for col in cols]
    body = max(sum(h) + gap * (len(h) - 1) for h in inches)
    margin, axes_w = 2.0, 5.5  # the left margin holds the case names
    width, height = len(cols) * (margin + axes_w) + 0.3, head + body + foot
    fig = plt.figure(figsize=(width, height))
    grid = fig.add_gridspec(
        1,
        len(cols),
        top=1 - head / height,
        bottom=foot / height,
        left=margin / width,
        right=1 - 0.3 / width,
        wspace=margin / axes_w,
    )
    for i, col in enumerate(cols):
        ratios = [x for h in inches[i] for x in (h, gap)][:-1]
        ratios.append(max(1e-6, body - sum(ratios)))  # the shorter column keeps the same scale
        sub = grid[0, i].subgridspec(len(ratios), 1, height_ratios=ratios, hspace=0)
        for j, name in enumerate(col):
            _draw(fig.add_subplot(sub[2 * j, 0]), name, panels[name], whos, colours, name == LATENCY)
    m = rep["machine"]
    tiers = m.get("cpu_tiers_timed") or [m.get("cpu_capability") or "none"]
    quick = ", --quick" if rep["settings"].get("quick") else ""
    fig.suptitle(
        f"mlsec-kernels bench on {m['cpu_model']} ({m['cpus_usable']} cores{quick})\n"
        f"C++ tiers: {', '.join(tiers)};  bars: time over a plain memory copy of the same bytes",
        fontsize=11,
        y=1 - 0.1 / height,
        va="top",
    )
    handles = {h.get_label(): h for ax in fig.axes for h in ax.containers + ax.lines}
    shown = [w for w in whos + [COPY] if w in handles]
    fig.legend(
        [handles[w] for w in shown],
        shown,
        loc="upper center",
        ncol=math.ceil(len(shown) / rows_of_legend),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 1 - 0.75 / height),
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
