"""Learning-rate schedulers: the sequences of rates (and OneCycle's momenta) equal torch's."""

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler as mls

N_STEPS = 40


def _mg_opt(kind="SGD", groups=1, **kw):
    params = [mg.zeros(2, requires_grad=True) for _ in range(groups)]
    if groups == 1:
        return getattr(optim, kind)(params, lr=0.1, **kw)
    spec = [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)]
    return getattr(optim, kind)(spec, **kw)


def _torch_opt(torch, kind="SGD", groups=1, **kw):
    params = [torch.zeros(2, requires_grad=True) for _ in range(groups)]
    if groups == 1:
        return getattr(torch.optim, kind)(params, lr=0.1, **kw)
    spec = [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)]
    return getattr(torch.optim, kind)(spec, **kw)


def _run(sched, opt, n=N_STEPS):
    lrs, moms = [sched.get_last_lr()], []
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        g = opt.param_groups[0]
        moms.append(g["betas"][0] if "betas" in g else g.get("momentum"))
    return lrs, moms


SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 10, 10, 25], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=13, eta_min=0.01)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.7, total_iters=12)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=N_STEPS)),
    ("OneCycleLR", dict(max_lr=[0.5, 2.0], epochs=4, steps_per_epoch=10, pct_start=0.25)),
    (
        "OneCycleLR",
        dict(
            max_lr=0.3,
            total_steps=N_STEPS,
            anneal_strategy="linear",
            div_factor=10.0,
            final_div_factor=100.0,
        ),
    ),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=N_STEPS, three_phase=True)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=N_STEPS, cycle_momentum=False)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.25, total_iters=9)),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=30, power=2.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
]


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize(
    "name,kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)]
)
def test_sequences_equal_torch(name, kwargs, groups, kind):
    torch = pytest.importorskip("torch")
    if isinstance(kwargs.get("max_lr"), list) and groups != 2:
        pytest.skip("a list of max_lr needs one entry per group")
    opt_kw = dict(momentum=0.9) if kind == "SGD" else {}
    opt = _mg_opt(kind, groups, **opt_kw)
    topt = _torch_opt(torch, kind, groups, **opt_kw)
    ours = _run(getattr(mls, name)(opt, **kwargs), opt)
    theirs = _run(getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), topt)
    assert ours[0] == theirs[0]  # bit-for-bit: same formulas, same order
    assert ours[1] == theirs[1]


def test_lambda_lr_equals_torch():
    torch = pytest.importorskip("torch")
    fns = [lambda e: 0.95**e, lambda e: 1 / (1 + e)]
    opt, topt = _mg_opt("SGD", 2), _torch_opt(torch, "SGD", 2)
    ours, _ = _run(mls.LambdaLR(opt, fns), opt)
    theirs, _ = _run(torch.optim.lr_scheduler.LambdaLR(topt, fns), topt)
    assert ours == theirs


@pytest.mark.parametrize("name,kwargs", SCHEDULES[:7], ids=[n for n, _ in SCHEDULES[:7]])
def test_step_with_epoch_uses_closed_form_like_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    opt, topt = _mg_opt(), _torch_opt(torch)
    ours, theirs = (
        getattr(mls, name)(opt, **kwargs),
        getattr(torch.optim.lr_scheduler, name)(topt, **kwargs),
    )
    for epoch in [3, 8, 2, 15]:
        ours.step(epoch)
        with pytest.warns(UserWarning):
            theirs.step(epoch)
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-13)


def test_cosine_closed_form_values():
    opt = _mg_opt()
    sched = mls.CosineAnnealingLR(opt, T_max=10, eta_min=0.0)
    lrs, _ = _run(sched, opt, 10)
    expected = [0.05 * (1 + math.cos(math.pi * t / 10)) for t in range(11)]
    np.testing.assert_allclose([lr[0] for lr in lrs], expected, rtol=1e-12, atol=1e-15)


