// The kernels' constants that Python needs too, exported by both modules as their
// `constants` dict: the Python layer and the Numba port read them from there
// (src/mlsec_kernels/_constants.py), and keep copies only for installs without the
// extension, which tests/test_constants.py checks against this dict.
#pragma once
#include <pybind11/pybind11.h>

#include "common.hpp"
#include "median_filter.hpp"
#include "output.hpp"
#include "project.hpp"

namespace mlsec {
inline pybind11::dict constants() {
  pybind11::dict c;
  c["MAX_WINDOW_PIXELS"] = kMaxWindowPixels;  // median_filter's largest window, in pixels
  c["PARALLEL_MIN"] = kParallelMin;           // elements below which a host kernel stays on the calling thread
  c["MAX_STEPS"] = kMaxSteps;                 // steps in one output program (a Guard)
  // the norm codes of project, pgd_step and random_start
  c["NORM_INF"] = int(Norm::inf);
  c["NORM_L1"] = int(Norm::l1);
  c["NORM_L2"] = int(Norm::l2);
  // pgd_step's projection codes
  c["PROJECTION_EXACT"] = int(Projection::exact);
  c["PROJECTION_BALL_THEN_CLIP"] = int(Projection::ball_then_clip);
  // output's step kinds and renormalisation modes, as the Python layer encodes steps
  c["REVERSE_SIGMOID"] = int(kReverseSigmoid);
  c["GAUSSIAN_NOISE"] = int(kGaussianNoise);
  c["ROUND"] = int(kRound);
  c["HIGH_CONFIDENCE"] = int(kHighConfidence);
  c["TOP_K"] = int(kTopK);
  c["CLASS_LABELS"] = int(kClassLabels);
  c["RENORM_NEVER"] = int(kRenormNever);
  c["RENORM_ALWAYS"] = int(kRenormAlways);
  c["RENORM_AUTO"] = int(kRenormAuto);
  return c;
}
}  // namespace mlsec
