"""The demo's printed report and figure, from the numbers of :func:`mlsec_kernels.demo.run`."""

from __future__ import annotations


def _pct(v):
    return "n/a" if v is None else f"{100 * v:5.1f}%"


def _row(label, d):
    return f"  {label:<22}" + "  ".join(f"eps={k:<5} {_pct(v)}" for k, v in d.items())


def _skipped(rep, name):
    s = rep.get(name, {})
    return s.get("reason") if s.get("available") is False else None


def _smoothing(r):
    return [
        f"  sigma={r['sigma']}, n0={r['n0']}, n={r['n']}, alpha={r['alpha']}, {r['n_images']} test images, "
        f"abstained on {_pct(r['abstain_rate'])}",
        "  certified accuracy: " + "  ".join(f"r={k}: {_pct(v)}" for k, v in r["certified_accuracy"].items()),
    ]


def _extraction(e):
    out = [
        f"  attacker: {e['method']}, {e['seed_images']} seed images, {e['budget']} queries per API",
        f"  copy's agreement with the model: plain probabilities {_pct(e['plain']['agreement'])}, "
        f"behind {e['guard']['steps']} {_pct(e['guard']['agreement'])}",
    ]
    w = e["watermark"]
    if "copy_match" in w:
        out.append(
            f"  watermark (rate {w['rate']}, {w['marked_queries']} marked queries): copy matches "
            f"{_pct(w['copy_match'])} (p={w['copy_p_value']:.2g}); an independent model "
            f"{_pct(w['independent_match'])} (p={w['independent_p_value']:.2g})"
        )
    else:
        out.append(f"  watermark (rate {w['rate']}): no query was marked, nothing to verify")
    for who in ("attacker", "normal"):
        st = e["monitor"][who]
        wv = "no test yet" if st["w"] is None else f"W={st['w']:.3f}"
        out.append(
            f"  extraction monitor, {who:<8} client: {'SUSPICIOUS' if st['suspicious'] else 'normal'} "
            f"({st['queries']} queries, {wv})"
        )
    return out


def _adaptive(r):
    out = [
        f"  {r['model']}: clean {_pct(r['clean_accuracy'])}, undefended under {r['attack']} "
        f"{_pct(r['undefended_pgd'])}; {r['n_images']} test images, EOT over {r['eot_draws']} draws",
        f"  {'defence':<24}{'gradient':<11}{'clean':>7}{'plain PGD':>11}{'BPDA/EOT':>10}{'adaptive':>10}",
    ]
    for name, d in r["defences"].items():
        out.append(
            f"  {name:<24}{d['gradient']:<11}{_pct(d['clean']):>7}{_pct(d['plain']):>11}"
            f"{_pct(d['bpda_eot']):>10}{_pct(d['adaptive']):>10}"
        )
    out += [
        "  (plain: PGD on the undefended model, classified through the defence; BPDA/EOT: PGD on the",
        "  defended model, BPDA for non-differentiable steps, EOT for randomised ones; adaptive: an",
        "  image counts only if it survives both)",
    ]
    return out


def text(rep) -> str:
    out = [
        f"mlsec-kernels demo: {rep['model']} on {rep['dataset']} "
        f"(train {rep['sizes']['train']}, attacker pool {rep['sizes']['pool']}, test {rep['sizes']['test']})"
        + ("  [--quick]" if rep["quick"] else "")
    ]
    a = rep["attacks"]
    out += [
        "",
        "1. Attacks (robust accuracy on the test set; pixels in [0, 1])",
        f"  {'clean':<22}{_pct(a['clean_accuracy'])}",
        _row("FGSM (inf)", a["fgsm"]),
        _row("PGD (inf)", a["pgd_inf"]),
        _row("PGD (L2)", a["pgd_l2"]),
    ]
    s = a["square"]
    mq = "n/a" if s["median_queries_successful"] is None else f"{s['median_queries_successful']:.0f}"
    out.append(
        f"  Square Attack (black-box, inf, eps={s['eps']}): success {_pct(s['success_rate'])} on "
        f"{s['n_images']} correctly classified images, median queries {mq} (budget {s['budget']})"
    )
    q = rep["squeeze"]
    out += [
        "",
        f"2. Feature squeezing: detection of {q['n_adversarial']} successful PGD-inf examples "
        f"(eps={q['pgd_eps']}), threshold for {q['target_fpr']:.0%} false positives on training images",
    ]
    for name, d in q["detectors"].items():
        out.append(
            f"  {name:<32} detects {_pct(d['detection_rate'])}   false positives on test images {_pct(d['fpr_test'])}"
        )
    for title, name, lines in (
        ("3. Randomized smoothing", "smoothing", _smoothing),
        ("4. Model extraction", "extraction", _extraction),
        ("5. Adaptive evaluation (Athalye, Carlini & Wagner 2018)", "adaptive", _adaptive),
    ):
        why = _skipped(rep, name)
        out += ["", title] + ([f"  not run: {why}"] if why else lines(rep[name]))
    rt = rep["runtime"]
    out += [
        "",
        "6. Runtime",
        "  backends: " + ", ".join(f"{k} ({v.split(' (')[0]})" for k, v in rt["backends"].items()),
        "  seconds: "
        + ", ".join(f"{k} {v:.2f}" for k, v in rt["seconds"].items())
        + f"; total {rt['total_seconds']:.2f}",
    ]
    return "\n".join(out)


def plot(rep, path) -> str | None:
    """Writes the figure; returns an error message instead when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "--plot needs matplotlib (pip install matplotlib); the report and --json do not"
    a = rep["attacks"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    for key, label in (("fgsm", "FGSM (inf)"), ("pgd_inf", "PGD (inf)")):
        xs = [0.0] + [float(k) for k in a[key]]
        ax.plot(xs, [a["clean_accuracy"]] + list(a[key].values()), "o-", label=label)
    ax.set_xlabel("eps (inf)")
    ax.set_ylabel("robust accuracy")
    ax2 = ax.twiny()
    ax2.plot(
        [0.0] + [float(k) for k in a["pgd_l2"]],
        [a["clean_accuracy"]] + list(a["pgd_l2"].values()),
        "s--",
        color="tab:green",
        label="PGD (L2)",
    )
    ax2.set_xlabel("eps (L2)", color="tab:green")
    ax.legend(handles=ax.get_lines() + ax2.get_lines(), loc="lower left")
    ax.set_ylim(0, 1)
    ax = axes[1]
    if _skipped(rep, "smoothing"):
        ax.text(0.5, 0.5, "randomized smoothing not in this installation", ha="center", va="center")
    else:
        c = rep["smoothing"]["certified_accuracy"]
        ax.plot([float(k) for k in c], list(c.values()), "o-")
        ax.set_xlabel("L2 radius")
        ax.set_ylabel("certified accuracy")
        ax.set_ylim(0, 1)
        ax.set_title(f"randomized smoothing, sigma={rep['smoothing']['sigma']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None