def test_state_dict_resumes_schedule():
    opt = _mg_opt("Adam")
    sched = mls.OneCycleLR(opt, max_lr=1.0, total_steps=30)
    for _ in range(10):
        opt.step()
        sched.step()
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    rest, _ = _run(sched, opt, 15)

    opt2 = _mg_opt("Adam")
    opt2.load_state_dict(saved_opt)
    sched2 = mls.OneCycleLR(opt2, max_lr=1.0, total_steps=30, last_epoch=9)
    sched2.load_state_dict(saved_sched)
    rest2, _ = _run(sched2, opt2, 15)
    assert rest == rest2


def test_errors():
    opt = _mg_opt()
    with pytest.raises(ValueError, match="total_steps"):
        mls.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="Tried to step 6 times"):
        s = mls.OneCycleLR(_mg_opt(), max_lr=1.0, total_steps=5)
        for _ in range(6):
            s.step()
    with pytest.raises(KeyError, match="initial_lr"):
        mls.StepLR(_mg_opt(), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="not an Optimizer"):
        mls.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="momentum or beta1"):
        mls.OneCycleLR(optim.Adagrad([mg.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas"):
        mls.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])


# a validation curve that improves, stalls, wobbles within the threshold and improves again
METRICS = [1.0, 0.8, 0.79, 0.79, 0.795, 0.7901, 0.79, 0.6, 0.6, 0.61, 0.62, 0.6, 0.6, 0.6] * 3


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(patience=1, factor=0.5),
        dict(patience=2, factor=0.3, cooldown=2, min_lr=[0.02, 0.05]),
        dict(mode="max", patience=0, threshold=0.05, threshold_mode="abs"),
        dict(patience=1, threshold=0.01, threshold_mode="rel", eps=0.02),
    ],
)
def test_reduce_lr_on_plateau_equals_torch(kwargs):
    torch = pytest.importorskip("torch")
    opt, topt = _mg_opt("SGD", 2), _torch_opt(torch, "SGD", 2)
    ours = mls.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for m in METRICS:
        ours.step(mg.tensor(m))  # a scalar Tensor, as a loss would be
        theirs.step(torch.tensor(m))
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert (ours.best, ours.num_bad_epochs) == (theirs.best, theirs.num_bad_epochs)


def test_reduce_lr_on_plateau_errors_and_resume():
    opt = _mg_opt("SGD", 2)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        mls.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode 'median' is unknown"):
        mls.ReduceLROnPlateau(opt, mode="median")
    with pytest.raises(ValueError, match="threshold mode 'pct' is unknown"):
        mls.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 values for min_lr, got 3"):
        mls.ReduceLROnPlateau(opt, min_lr=[0.1, 0.1, 0.1])
    sched = mls.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for m in METRICS[:6]:
        sched.step(m)
    again = mls.ReduceLROnPlateau(opt2 := _mg_opt("SGD", 2), patience=1, cooldown=1)
    opt2.load_state_dict(opt.state_dict())
    again.load_state_dict(sched.state_dict())
    for m in METRICS[6:]:
        sched.step(m)
        again.step(m)
        assert again.get_last_lr() == sched.get_last_lr()
    assert sched.get_last_lr() != [0.1, 0.2]  # the curve did reduce the rates


@pytest.mark.parametrize(
    "parts, milestones",
    [
        ([("LinearLR", dict(start_factor=0.1, total_iters=5)), ("CosineAnnealingLR", dict(T_max=20))], [5]),
        ([("ExponentialLR", dict(gamma=0.9)), ("StepLR", dict(step_size=3, gamma=0.5)),
          ("MultiStepLR", dict(milestones=[2, 6]))], [4, 12]),
    ],
)  # fmt: skip
def test_sequential_lr_equals_torch(parts, milestones):
    torch = pytest.importorskip("torch")
    opt, topt = _mg_opt("SGD", 2), _torch_opt(torch, "SGD", 2)
    ours = mls.SequentialLR(opt, [getattr(mls, n)(opt, **kw) for n, kw in parts], milestones)
    theirs = torch.optim.lr_scheduler.SequentialLR(
        topt, [getattr(torch.optim.lr_scheduler, n)(topt, **kw) for n, kw in parts], milestones
    )
    assert _run(ours, opt)[0] == _run(theirs, topt)[0]


