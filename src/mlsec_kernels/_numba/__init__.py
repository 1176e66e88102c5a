"""Numba ports of the C++ kernels: the host backend where the extension is absent.

Each module mirrors cpp/<op>.hpp (same per-element arithmetic, in the input dtype, no
fast-math) and exposes a function with the C++ binding's arguments. Compiled code is
cached (``cache=True``); a serial and a parallel build of each loop keep small calls off
the thread pool, like the C++ drivers. No cached kernel takes a compiled function as an
argument (philox.converter says why): the kind of draw comes in as an int code, so a
second process loads every kernel from the cache (tests/test_numba_cache.py).
"""
