"""The demo's adaptive-evaluation section (needs PyTorch): how much of an input defence's
apparent robustness survives an attacker who attacks the defended model.

A torch MLP of the demo's shape (64-32-10) is trained on the same digits. Each defence is
put in front of it and attacked at the same eps two ways (Athalye, Carlini & Wagner,
"Obfuscated gradients give a false sense of security", ICML 2018):

- plain: PGD on the undefended model's gradient, the examples then classified through the
  defence (what a defence paper reports when it evaluates against a fixed attack);
- adaptive: PGD on the defended model's gradient, with BPDA (the identity on the way back)
  for the non-differentiable steps and EOT (the gradient averaged over ``n`` draws) for the
  randomised ones.

Both example sets are classified by the same defended model with the same random draws
(a fresh module with the evaluation seed), so the numbers differ only by the attack. The
reported adaptive robust accuracy is the worst case per image over both attacks (an
adaptive attacker has the plain attack too). Where a defence changes the input little
(bit depth, non-local means, noise, pixel deflection at these settings) its BPDA gradient
is nearly the undefended one and the two attacks tie to within an image or two; where the
defence's own gradient differs (the median filter, resize-and-pad) attacking through it
wins by a wide margin.
"""

from __future__ import annotations

import numpy as np

from .. import attacks as A

EPS = 0.1
HIDDEN = 32
QUICK = (100, 10, 4, 20)  # images, PGD steps, EOT draws, training epochs
FULL = (20, 4, 40)  # the same on the whole test set


def _net(torch, seed):
    from torch import nn

    with torch.random.fork_rng():  # seeds the initialisation without moving the caller's stream
        torch.manual_seed(seed)
        return nn.Sequential(nn.Flatten(), nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10))


def train(torch, x, y, seed, epochs=40):
    """The NumPy MLP's recipe in torch: SGD with momentum 0.9, lr 0.05, batches of 64."""
    net = _net(torch, seed)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()
    order = np.random.default_rng(seed)  # the batch order, not an attack's randomness
    for _ in range(epochs):
        perm = torch.from_numpy(order.permutation(len(x)))
        for s in range(0, len(x), 64):
            j = perm[s : s + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[j]), yt[j]).backward()
            opt.step()
    return net.eval()


def defences(torch, mt):
    """name -> (make(seed) -> defence module, randomised?, the adaptive gradient). Random resize-and-pad grows
    the 8x8 image to 9x9; the pipeline scales it back to the model's 8x8 (area
    averaging, differentiable) so that the same classifier serves every defence."""
    from torch import nn

    class Back(nn.Module):
        def forward(self, x):
            return torch.nn.functional.interpolate(x, size=(8, 8), mode="area")

    return {
        "median filter 2x2": (lambda s: mt.MedianFilter(2, grad="exact"), False, "exact"),
        "bit depth 2 bits": (lambda s: mt.BitDepth(2), False, "BPDA"),
        "non-local means h=0.2": (lambda s: mt.NonLocalMeans(0.2, template_size=3, search_size=5), False, "BPDA"),
        "gaussian noise 0.2": (lambda s: mt.GaussianNoise(0.2, clip=(0.0, 1.0), seed=s), True, "exact+EOT"),
        "random resize-pad 8-9": (
            lambda s: nn.Sequential(mt.RandomResizePad(9, min_size=8, seed=s), Back()),
            True,
            "exact+EOT",
        ),
        "pixel deflection 8/3": (lambda s: mt.PixelDeflection(8, 3, seed=s), True, "BPDA+EOT"),
    }


def _correct(torch, model, x, y):
    with torch.no_grad():
        return model(x).argmax(1) == y


def section_adaptive(m, data, quick, seed, bar):
    """``m`` (the NumPy model) is not used: this section trains its own torch model."""
    from ._demo_defences import _need

    mt = _need("torch")  # says that PyTorch is missing when it is
    import torch

    threads = torch.get_num_threads()
    # as with BLAS (demo._one_blas_thread): on tensors this small, more threads only wait
    # for each other, and on a busy machine they slowed this section tenfold
    torch.set_num_threads(1)
    try:
        return _section(torch, mt, data, quick, seed, bar)
    finally:
        torch.set_num_threads(threads)


def _section(torch, mt, data, quick, seed, bar):
    from torch import nn

    n_img, steps, n_eot, epochs = QUICK if quick else (len(data["x_test"]), *FULL)
    net = train(torch, data["x_train"], data["y_train"], seed, epochs)
    bar.step("trained the torch model")
    x, y = torch.from_numpy(data["x_test"][:n_img]), torch.from_numpy(data["y_test"][:n_img]).long()
    # every sample runs every step (no early stop): an example that only just crosses the
    # boundary of one draw says little about a randomised defence
    plain = A.pgd(mt.loss_grad(net), x, y, EPS, n_steps=steps, early_stop=False, seed=seed).x_adv
    res = {
        "model": f"MLP 64-{HIDDEN}-10 (torch)",
        "attack": f"PGD-inf, eps={EPS}, {steps} steps",
        "eot_draws": n_eot,
        "train_epochs": epochs,
        "n_images": n_img,
        "clean_accuracy": float(_correct(torch, net, x, y).float().mean()),
        "undefended_pgd": float(_correct(torch, net, plain, y).float().mean()),
        "defences": {},
    }
    for name, (make, randomised, grad) in defences(torch, mt).items():
        evaluate = nn.Sequential(make(seed + 1), net)  # one set of draws for every number of this row
        state = {k: v.clone() for k, v in evaluate.state_dict().items()}

        def ok(xs, evaluate=evaluate, state=state):
            evaluate.load_state_dict(state)
            return _correct(torch, evaluate, xs, y)

        attacked = nn.Sequential(make(seed + 2), net)
        lg = mt.loss_grad(mt.eot(attacked, n_eot) if randomised else attacked)
        bpda_eot = A.pgd(lg, x, y, EPS, n_steps=steps, early_stop=False, seed=seed).x_adv
        c_plain, c_adapt = ok(plain), ok(bpda_eot)
        res["defences"][name] = {
            "randomised": randomised,
            "gradient": grad,
            "clean": float(ok(x).float().mean()),
            "plain": float(c_plain.float().mean()),
            "bpda_eot": float(c_adapt.float().mean()),
            # the adaptive attacker also has the plain attack: an image survives only if
            # it survives both (the worst case per image, as evaluations should report)
            "adaptive": float((c_plain & c_adapt).float().mean()),
        }
        bar.step(f"adaptive: {name}")
    return res
