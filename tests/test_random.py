"""mg.Generator, the default generator and generator= on every sampling function."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import minigrad as mg


def test_generator_api_matches_torch():
    g, tg = mg.Generator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed() == 67280421310721
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert g.device == mg.device("cpu") and str(g.device) == str(tg.device)
    g.manual_seed(-1)
    assert g.initial_seed() == tg.manual_seed(-1).initial_seed() == 2**64 - 1
    with pytest.raises(RuntimeError):
        g.manual_seed(2**64)
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2**64


def test_state_round_trips_and_is_checked():
    g = mg.Generator().manual_seed(5)
    mg.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype == mg.uint8 and state.ndim == 1
    a = mg.randn(7, generator=g)
    g.manual_seed(99)
    g.set_state(state)
    assert mg.randn(7, generator=g).equal(a) and g.initial_seed() == 5
    with pytest.raises(TypeError, match="ByteTensor"):
        g.set_state(state.float())
    with pytest.raises(RuntimeError, match="size"):
        g.set_state(mg.zeros(3, dtype=mg.uint8))
    # the global spelling
    saved = mg.get_rng_state()
    b = mg.rand(4)
    mg.set_rng_state(saved)
    assert mg.rand(4).equal(b)
    with mg.random.fork_rng():
        mg.rand(10)
    assert not mg.rand(4).equal(b)  # fork_rng restored the state from before its block


def test_manual_seed_returns_default_generator_and_is_exact():
    assert mg.manual_seed(7) is mg.default_generator and mg.initial_seed() == 7
    a = mg.randn(5)
    mg.default_generator.manual_seed(7)
    assert mg.randn(5).equal(a)
    assert mg.seed() == mg.initial_seed()


def test_unseeded_processes_differ():
    code = "import minigrad as mg; print(mg.initial_seed(), mg.rand(3).tolist())"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}  # fmt: skip
    assert len(outs) == 2


def _fresh(seed=0):
    return mg.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "draw",
    [
        lambda g: mg.rand(2, 3, generator=g),
        lambda g: mg.randn(4, generator=g, dtype=mg.float64),
        lambda g: mg.randint(0, 10, (5,), generator=g),
        lambda g: mg.randint(10, (5,), generator=g),
        lambda g: mg.randperm(8, generator=g),
        lambda g: mg.multinomial(mg.tensor([0.2, 0.3, 0.5]), 2, generator=g),
        lambda g: mg.multinomial(mg.tensor([[0.2, 0.8]]), 6, True, generator=g),
        lambda g: mg.normal(0.0, 2.0, (3,), generator=g),
        lambda g: mg.normal(mg.zeros(3), mg.ones(3), generator=g),
        lambda g: mg.bernoulli(mg.full((6,), 0.5), generator=g),
        lambda g: mg.rand_like(mg.zeros(3), generator=g),
        lambda g: mg.randn_like(mg.zeros(3), generator=g),
        lambda g: mg.randint_like(mg.zeros(3), 4, generator=g),
        lambda g: mg.zeros(5).normal_(1.0, 2.0, generator=g),
        lambda g: mg.zeros(5).uniform_(-1, 1, generator=g),
        lambda g: mg.zeros(5).random_(0, 10, generator=g),
        lambda g: mg.zeros(5).bernoulli_(0.3, generator=g),
        lambda g: mg.zeros(5).exponential_(2.0, generator=g),
        lambda g: mg.nn.init.normal_(mg.zeros(3, 3), generator=g),
        lambda g: mg.nn.init.kaiming_uniform_(mg.zeros(3, 3), generator=g),
    ],
)
def test_generator_makes_every_sampler_reproducible(draw):
    a, b = draw(_fresh()), draw(_fresh())
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    mg.manual_seed(1)
    c = draw(None)
    mg.manual_seed(1)
    np.testing.assert_array_equal(c.detach().numpy(), draw(None).detach().numpy())


def test_sample_ranges_and_errors():
    g = _fresh()
    u = mg.zeros(1000).uniform_(2, 3, generator=g)
    assert 2 <= float(u.min()) and float(u.max()) < 3
    assert mg.zeros(1, 4).uniform_(**{"from": 5, "to": 6}).min() >= 5
    r = mg.zeros(1000, dtype=mg.int64).random_(3, generator=g)
    assert set(r.tolist()) == {0, 1, 2}
    e = mg.zeros(10000, dtype=mg.float64).exponential_(4.0, generator=g)
    assert abs(float(e.mean()) - 0.25) < 0.02
    with pytest.raises(RuntimeError, match="without replacement"):
        mg.multinomial(mg.tensor([0.5, 0.5]), 3)
    with pytest.raises(RuntimeError, match="not enough"):
        mg.multinomial(mg.tensor([0.5, 0.0, 0.0]), 2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        mg.zeros(3, requires_grad=True).normal_()
    with pytest.raises(TypeError, match="Generator"):
        mg.rand(3, generator=np.float64(1.0))


def test_multinomial_frequencies_follow_the_probabilities():
    g = _fresh(2)
    p = mg.tensor([0.1, 0.2, 0.7])
    counts = np.bincount(mg.multinomial(p, 20000, True, generator=g).numpy(), minlength=3)
    np.testing.assert_allclose(counts / 20000, [0.1, 0.2, 0.7], atol=0.015)
    # without replacement, the first draw's law is p itself
    firsts = [int(mg.multinomial(p, 2, generator=g)[0]) for _ in range(3000)]
    np.testing.assert_allclose(np.bincount(firsts, minlength=3) / 3000, [0.1, 0.2, 0.7],
                               atol=0.03)  # fmt: skip


def test_normal_is_differentiable_in_mean_and_std():
    mean = mg.zeros(3, requires_grad=True)
    std = mg.ones(3, requires_grad=True)
    out = mg.normal(mean, std, generator=_fresh())
    out.sum().backward()
    np.testing.assert_array_equal(mean.grad.numpy(), np.ones(3))
    eps = mg.randn(3, generator=_fresh())
    np.testing.assert_allclose(std.grad.numpy(), eps.numpy())


def test_generator_device_must_match():
    g = mg.Generator()
    with pytest.raises(RuntimeError, match="device type for generator"):
        mg.rand(3, device="guard", generator=g)
    gg = mg.Generator("guard").manual_seed(4)
    a = mg.rand(3, device="guard", generator=gg)
    assert a.device == mg.device("guard:0")
    # guard and cpu generators seeded alike draw alike (both PCG64)
    np.testing.assert_array_equal(a.cpu().numpy(), mg.rand(3, generator=_fresh(4)).numpy())
    gg.set_state(gg.get_state())
