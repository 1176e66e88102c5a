"""The PyTorch integration (mlsec_kernels.torch): the custom ops against the NumPy API
(itself checked against the float64 references), their schemas and fake implementations
(torch.library.opcheck), torch.compile(fullgraph=True) against eager bit for bit, exact
gradients by gradcheck, BPDA, seeding, and the attacks on an nn.Module against the same
attacks through explicit callables."""

import copy

import numpy as np
import pytest

import mlsec_kernels as mk

from .helpers import run_without_torch
from .test_layers import PUBLIC

try:
    import torch
except ImportError:  # the integration is optional; only the ImportError test runs then
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional: mlsec-kernels[torch])")
if torch is not None:
    import mlsec_kernels.torch as mt
    from mlsec_kernels.torch import _grads
    from mlsec_kernels.torch import _ops as O

INF = float("inf")


def test_import_error_without_torch():
    """Without torch, mlsec_kernels imports and mlsec_kernels.torch says what is missing."""
    r = run_without_torch(
        "import mlsec_kernels\ntry:\n    import mlsec_kernels.torch\nexcept ImportError as e:\n    print('ERR', e)\n"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ERR mlsec_kernels.torch needs PyTorch"), r.stdout


def _cases():
    """(name, op args, the NumPy API call it must equal); one batch of images and scores."""
    g = np.random.default_rng(0)
    x = g.random((2, 3, 9, 8), dtype=np.float32)
    gr = g.standard_normal(x.shape).astype(np.float32)
    p = g.random((4, 6)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    seed, sub = 2**64 - 5, 7
    G = lambda: mk.Generator(seed, substream=sub)  # noqa: E731
    cpu = torch.device("cpu")
    return [
        ("fgsm", (x, gr, 0.1, False, 0.0, 1.0), lambda: mk.fgsm(x, gr, 0.1)),
        ("fgsm", (x, gr, 0.1, True, -INF, INF), lambda: mk.fgsm(x, gr, 0.1, targeted=True, clip=None)),
        ("project", (gr, 0.5, "2"), lambda: mk.project(gr, 0.5, norm=2)),
        (
            "pgd_step",
            (x, x, gr, 0.1, 0.2, "1", False, 0.0, 1.0, 0.9),
            lambda: mk.pgd_step(x, x, gr, 0.1, 0.2, norm=1, l1_sparsity=0.9),
        ),
        ("random_start", (x, 0.1, "2", O.key(seed, sub), 0.0, 1.0), lambda: mk.random_start(x, 0.1, norm=2, seed=G())),
        (
            "uniform",
            ([3, 5], O.key(seed, sub), 2, torch.float64, cpu),
            lambda: mk.rng.uniform((3, 5), seed=seed, substream=sub, offset=2, dtype=np.float64),
        ),
        ("normal", ([7], O.key(seed, sub), 0, torch.float32, cpu), lambda: mk.rng.normal(7, seed=seed, substream=sub)),
        (
            "random_raw",
            ([2, 3], O.key(seed, sub), 1, cpu),
            lambda: mk.rng.random_raw((2, 3), seed=seed, substream=sub, offset=1),
        ),
        ("bit_depth", (x, 3, 0.0, 1.0), lambda: mk.bit_depth(x, 3)),
        ("median_filter", (x, 3, 2, "NCHW", "mirror"), lambda: mk.median_filter(x, (3, 2), mode="mirror")),
        ("non_local_means", (x, 0.3, 3, 5, "NCHW"), lambda: mk.non_local_means(x, h=0.3, search_size=5)),
        (
            "gaussian_noise",
            (x, 0.2, O.key(seed, sub), 0.0, 1.0),
            lambda: mk.gaussian_noise(x, 0.2, seed=G(), clip=(0, 1)),
        ),
        ("uniform_noise", (x, 0.2, O.key(seed, sub), -INF, INF), lambda: mk.uniform_noise(x, 0.2, seed=G())),
        (
            "random_resize_pad",
            (x, 13, 0, O.key(seed, sub), "bilinear", True, "NCHW"),
            lambda: mk.random_resize_pad(x, 13, seed=G(), interpolation="bilinear"),
        ),
        (
            "random_resize_pad",
            (x.transpose(0, 2, 3, 1).copy(), 11, 4, O.key(seed, sub), "nearest", False, "NHWC"),
            lambda: mk.random_resize_pad(
                x.transpose(0, 2, 3, 1).copy(), 11, min_size=4, seed=G(), per_sample=False, layout="NHWC"
            ),
        ),
        ("pixel_deflection", (x, 5, 2, O.key(seed, sub), "NCHW"), lambda: mk.pixel_deflection(x, 5, 2, seed=G())),
        ("reverse_sigmoid", (p, 0.8, 0.3), lambda: mk.output.reverse_sigmoid(p, beta=0.8, gamma=0.3)),
        (
            "output_gaussian_noise",
            (p, 0.05, O.key(seed, sub), "true"),
            lambda: mk.output.gaussian_noise(p, scale=0.05, seed=G(), renormalize=True),
        ),
        ("round", (p, 2), lambda: mk.output.round(p, decimals=2)),
        ("high_confidence", (p, 0.2), lambda: mk.output.high_confidence(p, cutoff=0.2)),
        ("top_k", (p, 2, True), lambda: mk.output.top_k(p, 2, one_hot=True)),
        ("class_labels", (p,), lambda: mk.output.class_labels(p)),
    ]


def _t(a):
    return torch.from_numpy(a) if isinstance(a, np.ndarray) else a


CASES = _cases() if torch is not None else []
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


@needs_torch
def test_every_public_op_is_registered():
    names = {n.split(".")[-1] for ops in PUBLIC.values() for n in ops} - {"gaussian_noise"}
    names |= {"gaussian_noise", "output_gaussian_noise"}  # two gaussian_noise ops: input and output
    assert names == set(mt.OPS), "a public op has no mlsec:: custom op, or the reverse"
    assert names == {c[0] for c in CASES}, "a custom op has no test case here"


@needs_torch
@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_op_equals_api(i):
    name, args, api = CASES[i]
    got = mt.OPS[name](*map(_t, args))
    want = api()
    assert isinstance(got, torch.Tensor) and got.dtype == torch.from_numpy(np.asarray(want)).dtype
    assert np.array_equal(got.numpy(), want, equal_nan=True)


@needs_torch
@pytest.mark.parametrize("i", range(len(CASES)), ids=IDS)
def test_opcheck(i):
    """Schema, fake implementation (shapes, dtypes, strides), autograd registration and AOT dispatch."""
    name, args, _ = CASES[i]
    args = tuple(map(_t, args))
    tests = ["test_schema", "test_faketensor", "test_autograd_registration"]
    torch.library.opcheck(mt.OPS[name], args, test_utils=tests)


@needs_torch
def test_compile_fullgraph_equals_eager():
    """Every op in one function, compiled with fullgraph=True: the same bits as eager."""
    cases = [(name, tuple(map(_t, args))) for name, args, _ in CASES]

    def f():
        return [mt.OPS[name](*args) for name, args in cases]

    eager, compiled = f(), torch.compile(f, fullgraph=True)()
    for (name, _), a, b in zip(cases, eager, compiled):
        assert (
            a.dtype == b.dtype
            and a.shape == b.shape
            and torch.equal(
                a.view(torch.int32) if a.dtype == torch.uint32 else a,
                b.view(torch.int32) if b.dtype == torch.uint32 else b,
            )
        ), name


def _defended(seed):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        mt.GaussianNoise(0.05, clip=(0, 1), seed=seed),
        mt.RandomResizePad(12, interpolation="bilinear", seed=seed + 1),
        mt.MedianFilter(3),
        mt.BitDepth(5),
        torch.nn.Conv2d(3, 4, 3),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 10 * 10, 5),
    )


