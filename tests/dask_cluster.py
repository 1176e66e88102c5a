"""What the Dask tests share: a real distributed.LocalCluster (2 worker processes, one
thread each, loopback only) for each test module, and small data. Imports no Dask itself, so
that the test modules can skip (with the reason) where the extra is not installed."""

import numpy as np

REASON = "mlsec_kernels.dask needs the dask extra (dask[array,distributed])"


def cluster_client():
    """A module's client: ``client = pytest.fixture(scope="module")(cluster_client)``."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def data(shape, seed=0, dtype=np.float32):
    r = np.random.default_rng(seed)
    if np.dtype(dtype) == np.uint8:
        return r.integers(0, 256, shape).astype(np.uint8)
    return r.random(shape, dtype=dtype)


def lazy(a, chunks):
    import dask.array as da

    return da.from_array(a, chunks=chunks)
