"""The long fuzz run: cases in worker processes, so that a crash or a hang is caught.

    python -m tests.fuzz.run --calls 1000000 --workers 2 --timeout 10 [--seed S] [--minutes M]

The parent hands each worker batches (a hypothesis seed, a count of cases and an op, the
ops in turn); the worker generates the batch's cases with strategies.py under that seed, announces each case (its
source) before running it on the three host backends and reports the oracle's findings
after. A worker that dies, or takes longer than --timeout on one case, is replaced; the
case in flight is recorded with a standalone reproducer (after the run, a timed-out case is
run again alone, twice: with minutes for Numba to compile, then within the timeout; it is
a hang only if one of these runs does not finish either, else it is counted as slow). Every
finding kind gets its reproducers (the first few of each distinct message) under --out. At the end
(or on Ctrl-C) the parent prints the figures: calls, cases, crashes, hangs, wrong
results, unclear errors and the other findings, per op.
"""

import argparse
import collections
import json
import os
import re
import resource
import selectors
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

KINDS = ("crash", "hang", "wrong", "unclear", "disagree", "refused", "accepted", "order", "slow")
CALLS_PER_CASE = 3  # the fast C++ path, the C++ general path, Numba
CONFIRM_S = 300  # a timed-out case's first run alone: Numba may compile for minutes on a busy machine
MAX_CONFIRM = 20  # timed-out cases run again at the end (the others are counted as slow)
ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- worker
def worker(warm=True):
    """Reads batch lines from stdin, writes protocol lines to the real stdout."""
    import faulthandler
    import warnings

    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to the log, not into the protocol
    faulthandler.enable()
    lim = 8 << 30  # a runaway allocation fails as MemoryError instead of swamping the machine
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    warnings.simplefilter("ignore")
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    from . import oracle
    from .strategies import cases

    if warm:
        _warm_up(oracle, cases)
    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        job = json.loads(line)
        if "one" in job:  # a single case, run again alone
            from .case import Case

            oracle.check(Case.from_json(job["one"]))
            proto.write(json.dumps({"done": 0, "findings": []}) + "\n")
            continue
        index = iter(range(job["count"]))

        @settings(
            max_examples=job["count"],
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hseed(job["seed"])
        @given(c=cases(job.get("op")))
        def batch(c):
            i = next(index, -1)
            proto.write(json.dumps({"start": i, "case": c.to_json()}) + "\n")
            try:
                found = oracle.check(c)
            except Exception as e:  # noqa: BLE001 (an oracle bug is a finding to look at)
                found = [("oracle", f"{type(e).__name__}: {e}"[:300], None)]
            proto.write(json.dumps({"done": i, "findings": found}) + "\n")

        batch()
        proto.write(json.dumps({"batch_done": job["seed"]}) + "\n")


def _warm_up(oracle, cases, count=150):
    """Runs a fixed set of cases first (not reported), so that Numba has compiled most of
    what the cases call before any case is timed."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hseed(2**31)
    @given(c=cases())
    def warm(c):
        try:
            oracle.check(c)
        except Exception:  # noqa: BLE001 (the run itself reports such cases)
            pass

    warm()


# ---------------------------------------------------------------- parent
class Worker:
    def __init__(self, wid, logdir, warm=True):
        self.wid = wid
        self.log = open(logdir / f"worker{wid}.log", "ab")
        env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1", PYTHONFAULTHANDLER="1")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
        self.p = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.run", "--worker"] + ([] if warm else ["--no-warm-up"]),
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            start_new_session=True,
        )
        self.buf = b""
        self.ready = False
        self.case, self.case_t = None, 0.0  # the case in flight (json) and when it started
        self.seed, self.index = None, None  # its batch's seed and its index there
        self.busy = False

    def send(self, job):
        self.p.stdin.write((json.dumps(job) + "\n").encode())
        self.p.stdin.flush()
        self.busy, self.seed = True, job.get("seed")

    def lines(self):
        data = os.read(self.p.stdout.fileno(), 1 << 16)
        if not data:
            return None
        self.buf += data
        *done, self.buf = self.buf.split(b"\n")
        return [json.loads(x) for x in done if x]

    def kill(self):
        try:
            os.killpg(self.p.pid, 9)
        except ProcessLookupError:
            pass
        self.p.wait()
        self.log.flush()


class Run:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.counts = collections.Counter()
        self.per_op = collections.defaultdict(collections.Counter)
        self.seen = collections.Counter()  # examples written per distinct finding
        self.log = open(self.out / "findings.jsonl", "a")
        self.next_seed = args.seed
        self.t0 = time.monotonic()
        self.timed_out = []  # cases that outlived --timeout, confirmed after the run
        from .ops import OPS

        self.ops = sorted(OPS)

    def signature(self, op, kind, detail, area):
        return (op, kind, area, re.sub(r"\d+", "#", detail)[:90])

    def record(self, w, kind, detail, area=None):
        from .case import Case, reproducer

        case_json = w.case
        case = Case.from_json(case_json)
        tag = kind if area is None else f"pending:{kind}"
        self.counts[tag] += 1
        self.per_op[case.op][tag] += 1
        sig = self.signature(case.op, kind, detail, area)
        self.seen[sig] += 1
        entry = dict(op=case.op, kind=kind, area=area, detail=detail, seed=w.seed, index=w.index, case=case_json)
        if self.seen[sig] <= 3:
            name = f"repro_{kind}_{case.op}_{sum(self.seen.values())}.py"
            (self.out / name).write_text(reproducer(case, f"{kind}{'' if area is None else f' ({area})'}: {detail}"))
            entry["reproducer"] = name
        if self.seen[sig] <= 20:
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()

    def new_worker(self, wid, warm=True):
        return Worker(wid, self.out, warm)

    def confirm_hang(self, case_json):
        """The case run alone in a fresh worker, twice: first with time to compile what it
        needs (CONFIRM_S), then within --timeout. "hang" if either run does not finish,
        "crash" if the worker dies, else "slow (first run, second run)"."""
        w = self.new_worker("confirm", warm=False)  # the first run has CONFIRM_S to compile
        try:
            deadline = time.monotonic() + 600
            while not w.ready and time.monotonic() < deadline:
                for m in self.read_blocking(w, deadline) or []:
                    w.ready = w.ready or m.get("ready", False)
            times = []
            for limit in (CONFIRM_S, self.args.timeout):
                w.send({"one": case_json})
                t = time.monotonic()
                while True:
                    msgs = self.read_blocking(w, t + limit)
                    if msgs is None:
                        return "crash"
                    if any("done" in m for m in msgs):
                        times.append(time.monotonic() - t)
                        break
                    if time.monotonic() >= t + limit:
                        return "hang"
            return "slow ({:.1f} s, then {:.1f} s)".format(*times)
        finally:
            w.kill()

    def read_blocking(self, w, deadline):
        sel = selectors.DefaultSelector()
        sel.register(w.p.stdout, selectors.EVENT_READ)
        if sel.select(max(0.0, deadline - time.monotonic())):
            return w.lines()
        return []

    def done(self):
        a = self.args
        return self.counts["calls"] >= a.calls or (a.minutes and time.monotonic() - self.t0 > 60 * a.minutes)

    def main(self):
        a = self.args
        workers = {i: self.new_worker(i) for i in range(a.workers)}
        sel = selectors.DefaultSelector()
        for w in workers.values():
            sel.register(w.p.stdout, selectors.EVENT_READ, w)
        last = time.monotonic()
        try:
            while not (self.done() and not any(w.busy for w in workers.values())):
                for key, _ in sel.select(timeout=0.5):
                    w = key.data
                    msgs = w.lines()
                    if msgs is None:  # the worker died
                        sel.unregister(w.p.stdout)
                        w.kill()
                        if w.case is not None:
                            tail = (self.out / f"worker{w.wid}.log").read_bytes()[-1500:].decode(errors="replace")
                            self.record(w, "crash", f"exit {w.p.returncode}: {tail.strip()[-600:]}")
                            self.count_case(w.case)
                        workers[w.wid] = nw = self.new_worker(w.wid)
                        sel.register(nw.p.stdout, selectors.EVENT_READ, nw)
                        continue
                    for m in msgs:
                        self.handle(w, m)
                now = time.monotonic()
                for w in list(workers.values()):
                    if w.ready and not w.busy and not self.done():
                        # one op per batch, in turn (a drawn op favours the first ones)
                        op = self.ops[self.next_seed % len(self.ops)]
                        w.send({"seed": self.next_seed, "count": a.batch, "op": op})
                        self.next_seed += 1
                    if w.case is not None and now - w.case_t > a.timeout:
                        sel.unregister(w.p.stdout)
                        w.kill()
                        self.timed_out.append(types.SimpleNamespace(case=w.case, seed=w.seed, index=w.index))
                        self.count_case(w.case)
                        workers[w.wid] = nw = self.new_worker(w.wid)
                        sel.register(nw.p.stdout, selectors.EVENT_READ, nw)
                if now - last > a.progress:
                    last = now
                    print(self.line(), flush=True)
                    self.report(quiet=True)  # so that a killed run leaves its figures
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        finally:
            for w in workers.values():
                w.kill()
        self.t_loop = time.monotonic()  # the run's time, without the confirmations
        self.confirm_all()
        self.report()

    def confirm_all(self):
        """The timed-out cases run again, after the run (a confirmation takes minutes), the
        first MAX_CONFIRM of them within --confirm-minutes; the others count as slow."""
        a, t_end = self.args, time.monotonic() + 60 * self.args.confirm_minutes
        print(f"running {min(len(self.timed_out), MAX_CONFIRM)} timed-out cases again", flush=True)
        for i, t in enumerate(self.timed_out):
            verdict = None
            if i < MAX_CONFIRM and time.monotonic() < t_end:
                try:
                    verdict = self.confirm_hang(t.case)
                except KeyboardInterrupt:
                    t_end = 0
            if verdict is None:
                self.record(t, "slow", f"no answer after {a.timeout} s (not run again)")
                continue
            kind = verdict if verdict in ("hang", "crash") else "slow"
            self.record(t, kind, f"no answer after {a.timeout} s (alone: {verdict})")

    def count_case(self, case_json):
        self.counts["cases"] += 1
        self.counts["calls"] += CALLS_PER_CASE
        op = case_json["op"]
        self.per_op[op]["cases"] += 1
        self.per_op[op]["calls"] += CALLS_PER_CASE

    def handle(self, w, m):
        if m.get("ready"):
            w.ready = True
        elif "start" in m:
            w.case, w.case_t, w.index = m["case"], time.monotonic(), m["start"]
        elif "done" in m:
            for kind, detail, area in m["findings"]:
                self.record(w, kind, detail, area)
            self.count_case(w.case)
            w.case = None
        elif "batch_done" in m:
            w.busy = False
            self.counts["batches"] += 1

    def line(self):
        dt = time.monotonic() - self.t0
        c = self.counts
        figs = " ".join(f"{k}={c[k]}" for k in KINDS if c[k]) + f" timeouts={len(self.timed_out)}"
        return f"[{dt:7.0f} s] calls={c['calls']} cases={c['cases']} ({c['calls'] / max(dt, 1e-9):.0f} calls/s) {figs}"

    def report(self, quiet=False):
        end = getattr(self, "t_loop", None) or time.monotonic()
        dt, confirming = end - self.t0, time.monotonic() - end
        c = self.counts
        lines = [
            f"seeds {self.args.seed}..{self.next_seed - 1} (batches of {self.args.batch}), {self.args.workers} workers, "
            f"timeout {self.args.timeout} s, {dt:.0f} s (then {confirming:.0f} s running {len(self.timed_out)} "
            "timed-out cases again)",
            f"calls {c['calls']} (cases {c['cases']}, {CALLS_PER_CASE} calls each), {c['calls'] / max(dt, 1e-9):.0f} calls/s",
            "findings: " + ", ".join(f"{k} {c[k]}" for k in KINDS),
            "filed under an area (valid.PENDING: contracts other work is changing; valid.KNOWN: a known cause): "
            + ", ".join(f"{k} {c['pending:' + k]}" for k in KINDS if c["pending:" + k]),
            "",
            f"{'op':<18} {'calls':>8} " + " ".join(f"{k:>8}" for k in KINDS) + "  pending",
        ]
        for op in sorted(self.per_op):
            o = self.per_op[op]
            pend = sum(v for k, v in o.items() if k.startswith("pending:"))
            lines.append(f"{op:<18} {o['calls']:>8} " + " ".join(f"{o[k]:>8}" for k in KINDS) + f"  {pend:>7}")
        lines += ["", "distinct findings (op, kind, area, message pattern): count"]
        for sig, n in self.seen.most_common():
            lines.append(f"  {n:>6}  {sig}")
        text = "\n".join(lines)
        (self.out / "summary.txt").write_text(text + "\n")
        if not quiet:
            print(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1_000_000, help="stop after this many op calls")
    ap.add_argument("--minutes", type=float, default=0, help="or after this long (0: no limit)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds one case may take")
    ap.add_argument("--seed", type=int, default=0, help="first batch's hypothesis seed")
    ap.add_argument("--batch", type=int, default=200, help="cases per batch")
    ap.add_argument("--out", default=str(ROOT / "build" / "fuzz"), help="reproducers, findings.jsonl, summary.txt")
    ap.add_argument("--progress", type=float, default=30.0, help="seconds between progress lines")
    ap.add_argument("--confirm-minutes", type=float, default=10.0, help="time for running timed-out cases again")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-warm-up", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(warm=not args.no_warm_up)
    signal.signal(signal.SIGTERM, _interrupt)  # a killed run still runs its report
    Run(args).main()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