@needs_torch
def test_compiled_model_equals_eager_call_by_call():
    """A defended model under torch.compile(fullgraph=True): each call takes the next
    substream inside the graph, and calls 1, 2, 3 give eager's calls 1, 2, 3 bit for bit."""
    x = torch.rand(3, 3, 9, 9)
    eager, comp = _defended(11), _defended(11)
    c = torch.compile(comp, fullgraph=True)
    outs = [eager(x) for _ in range(3)]
    for i in range(3):
        assert torch.equal(c(x), outs[i]), i
    assert comp[0].position == eager[0].position == 3
    assert not torch.equal(outs[0], outs[1])  # fresh noise per call


@needs_torch
def test_modules_seeded_like_a_generator():
    """Call i of a module seeded s uses substream i of s, as mk.Generator(s) numbers them."""
    x = torch.rand(2, 3, 8, 8)
    gen, m = mk.Generator(99), mt.UniformNoise(0.1, seed=99)
    pd, gp = mt.PixelDeflection(10, 2, seed=mk.Generator(5, substream=3)), mk.Generator(5, substream=3)
    for _ in range(3):
        assert torch.equal(m(x), mk.uniform_noise(x, 0.1, seed=gen))
        assert torch.equal(pd(x), mk.pixel_deflection(x, 10, 2, seed=gp))
    assert m.seed == 99 and m.position == 3 and pd.position == 6
    m2 = mt.UniformNoise(0.1)
    m2.load_state_dict(m.state_dict())  # the stream position travels with the state_dict
    assert torch.equal(m2(x), mk.uniform_noise(x, 0.1, seed=gen))


