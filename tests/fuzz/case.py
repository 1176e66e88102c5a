"""A fuzz case: an op and its arguments as source lines, so that it can be built afresh
for every backend, sent to a worker process as text, and written out as a reproducer."""

import inspect
from dataclasses import dataclass

from . import build
from .ops import OPS


@dataclass(frozen=True)
class Case:
    op: str
    lines: tuple  # ((name, source), ...) evaluated in order; "_"-names are helpers (buffers)
    pos: tuple  # names passed positionally, in order
    kw: tuple  # names passed by keyword

    def values(self):
        """The arguments, built afresh: {name: object}."""
        ns = build.namespace()
        for name, src in self.lines:
            ns[name] = eval(src, ns)  # noqa: S307 (our own generated source)
        return {name: ns[name] for name, _ in self.lines if not name.startswith("_")}

    def call(self, backend, values=None):
        v = self.values() if values is None else values
        args = [v[n] for n in self.pos]
        kwargs = {n: v[n] for n in self.kw}
        return OPS[self.op].fn()(*args, **kwargs, backend=backend)

    def call_source(self, backend="'cpp'"):
        """The call as source; backend is source too ("'cpp'", or a variable's name)."""
        args = [*self.pos, *(f"{n}={n}" for n in self.kw), f"backend={backend}"]
        return f"{OPS[self.op].call}({', '.join(args)})"

    def text(self):
        """The case as lines of source (for logs and reports)."""
        return "\n".join(f"{n} = {s}" for n, s in self.lines) + "\n" + self.call_source()

    def to_json(self):
        return dict(op=self.op, lines=[list(x) for x in self.lines], pos=list(self.pos), kw=list(self.kw))

    @classmethod
    def from_json(cls, d):
        return cls(d["op"], tuple(tuple(x) for x in d["lines"]), tuple(d["pos"]), tuple(d["kw"]))


def reproducer(case, note=""):
    """A standalone script: this package's array helpers, the case's lines, the call on
    each host backend (each in a fresh copy of the arguments)."""
    helpers = inspect.getsource(build)
    body = [f'"""Fuzz reproducer: {case.op}. {note}"""', helpers, ""]
    body.append("for backend in ('auto', 'cpp', 'numba'):")
    for n, s in case.lines:
        body.append(f"    {n} = {s}")
    body.append("    print(backend, flush=True)")
    body.append(f"    print(repr({case.call_source('backend')}))")
    return "\n".join(body) + "\n"
