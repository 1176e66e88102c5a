"""Feature squeezing (Xu et al.): bit_depth 5, median_filter 2/3/5 on (64, 3, 224, 224)
float32 with --bench-full, against the copy floor, the NumPy/PyTorch/Numba expressions,
SciPy's median_filter (what ART's SpatialSmoothing runs), OpenCV's medianBlur per plane and
ART where installed; non_local_means 13-3, h=2 on (64, 3, 32, 32) uint8 against OpenCV's
fastNlMeansDenoising per plane. The cases are those of ``mlsec-kernels bench``.

SciPy's median takes seconds per full batch: ``-k "not scipy"`` leaves it out. On a busy
shared machine, ``--benchmark-timer time.process_time`` times this process's CPU seconds
(all threads) instead of wall-clock, which other processes disturb less.
"""

CLI_OPS = ("bit_depth", "median_filter", "non_local_means")


def test_case(cli_call, measure):
    measure(*cli_call)