@needs_torch
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("mode", ["reflect", "mirror"])
@pytest.mark.parametrize("hw", [(3, 3), (2, 4), (5, 1)])
def test_median_gradcheck(layout, mode, hw):
    torch.manual_seed(1)
    x = torch.rand((2, 2, 6, 7) if layout == "NCHW" else (2, 6, 7, 2), dtype=torch.float64, requires_grad=True)
    out = O.median_filter(x, *hw, layout, mode)
    _, picked = _grads.median_backward_values(x.detach(), torch.ones_like(x), *hw, layout, mode)
    assert torch.equal(picked, out.detach())  # the gradient goes to the element the kernel output
    assert torch.autograd.gradcheck(lambda t: O.median_filter(t, *hw, layout, mode), (x,))


@needs_torch
def test_median_gradient_on_ties():
    """A constant image: every window is one tied value; each output's gradient goes to the
    element at rank h*w // 2 of the window read row by row, i.e. its centre for odd sizes."""
    x = torch.full((1, 1, 5, 5), 0.5, dtype=torch.float64, requires_grad=True)
    g = torch.rand(1, 1, 5, 5, dtype=torch.float64)
    O.median_filter(x, 3, 3, "NCHW", "reflect").backward(g)
    assert torch.equal(x.grad, g)


@needs_torch
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("per_sample", [True, False])
def test_resize_pad_gradcheck(interpolation, layout, per_sample):
    torch.manual_seed(2)
    x = torch.rand((3, 2, 5, 6) if layout == "NCHW" else (3, 5, 6, 2), dtype=torch.float64, requires_grad=True)
    k = O.key(7, 2)
    assert torch.autograd.gradcheck(lambda t: O.random_resize_pad(t, 11, 3, k, interpolation, per_sample, layout), (x,))


@needs_torch
@pytest.mark.parametrize("op", ["gaussian_noise", "uniform_noise"])
@pytest.mark.parametrize("clip", [(-INF, INF), (0.3, 0.7)])
def test_noise_gradcheck(op, clip):
    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: mt.OPS[op](t, 0.2, O.key(3), *clip), (x,))


@needs_torch
def test_module_exact_grad_gradcheck():
    """Through the modules (fresh draws each call, so a fixed substream for the check)."""
    x = torch.rand(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    m = mt.RandomResizePad(9, interpolation="bilinear", seed=4)

    def f(t):
        m.key[1] = 0
        return m(t)

    assert torch.autograd.gradcheck(f, (x,))


@needs_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda: mt.MedianFilter(3, grad="bpda"),
        lambda: mt.BitDepth(3),
        lambda: mt.NonLocalMeans(0.2, search_size=5),
        lambda: mt.GaussianNoise(0.1, clip=(0, 1), grad="bpda", seed=1),
        lambda: mt.PixelDeflection(20, 2, seed=1),
    ],
    ids=["median", "bit_depth", "nlm", "noise", "deflection"],
)
def test_bpda_passes_the_gradient_unchanged(make):
    x = torch.rand(2, 3, 8, 8, requires_grad=True)
    g = torch.randn(2, 3, 8, 8)
    y = make()(x)
    y.backward(g)
    assert torch.equal(x.grad, g)
    assert not torch.equal(y.detach(), x.detach())  # the defence did act


