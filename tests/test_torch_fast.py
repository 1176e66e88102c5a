"""The fast path for CPU torch tensors (_backend._fast_torch): NumPy views of the tensors
go straight to the C++ binding. Its results must be the NumPy API's bits on the same data,
in a new tensor or in ``out``, and whatever it cannot view must still reach the general
path (with its checks and messages)."""

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import _backend

torch = pytest.importorskip("torch", reason="PyTorch not installed (optional: mlsec-kernels[torch])")
needs_cpp = pytest.mark.skipif(not _backend.FAST, reason="the C++ extension is not built: there is no fast path")


def _data(dtype, shape=(3, 50)):
    g = np.random.default_rng(1)
    return g.random(shape).astype(dtype), g.standard_normal(shape).astype(dtype)


@needs_cpp
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensor_fast_path_equals_numpy(dtype):
    x, gr = _data(dtype)
    want = mk.fgsm(x, gr, 0.1)
    xt, gt = torch.from_numpy(x.copy()), torch.from_numpy(gr.copy())
    got = _backend.fast("auto", xt, "fgsm", gt, 0.1, False, 0.0, 1.0)
    assert got is not _backend.GENERAL and type(got) is torch.Tensor  # the fast path ran
    np.testing.assert_array_equal(got.numpy(), want)
    assert not got.requires_grad and got.dtype == xt.dtype
    np.testing.assert_array_equal(mk.fgsm(xt.requires_grad_(True), gt, 0.1).numpy(), want)
    out = torch.zeros_like(gt)
    assert mk.fgsm(xt, gt, 0.1, out=out) is out
    np.testing.assert_array_equal(out.numpy(), want)
    x2 = torch.from_numpy(x.copy())
    assert mk.fgsm(x2, gt, 0.1, out=x2) is x2  # in place: out aliases x exactly
    np.testing.assert_array_equal(x2.numpy(), want)


@needs_cpp
def test_what_the_fast_path_cannot_view_takes_the_general_path():
    x, gr = _data(np.float32, (4, 6))
    want = mk.fgsm(x, gr, 0.1)
    xt, gt = torch.from_numpy(x), torch.from_numpy(gr)
    nc = torch.from_numpy(np.ascontiguousarray(x.T)).T  # the same values, not contiguous
    for args in ((nc, gt), (xt, gt.T.contiguous().T), (xt, gt.to(torch.bfloat16))):
        assert _backend.fast("auto", args[0], "fgsm", args[1], 0.1, False, 0.0, 1.0) is _backend.GENERAL
    np.testing.assert_array_equal(mk.fgsm(nc, gt, 0.1).numpy(), want)
    with pytest.raises(TypeError, match="grad must have the dtype of x"):  # checked by the binding
        mk.fgsm(xt, gt.double(), 0.1)
    out = torch.zeros_like(gt).requires_grad_(True)
    assert _backend.fast("auto", xt, "fgsm", gt, 0.1, False, 0.0, 1.0, out=out) is _backend.GENERAL
    with pytest.raises(ValueError, match="eps must be"):
        mk.fgsm(xt, gt, -1.0)
