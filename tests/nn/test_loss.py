"""Losses (functional and modules) against torch: values, input gradients, reductions, legacy
arguments, edge cases and errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, rand, randint, randn, raises, to_numpy
from nn_mirror import Const, compare, _consts

REDUCTIONS = ["mean", "sum", "none"]


def _F(lib):
    return lib.nn.functional


def _module_and_function(name, fname, arrays, kwargs=None, module_kwargs=None, fkwargs=None,
                         atol=None, rtol=None):
    """Compare the loss module nn.<name>(**module_kwargs) and F.<fname>(..., **fkwargs) with
    torch, for every reduction."""
    kwargs = kwargs or {}
    for red in REDUCTIONS:
        e_mod = getattr(ember.nn, name)(reduction=red, **kwargs, **(module_kwargs or {}))
        t_mod = getattr(torch.nn, name)(reduction=red, **kwargs, **(module_kwargs or {}))
        assert repr(e_mod) == repr(t_mod)
        compare(e_mod, t_mod, *arrays, atol=atol, rtol=rtol)
        check(lambda lib, *a: getattr(_F(lib), fname)(*_consts(lib, a), reduction=red,
                                                      **kwargs, **(fkwargs or {})),
              *arrays, atol=atol, rtol=rtol)


# ---- regression -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fname", [("L1Loss", "l1_loss"), ("MSELoss", "mse_loss"),
                                         ("SmoothL1Loss", "smooth_l1_loss"),
                                         ("HuberLoss", "huber_loss"),
                                         ("SoftMarginLoss", "soft_margin_loss")])
def test_pointwise_losses(name, fname):
    x, y = randn(4, 5), randn(4, 5)
    x[0, :3] = y[0, :3]  # zero differences
    if name == "SoftMarginLoss":
        y = Const(np.sign(y))  # torch: no gradient for its target
    _module_and_function(name, fname, (x, y))
    wrap = Const if name == "SoftMarginLoss" else (lambda a: a)
    for shape, red in [((), "mean"), ((0, 3), "sum"), ((0, 3), "mean")]:  # 0-d and empty
        check(lambda lib, x, *y: getattr(_F(lib), fname)(x, *_consts(lib, y), reduction=red),
              np.asarray(randn(*shape)), wrap(np.asarray(np.sign(randn(*shape)))))


@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0])
def test_smooth_l1_beta_and_huber_delta(beta):
    x, y = randn(6, 3) * 2, randn(6, 3)
    check(lambda lib, x, y: _F(lib).smooth_l1_loss(x, y, beta=beta), x, y)
    if beta:
        check(lambda lib, x, y: _F(lib).huber_loss(x, y, delta=beta), x, y)
        e, t = ember.nn.HuberLoss(delta=beta), torch.nn.HuberLoss(delta=beta)
        compare(e, t, x, y)
    e, t = ember.nn.SmoothL1Loss(beta=beta), torch.nn.SmoothL1Loss(beta=beta)
    compare(e, t, x, y)
    gradcheck_fn(lambda lib, x, y: _F(lib).smooth_l1_loss(x, y, beta=0.7), randn(5), randn(5))


def test_weighted_l1_mse_huber():
    x, y, w = randn(3, 4), randn(3, 4), rand(3, 4)
    for fname in ("l1_loss", "mse_loss", "huber_loss"):
        for red in REDUCTIONS:
            check(lambda lib, x, y: getattr(_F(lib), fname)(x, y, reduction=red,
                                                            weight=lib.tensor(w)), x, y)
        for lib in (ember, torch):
            with pytest.raises(ValueError, match="Weights and input must have the same size"):
                getattr(_F(lib), fname)(lib.ones(2), lib.ones(2), weight=lib.ones(3))


def test_broadcasting_target_warns_like_torch():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="Using a target size .* that is different to the "
                                             "input size"):
            _F(lib).mse_loss(lib.ones(3, 1), lib.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x, y: _F(lib).l1_loss(x, y), randn(3, 1), randn(3, 2))


def test_shape_mismatch_errors_name_the_loss():
    for fname in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"):
        raises(RuntimeError, f"{fname}: input float32\\[3, 2\\] on cpu and target "
               f"float32\\[4\\] on cpu have shapes that do not broadcast",
               getattr(ember.nn.functional, fname), ember.ones(3, 2), ember.ones(4))
        raises(TypeError, rf"{fname}\(\): argument 'target' \(position 2\) must be Tensor, not "
               "list", getattr(ember.nn.functional, fname), ember.ones(3), [1.0])
    for fname in ("kl_div", "poisson_nll_loss", "hinge_embedding_loss", "soft_margin_loss",
                  "multilabel_soft_margin_loss"):
        raises(RuntimeError, f"{fname}: the shapes of float32\\[3, 2\\] on cpu, float32\\[4\\] "
               "on cpu do not broadcast", getattr(ember.nn.functional, fname),
               ember.ones(3, 2), ember.ones(4))


def test_legacy_size_average_and_reduce():
    x, y = randn(3, 4), randn(3, 4)
    for size_average, reduce in [(False, None), (None, False), (True, True), (False, True)]:
        for fname in ("mse_loss", "l1_loss", "smooth_l1_loss"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(lambda lib, x, y: getattr(_F(lib), fname)(
                    x, y, size_average=size_average, reduce=reduce), x, y)
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            e = ember.nn.MSELoss(size_average=size_average, reduce=reduce)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        assert e.reduction == t.reduction
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        ember.nn.functional.mse_loss(ember.ones(1), ember.ones(1), reduction="bogus")
    with pytest.warns(UserWarning, match="elementwise_mean"):
        ember.nn.functional.l1_loss(ember.ones(1), ember.ones(1), reduction="elementwise_mean")


def test_kl_div():
    x = np.log(rand(4, 5, low=0.05))
    y = rand(4, 5)
    y[0, 0] = 0  # xlogy: 0 * log 0 = 0
    for red in ["sum", "none", "batchmean"]:
        for log_target in (False, True):
            target = np.log(y + 0.1) if log_target else y
            check(lambda lib, x, t: _F(lib).kl_div(x, t, reduction=red, log_target=log_target),
                  x, target)
            e = ember.nn.KLDivLoss(reduction=red, log_target=log_target)
            t = torch.nn.KLDivLoss(reduction=red, log_target=log_target)
            compare(e, t, x, target)
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss"):
            out = _F(lib).kl_div(lib.tensor(x), lib.tensor(y))
        np.testing.assert_allclose(to_numpy(out), (y * (np.log(np.where(y > 0, y, 1)) - x)).mean(),
                                   rtol=1e-5)


@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll(log_input, full):
    x = randn(4, 5) if log_input else rand(4, 5, low=0.1, high=3)
    y = np.floor(rand(4, 5, high=4))
    _module_and_function("PoissonNLLLoss", "poisson_nll_loss", (x, y),
                         kwargs={"log_input": log_input, "full": full})


@pytest.mark.parametrize("var_shape", [(4, 3), (4, 1), (4,), None])
def test_gaussian_nll(var_shape):
    x, y = randn(4, 3), randn(4, 3)
    var = 1.0 if var_shape is None else rand(*var_shape, low=0.1)
    if var_shape is not None:
        var[0] = 1e-9  # clamped to eps, gradient still flows as torch
    for full in (False, True):
        for red in REDUCTIONS:
            if var_shape is None:
                check(lambda lib, x, y: _F(lib).gaussian_nll_loss(x, y, 1.0, full=full,
                                                                  reduction=red), x, y)
            else:
                check(lambda lib, x, y, v: _F(lib).gaussian_nll_loss(x, y, v, full=full,
                                                                     reduction=red), x, y, var)
    if var_shape is not None:
        compare(ember.nn.GaussianNLLLoss(), torch.nn.GaussianNLLLoss(), x, y, var)
    assert repr(ember.nn.GaussianNLLLoss()) == repr(torch.nn.GaussianNLLLoss())


def test_gaussian_nll_errors():
    for lib in (ember, torch):
        F = _F(lib)
        with pytest.raises(ValueError, match="var has negative entry"):
            F.gaussian_nll_loss(lib.ones(2), lib.ones(2), -1.0)
        with pytest.raises(ValueError, match="var has negative entry"):
            F.gaussian_nll_loss(lib.ones(2), lib.ones(2), -lib.ones(2))
        with pytest.raises(ValueError, match="var is of incorrect size"):
            F.gaussian_nll_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3, 3))
        with pytest.raises(ValueError, match="mid is not valid"):
            F.gaussian_nll_loss(lib.ones(2), lib.ones(2), lib.ones(2), reduction="mid")


# ---- binary cross entropy -------------------------------------------------------------------

def test_binary_cross_entropy():
    x, y, w = rand(4, 5, low=0.01, high=0.99), rand(4, 5), rand(4, 5)
    _module_and_function("BCELoss", "binary_cross_entropy", (x, y))
    for red in REDUCTIONS:
        check(lambda lib, x, y: _F(lib).binary_cross_entropy(x, y, weight=lib.tensor(w),
                                                             reduction=red), x, y)
        check(lambda lib, x, y: _F(lib).binary_cross_entropy(x, y, weight=lib.tensor(w[0]),
                                                             reduction=red), x, y)
    gradcheck_fn(lambda lib, x, y: _F(lib).binary_cross_entropy(x, y), rand(3, 2, low=0.1,
                                                                        high=0.9), rand(3, 2))


def test_binary_cross_entropy_at_zero_and_one_is_finite_like_torch():
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5], np.float32)
    check(lambda lib, x, y: _F(lib).binary_cross_entropy(x, y, reduction="none"), x, y)
    check(lambda lib, x, y: _F(lib).binary_cross_entropy(x, y), x, y)


def test_binary_cross_entropy_errors():
    for lib in (ember, torch):
        F = _F(lib)
        with pytest.raises(RuntimeError, match="all elements of input should be between 0 and "
                                               "1"):
            F.binary_cross_entropy(lib.tensor([0.5, 1.5]), lib.tensor([0.0, 1.0]))
        with pytest.raises(RuntimeError, match="all elements of target should be between 0 and "
                                               "1"):
            F.binary_cross_entropy(lib.tensor([0.5, 0.5]), lib.tensor([0.0, 2.0]))
        with pytest.raises(ValueError, match="Using a target size .* that is different to the "
                                             "input size .* is deprecated"):
            F.binary_cross_entropy(lib.ones(2, 1) / 2, lib.ones(2) / 2)
        with pytest.raises(ValueError, match="must be the same as input size"):
            F.binary_cross_entropy_with_logits(lib.ones(2, 1), lib.ones(2))


def test_binary_cross_entropy_with_logits():
    x, y = randn(4, 5) * 30, rand(4, 5)  # large logits: the stable form must not overflow
    w, pw = rand(4, 5), rand(5, low=0.5, high=3)
    _module_and_function("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", (x, y))
    for red in REDUCTIONS:
        check(lambda lib, x, y: _F(lib).binary_cross_entropy_with_logits(
            x, y, weight=lib.tensor(w), pos_weight=lib.tensor(pw), reduction=red), x, y)
        e = ember.nn.BCEWithLogitsLoss(weight=ember.tensor(w), pos_weight=ember.tensor(pw),
                                       reduction=red)
        t = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw),
                                       reduction=red)
        assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "pos_weight"]
        compare(e, t, x, y)
    pw64 = rand(2, dtype=np.float64)
    gradcheck_fn(lambda lib, x, y: _F(lib).binary_cross_entropy_with_logits(
        x, y, pos_weight=lib.tensor(pw64)), randn(3, 2), rand(3, 2))


# ---- NLL and cross entropy --------------------------------------------------------------------

SHAPES = [((5, 4), (5,)), ((3, 4, 2, 2), (3, 2, 2)), ((4,), ()), ((2, 4, 3), (2, 3))]


def _targets(tshape, ignore=True):
    t = randint(0, 4, tshape)
    if ignore and t.ndim:
        t.flat[0] = -100
    return t


@pytest.mark.parametrize("shape, tshape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(shape, tshape, weighted):
    x, t = randn(*shape), _targets(tshape)
    w = rand(4, low=0.2) if weighted else None
    for red in REDUCTIONS:
        check(lambda lib, x: _F(lib).nll_loss(
            x, lib.tensor(t), weight=None if w is None else lib.tensor(w), reduction=red), x)
        e = ember.nn.NLLLoss(weight=None if w is None else ember.tensor(w), reduction=red)
        tm = torch.nn.NLLLoss(weight=None if w is None else torch.tensor(w), reduction=red)
        assert list(e.state_dict()) == list(tm.state_dict())
        compare(e, tm, x, t)


@pytest.mark.parametrize("shape, tshape", SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_class_indices(shape, tshape, weighted, smoothing):
    x, t = randn(*shape) * 3, _targets(tshape)
    w = rand(4, low=0.2) if weighted else None
    for red in REDUCTIONS:
        e = ember.nn.CrossEntropyLoss(weight=None if w is None else ember.tensor(w),
                                      reduction=red, label_smoothing=smoothing)
        tm = torch.nn.CrossEntropyLoss(weight=None if w is None else torch.tensor(w),
                                       reduction=red, label_smoothing=smoothing)
        compare(e, tm, x, t)
    gradcheck_fn(lambda lib, x: _F(lib).cross_entropy(
        x, lib.tensor(t), weight=None if w is None else lib.tensor(w.astype(np.float64)),
        label_smoothing=smoothing), x)


@pytest.mark.parametrize("ignore_index", [1, 3])
def test_cross_entropy_and_nll_ignore_index(ignore_index):
    x, t = randn(6, 4), randint(0, 4, (6,))
    t[:2] = ignore_index
    for fname in ("cross_entropy", "nll_loss"):
        for red in REDUCTIONS:
            check(lambda lib, x: getattr(_F(lib), fname)(x, lib.tensor(t),
                                                         ignore_index=ignore_index,
                                                         reduction=red), x)
    e = ember.nn.CrossEntropyLoss(ignore_index=ignore_index, label_smoothing=0.1)
    tm = torch.nn.CrossEntropyLoss(ignore_index=ignore_index, label_smoothing=0.1)
    compare(e, tm, x, t)


def test_all_ignored_targets_and_empty_batch_give_torch_results():
    x = randn(3, 4)
    t = np.full(3, -100)
    for fname in ("cross_entropy", "nll_loss"):
        for red in REDUCTIONS:
            check(lambda lib, x: getattr(_F(lib), fname)(x, lib.tensor(t), reduction=red), x)
            check(lambda lib, x: getattr(_F(lib), fname)(
                x, lib.tensor(np.zeros(0, np.int64)), reduction=red), randn(0, 4))
    out = ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor(t))
    assert np.isnan(float(out))


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2), (4,)])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(shape, smoothing):
    x = randn(*shape)
    p = rand(*shape)
    p = p / p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    w = rand(4, low=0.2)
    for red in REDUCTIONS:
        check(lambda lib, x, p: _F(lib).cross_entropy(x, p, reduction=red,
                                                      label_smoothing=smoothing), x, p)
        check(lambda lib, x, p: _F(lib).cross_entropy(x, p, weight=lib.tensor(w), reduction=red,
                                                      label_smoothing=smoothing), x, p)


def test_cross_entropy_is_stable_and_double_differentiable():
    x = np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]], np.float32)
    check(lambda lib, x: _F(lib).cross_entropy(x, lib.tensor([2, 0]), reduction="none"), x)
    gradcheck_fn(lambda lib, x: _F(lib).cross_entropy(x, lib.tensor([2, 0, 1]),
                                                      reduction="none"), randn(3, 3))
    gradcheck_fn(lambda lib, x: _F(lib).cross_entropy(x, lib.tensor([[1, 0], [2, -100]]),
                                                      reduction="sum", label_smoothing=0.2),
                 randn(2, 3, 2))
    # float16 / float64 inputs keep their dtype
    for dt in (np.float16, np.float64):
        check(lambda lib, x: _F(lib).cross_entropy(x, lib.tensor([1, 0])),
              randn(2, 3).astype(dt), atol=1e-2 if dt == np.float16 else None,
              rtol=1e-2 if dt == np.float16 else None)


def test_cross_entropy_uint8_targets_and_errors():
    x = randn(3, 4)
    check(lambda lib, x: _F(lib).cross_entropy(x, lib.tensor([1, 0, 3], dtype=lib.uint8)), x)
    F = ember.nn.functional
    raises(RuntimeError, r"cross_entropy: expected target dtype to be Long or Byte \(class "
           r"indices\), but got ember.float32", F.cross_entropy, ember.ones(3, 4), ember.ones(3))
    raises(RuntimeError, "nll_loss: expected target dtype to be Long or Byte",
           F.nll_loss, ember.ones(3, 4), ember.tensor([0, 1, 2], dtype=ember.int32))
    raises(IndexError, r"Target 7 is out of bounds. \(cross_entropy: class indices must be in "
           r"\[0, 4\)", F.cross_entropy, ember.ones(3, 4), ember.tensor([0, 1, 7]))
    raises(IndexError, "Target -5 is out of bounds", F.nll_loss, ember.ones(3, 4),
           ember.tensor([0, 1, -5]))
    raises(ValueError, r"Expected input batch_size \(3\) to match target batch_size \(2\)",
           F.cross_entropy, ember.ones(3, 4), ember.tensor([0, 1]))
    raises(RuntimeError, r"cross_entropy: expected target size \[2, 3\], got \[2, 4\]",
           F.cross_entropy, ember.ones(2, 4, 3), ember.zeros(2, 4, dtype=ember.int64))
    raises(RuntimeError, "weight tensor should be defined either for all 4 classes or no "
           "classes but got weight tensor of shape: \\[3\\]", F.cross_entropy,
           ember.ones(2, 4), ember.tensor([0, 1]), weight=ember.ones(3))
    raises(RuntimeError, "ignore_index is not supported for floating point target",
           F.cross_entropy, ember.ones(2, 4), ember.ones(2, 4), ignore_index=1)
    raises(ValueError, "label_smoothing must be between 0.0 and 1.0", F.cross_entropy,
           ember.ones(2, 4), ember.tensor([0, 1]), label_smoothing=1.5)
    raises(RuntimeError, "cross_entropy: expected a floating point input", F.cross_entropy,
           ember.ones(2, 4, dtype=ember.int64), ember.tensor([0, 1]))
    raises(TypeError, r"cross_entropy\(\): argument 'target' \(position 2\) must be Tensor, "
           "not list", F.cross_entropy, ember.ones(2, 4), [0, 1])


def test_nll_loss_2d_deprecated():
    with pytest.warns(FutureWarning, match="NLLLoss2d` has been deprecated"):
        m = ember.nn.NLLLoss2d()
    x, t = randn(2, 3, 2, 2), randint(0, 3, (2, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(m, torch.nn.NLLLoss2d(), x, t)


# ---- margin and embedding losses ---------------------------------------------------------------

def test_margin_ranking_hinge_cosine_embedding():
    y = np.sign(randn(6))
    for margin in (0.0, 0.5):
        _module_and_function("MarginRankingLoss", "margin_ranking_loss",
                             (randn(6), randn(6), y), kwargs={"margin": margin})
        _module_and_function("HingeEmbeddingLoss", "hinge_embedding_loss",
                             (randn(6, 2), np.sign(randn(6, 2))), kwargs={"margin": margin + 1})
        _module_and_function("CosineEmbeddingLoss", "cosine_embedding_loss",
                             (randn(6, 3), randn(6, 3), y), kwargs={"margin": margin})
    check(lambda lib, a, b: _F(lib).cosine_embedding_loss(a, b, lib.tensor(1.0)), randn(3),
          randn(3))
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="margin_ranking_loss : All input tensors should "
                                               "have same dimension"):
            _F(lib).margin_ranking_loss(lib.ones(2), lib.ones(2, 1), lib.ones(2))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_loss(p, swap):
    a, pos, neg = randn(5, 4), randn(5, 4), randn(5, 4)
    _module_and_function("TripletMarginLoss", "triplet_margin_loss", (a, pos, neg),
                         kwargs={"p": p, "swap": swap, "margin": 2.0})
    check(lambda lib, a, b, c: _F(lib).triplet_margin_loss(a, b, c), randn(4), randn(4),
          randn(4))


def test_triplet_margin_with_distance_loss():
    a, pos, neg = randn(5, 4), randn(5, 4), randn(5, 4)
    _module_and_function("TripletMarginWithDistanceLoss", "triplet_margin_with_distance_loss",
                         (a, pos, neg), kwargs={"swap": True})
    for lib_dist in (lambda lib: (lambda x, y: 1 - _F(lib).cosine_similarity(x, y)),):
        check(lambda lib, a, b, c: _F(lib).triplet_margin_with_distance_loss(
            a, b, c, distance_function=lib_dist(lib), margin=0.5), a, pos, neg)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
            _F(lib).triplet_margin_with_distance_loss(lib.ones(2), lib.ones(2), lib.ones(2),
                                                      margin=0)
        with pytest.raises(RuntimeError, match="The anchor, positive, and negative tensors are "
                                               "expected to have the same number of dimensions"):
            _F(lib).triplet_margin_loss(lib.ones(2, 2), lib.ones(2, 2), lib.ones(2))


@pytest.mark.parametrize("margin", [0.0, -1.0])
def test_triplet_margin_loss_refuses_nonpositive_margin(margin):
    for lib in (ember, torch):
        with pytest.raises(ValueError, match=f"margin must be greater than 0, got {margin}"):
            # checked before the shapes (which do not match either)
            _F(lib).triplet_margin_loss(lib.ones(3, 5), lib.ones(3, 4), lib.ones(3, 4),
                                        margin=margin)


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(p):
    x, t, w = randn(5, 4), randint(0, 4, (5,)), rand(4)
    _module_and_function("MultiMarginLoss", "multi_margin_loss", (x, t),
                         kwargs={"p": p, "margin": 0.7})
    for red in REDUCTIONS:
        check(lambda lib, x: _F(lib).multi_margin_loss(x, lib.tensor(t), p=p,
                                                       weight=lib.tensor(w), reduction=red), x)
        check(lambda lib, x: _F(lib).multi_margin_loss(x, lib.tensor(2), reduction=red),
              randn(4))
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
            lib.nn.MultiMarginLoss(p=3)


@pytest.mark.parametrize("weight_shape", [(), (4, 1)])
def test_multi_margin_loss_weight_dims_checked_first(weight_shape):
    """A weight that is not 1-D is refused with ValueError before the target is looked at (here
    a float target, itself an error)."""
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="weight must be one-dimensional"):
            _F(lib).multi_margin_loss(lib.ones(5, 4), lib.zeros(5),
                                      weight=lib.ones(weight_shape))
        with pytest.raises(RuntimeError):  # the target's dtype, once the weight is right
            _F(lib).multi_margin_loss(lib.ones(5, 4), lib.zeros(5), weight=lib.ones(4))


def test_multilabel_losses():
    x = randn(4, 5)
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 2, 0, 0, 0], [4, -1, -1, -1, -1]])
    _module_and_function("MultiLabelMarginLoss", "multilabel_margin_loss", (x, t))
    check(lambda lib, x: _F(lib).multilabel_margin_loss(x, lib.tensor(t[0])), randn(5))
    y = (rand(4, 5) > 0.5).astype(np.float32)
    w = rand(5)
    _module_and_function("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss", (x, y))
    check(lambda lib, x, y: _F(lib).multilabel_soft_margin_loss(x, y, weight=lib.tensor(w)),
          x, y)


# ---- CTC --------------------------------------------------------------------------------------

def _ctc_case(seed=0):
    rng = np.random.default_rng(seed)
    T, N, C, S = 12, 4, 5, 4
    logits = rng.standard_normal((T, N, C)).astype(np.float32)
    targets = rng.integers(1, C, (N, S))
    targets[1, 1] = targets[1, 0]  # a repeated label needs a blank between
    input_lengths = np.array([12, 10, 7, 12])
    target_lengths = np.array([4, 3, 0, 2])
    return logits, targets, input_lengths, target_lengths


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", ["padded", "concatenated", "lists"])
def test_ctc_loss(reduction, layout):
    logits, targets, il, tl = _ctc_case()

    def fn(lib, logits):
        tg = lib.tensor(targets)
        if layout == "concatenated":
            tg = lib.tensor(np.concatenate([targets[n, :tl[n]] for n in range(4)]))
        lengths = (tuple(il.tolist()), tuple(tl.tolist())) if layout == "lists" else \
            (lib.tensor(il), lib.tensor(tl))
        return _F(lib).ctc_loss(logits.log_softmax(2), tg, *lengths, reduction=reduction)
    check(fn, logits, atol=1e-5, rtol=1e-4)
    e, t = ember.nn.CTCLoss(reduction=reduction), torch.nn.CTCLoss(reduction=reduction)
    assert repr(e) == repr(t)
    compare(e, t, np.log(np.exp(logits) / np.exp(logits).sum(2, keepdims=True)), targets, il,
            tl, atol=1e-5, rtol=1e-4)


def test_ctc_blank_unbatched_float64_and_gradcheck():
    logits, targets, il, tl = _ctc_case(1)
    targets = targets - 1  # labels 0..3, blank 4
    check(lambda lib, x: _F(lib).ctc_loss(x.log_softmax(2), lib.tensor(targets),
                                          lib.tensor(il), lib.tensor(tl), blank=4),
          logits.astype(np.float64))
    check(lambda lib, x: _F(lib).ctc_loss(x.log_softmax(1), lib.tensor(targets[0]),
                                          lib.tensor(12), lib.tensor(4), blank=4,
                                          reduction="none"), logits[:, 0])
    gradcheck_fn(lambda lib, x: _F(lib).ctc_loss(x.log_softmax(2), lib.tensor(targets[:, :3]),
                                                 lib.tensor([5, 4, 5, 3]),
                                                 lib.tensor([3, 1, 2, 0]), blank=4),
                 randn(5, 4, 5), gradgrad=False)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_impossible_alignments(zero_infinity):
    logits = randn(3, 2, 4)
    targets = np.array([[1, 1, 2], [1, 2, 3]])  # sample 0 needs 4 steps (1 blank 1 2)
    for red in REDUCTIONS:
        check(lambda lib, x: _F(lib).ctc_loss(x.log_softmax(2), lib.tensor(targets),
                                              lib.tensor([3, 3]), lib.tensor([3, 3]),
                                              reduction=red, zero_infinity=zero_infinity),
              logits)
    e = ember.nn.CTCLoss(zero_infinity=zero_infinity)
    assert repr(e) == repr(torch.nn.CTCLoss(zero_infinity=zero_infinity))


def test_ctc_errors():
    F = ember.nn.functional
    lp = ember.randn(5, 2, 4).log_softmax(2)
    tg = ember.tensor([[1, 2], [1, 1]])
    raises(RuntimeError, "ctc_loss: Expected input_lengths to have value at most 5",
           F.ctc_loss, lp, tg, ember.tensor([6, 5]), ember.tensor([2, 2]))
    raises(RuntimeError, "ctc_loss: Expected tensor to have size at least 3 at dimension 1",
           F.ctc_loss, lp, tg, ember.tensor([5, 5]), ember.tensor([3, 2]))
    raises(RuntimeError, r"ctc_loss: blank must be in label range \[0, 4\)", F.ctc_loss, lp,
           tg, ember.tensor([5, 5]), ember.tensor([2, 2]), blank=4)
    raises(RuntimeError, "ctc_loss: expected input_lengths to have 2 entries", F.ctc_loss, lp,
           tg, ember.tensor([5]), ember.tensor([2, 2]))
    raises(IndexError, r"ctc_loss: target class indices must be in \[0, 4\)", F.ctc_loss, lp,
           ember.tensor([[1, 9], [1, 1]]), ember.tensor([5, 5]), ember.tensor([2, 2]))
    raises(RuntimeError, "ctc_loss: targets must hold integer class indices", F.ctc_loss, lp,
           ember.ones(2, 2), ember.tensor([5, 5]), ember.tensor([2, 2]))
    lp2 = ember.randn(5, 2, 4, requires_grad=True)
    loss = F.ctc_loss(lp2.log_softmax(2), tg, [5, 5], [2, 2])
    (g,) = ember.autograd.grad(loss, lp2, create_graph=True)
    raises(RuntimeError, "ctc_loss: double backward is not supported", g.sum().backward)