def test_sequential_lr_errors_and_resume():
    opt, other = _mg_opt(), _mg_opt()
    warm = mls.LinearLR(opt, start_factor=0.5, total_iters=3)
    with pytest.raises(ValueError, match="expects 1 milestones for 2 schedulers, got 2"):
        mls.SequentialLR(opt, [warm, mls.ExponentialLR(opt, 0.9)], [3, 5])
    with pytest.raises(ValueError, match="same optimizer"):
        mls.SequentialLR(opt, [warm, mls.ExponentialLR(other, 0.9)], [3])
    with pytest.raises(ValueError, match="does not support ReduceLROnPlateau"):
        mls.SequentialLR(opt, [warm, mls.ReduceLROnPlateau(opt)], [3])
    with pytest.raises(ValueError, match="at least one scheduler"):
        mls.SequentialLR(opt, [], [])

    def build():
        o = _mg_opt()
        return o, mls.SequentialLR(
            o, [mls.LinearLR(o, start_factor=0.5, total_iters=3), mls.ExponentialLR(o, 0.9)], [3]
        )

    opt1, s1 = build()
    for _ in range(5):
        opt1.step()
        s1.step()
    saved_sched, saved_opt = s1.state_dict(), opt1.state_dict()
    rest = _run(s1, opt1, 6)[0]
    opt2, s2 = build()
    opt2.load_state_dict(saved_opt)
    s2.load_state_dict(saved_sched)
    assert _run(s2, opt2, 6)[0] == rest


@pytest.mark.parametrize(
    "name, kwargs",
    [("ConstantLR", dict(factor=0.5, total_iters=4)), ("PolynomialLR", dict(total_iters=9, power=2.0)),
     ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2))],
)  # fmt: skip
def test_new_schedules_jump_to_an_epoch_like_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    opt, topt = _mg_opt(), _torch_opt(torch)
    ours = getattr(mls, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in [3, 8, 2, 15, 5.5]:  # a fraction: warm restarts take epoch + i / iters
        if name != "CosineAnnealingWarmRestarts" and epoch != int(epoch):
            continue
        ours.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch deprecates step(epoch) for most schedulers
            theirs.step(epoch)
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-13)


def test_chained_scheduler_equals_torch_and_resumes():
    torch = pytest.importorskip("torch")

    def build(lib, opt):
        return lib.ChainedScheduler(
            [lib.ConstantLR(opt, factor=0.2, total_iters=3), lib.ExponentialLR(opt, gamma=0.9)]
        )

    opt, topt = _mg_opt("SGD", 2), _torch_opt(torch, "SGD", 2)
    ours, theirs = build(mls, opt), build(torch.optim.lr_scheduler, topt)
    assert _run(ours, opt, 10)[0] == _run(theirs, topt, 10)[0]
    saved_sched, saved_opt = ours.state_dict(), opt.state_dict()
    rest = _run(ours, opt, 6)[0]
    opt2 = _mg_opt("SGD", 2)
    again = build(mls, opt2)  # building steps the schedulers: load the states after it
    opt2.load_state_dict(saved_opt)
    again.load_state_dict(saved_sched)
    assert _run(again, opt2, 6)[0] == rest
    with pytest.raises(ValueError, match="at least one scheduler"):
        mls.ChainedScheduler([])
    with pytest.raises(ValueError, match="ChainedScheduler does not support ReduceLROnPlateau"):
        mls.ChainedScheduler([mls.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        mls.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        mls.ConstantLR(opt, factor=1.5)