@needs_torch
def test_output_guard_is_the_guard():
    steps = [
        mk.output.ReverseSigmoid(0.7, 0.2),
        mk.output.GaussianNoise(0.02, seed=8),
        mk.output.Round(3),
        mk.output.TopK(3),
    ]
    g = mk.output.Guard(steps)
    g.steps[1]._encode()  # the Guard has taken a substream: the module continues from there
    og, twin = mt.OutputGuard(g), copy.deepcopy(g)
    p = torch.softmax(torch.randn(5, 7), 1).requires_grad_(True)
    for _ in range(3):
        assert torch.equal(og(p), twin(p.detach()))
    gr = torch.randn(5, 7)
    og(p).backward(gr)
    assert torch.equal(p.grad, gr)
    c = torch.compile(mt.OutputGuard(copy.deepcopy(g)), fullgraph=True)
    assert torch.equal(c(p.detach()), copy.deepcopy(g)(p.detach()))


@needs_torch
def test_module_argument_errors():
    with pytest.raises(ValueError, match="BitDepth has no exact gradient"):
        mt.BitDepth(3, grad="exact")
    with pytest.raises(ValueError, match="grad must be 'bpda' or 'exact'"):
        mt.MedianFilter(3, grad="straight")
    with pytest.raises(ValueError, match="RandomResizePad changes the shape"):
        mt.RandomResizePad(10, grad="bpda")
    with pytest.raises(ValueError, match="key must be an int64 tensor of shape"):
        O.gaussian_noise(torch.rand(2, 2), 0.1, torch.zeros(3, dtype=torch.int64), -INF, INF)
    with pytest.raises(TypeError, match="guard must be"):
        mt.OutputGuard([mk.output.Round(2)])
    with pytest.raises(ValueError, match="DLR loss needs at least 3 classes"):
        mt.dlr(torch.zeros(2, 2), torch.zeros(2, dtype=torch.long))


# attacks on nn.Module
def _net(k=5):
    torch.manual_seed(3)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, k)
    )


@needs_torch
def test_losses_against_numpy():
    """CE, margin and DLR per sample against a brute-force NumPy evaluation."""
    rng = np.random.default_rng(4)
    z, y = rng.standard_normal((6, 5)), rng.integers(0, 5, 6)
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)
    ce = -(z[np.arange(6), y] - np.log(np.exp(z).sum(1)))
    other = np.array([max(z[r, j] for j in range(5) if j != y[r]) for r in range(6)])
    srt = -np.sort(-z, 1)
    np.testing.assert_allclose(mt.ce(zt, yt).numpy(), ce, rtol=1e-12)
    np.testing.assert_allclose(mt.margin(zt, yt).numpy(), other - z[np.arange(6), y], rtol=1e-12)
    dlr = -(z[np.arange(6), y] - other) / (srt[:, 0] - srt[:, 2] + 1e-12)
    np.testing.assert_allclose(mt.dlr(zt, yt).numpy(), dlr, rtol=1e-12)


def _explicit(net, loss):
    """The loss_grad a user would write by hand."""

    def lg(x, y):
        x = x.detach().requires_grad_(True)
        z = net(x)
        lv = mt.LOSSES[loss](z, y.long())
        (g,) = torch.autograd.grad(lv.sum(), x)
        return lv.detach(), g, z.detach()

    return lg


@needs_torch
@pytest.mark.parametrize("loss", ["ce", "margin", "dlr"])
def test_white_box_attacks_on_a_module(loss):
    net = _net()
    x, y = torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 3])
    a = mk.attacks.pgd(mt.loss_grad(net, loss), x, y, 0.05, n_steps=4, restarts=2, seed=5)
    b = mk.attacks.pgd(_explicit(net, loss), x, y, 0.05, n_steps=4, restarts=2, seed=5)
    assert torch.equal(a.x_adv, b.x_adv) and np.array_equal(a.success, b.success)
    assert np.array_equal(a.queries, b.queries)
    if loss == "ce":  # the module itself in place of loss_grad: cross-entropy
        c = mk.attacks.pgd(net, x, y, 0.05, n_steps=4, restarts=2, seed=5)
        assert torch.equal(c.x_adv, a.x_adv)
        f1, f2 = mk.attacks.fgsm(net, x, y, 0.05), mk.attacks.fgsm(_explicit(net, "ce"), x, y, 0.05)
        assert torch.equal(f1.x_adv, f2.x_adv)


@needs_torch
def test_module_needs_a_tensor():
    with pytest.raises(TypeError, match="x must be a torch tensor"):
        mk.attacks.fgsm(_net(), np.zeros((1, 3, 8, 8), np.float32), [0], 0.1)


@needs_torch
def test_black_box_attacks_on_a_module():
    net = _net()
    x, y = torch.rand(3, 3, 8, 8), torch.tensor([0, 1, 2])

    def pr(v):
        with torch.no_grad():
            return net(v)

    for attack, kw in ((mk.attacks.square_attack, {"n_queries": 20}), (mk.attacks.simba, {"max_queries": 30})):
        a, b = attack(net, x, y, 0.05, seed=2, **kw), attack(pr, x, y, 0.05, seed=2, **kw)
        assert torch.equal(a.x_adv, b.x_adv) and np.array_equal(a.queries, b.queries)


@needs_torch
def test_eot_averages_fresh_draws():
    """EOT(n): the mean of n gradients, each with the next substream of the noise module."""
    x, y = torch.rand(2, 3, 8, 8), torch.tensor([1, 4])
    defended = torch.nn.Sequential(mt.GaussianNoise(0.1, seed=6), _net())
    twin = copy.deepcopy(defended)
    loss, grad, z = mt.loss_grad(mt.eot(defended, 3), "margin")(x, y)
    parts = [_explicit(twin, "margin")(x, y) for _ in range(3)]
    assert torch.equal(grad, (parts[0][1] + parts[1][1] + parts[2][1]) / 3)
    assert torch.equal(loss, (parts[0][0] + parts[1][0] + parts[2][0]) / 3)
    assert defended[0].position == 3
    r = mk.attacks.pgd(mk.attacks.eot(defended, 2), x, y, 0.03, n_steps=2, seed=1)  # the module form: CE
    # the batch is evaluated together: one call per query of the most-queried sample, 2 draws each
    assert r.x_adv.shape == x.shape and defended[0].position - 3 == 2 * int(r.queries.max())


@needs_torch
@pytest.mark.cuda
def test_cuda_ops_equal_cpu():
    """CUDA tensors: every op on the current stream gives the CPU op's bits."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device for torch")
    if "cuda" not in mk.backends():
        pytest.skip("the CUDA extension is not built")
    for name, args, _ in CASES:
        cpu = tuple(map(_t, args))
        dev = tuple(a.cuda() if isinstance(a, torch.Tensor) and a.dtype != torch.int64 else a for a in cpu)
        dev = tuple(torch.device("cuda") if isinstance(a, torch.device) else a for a in dev)
        s = torch.cuda.Stream()
        with torch.cuda.stream(s):
            got = mt.OPS[name](*dev)
        s.synchronize()
        want = mt.OPS[name](*cpu)
        assert got.is_cuda and torch.equal(
            got.cpu().view(torch.int32) if got.dtype == torch.uint32 else got.cpu(),
            want.view(torch.int32) if want.dtype == torch.uint32 else want,
        ), name


@needs_torch
@pytest.mark.cuda
def test_cuda_modules_compile_and_grads():
    """The defence stack on CUDA tensors: compiled calls equal eager calls, the CPU stack's
    bits, and the exact gradients the CPU ones."""
    if not torch.cuda.is_available() or "cuda" not in mk.backends():
        pytest.skip("no CUDA device for torch, or the CUDA extension is not built")

    def stack():
        return torch.nn.Sequential(
            mt.GaussianNoise(0.05, clip=(0, 1), seed=3),
            mt.RandomResizePad(12, interpolation="bilinear", seed=4),
            mt.MedianFilter(3),
        )

    x = torch.rand(3, 3, 9, 9)
    cpu, eager, comp = stack(), stack().cuda(), stack().cuda()
    c = torch.compile(comp, fullgraph=True)
    for _ in range(2):
        want = cpu(x)
        assert torch.equal(eager(x.cuda()).cpu(), want) and torch.equal(c(x.cuda()).cpu(), want)
    xc, xg = x.clone().requires_grad_(True), x.cuda().requires_grad_(True)
    g = torch.rand(3, 3, 12, 12)
    cpu(xc).backward(g)
    eager(xg).backward(g.cuda())
    torch.testing.assert_close(xg.grad.cpu(), xc.grad)
