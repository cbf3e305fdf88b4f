"""The guard backend refuses what CuPy refuses: host/device mixing, implicit host conversion,
cross-device mixing, NumPy-only attributes; and otherwise computes exactly as NumPy."""

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import guard
from minigrad.backend import backend_for_device, to_device, writeable
from minigrad.guard import GuardArray

xp = backend_for_device(mg.device("guard:0")).xp
xp1 = backend_for_device(mg.device("guard:1")).xp


def g(values, dtype=np.float32, dev=0):
    return (xp if dev == 0 else xp1).asarray(np.asarray(values, dtype=dtype))


def test_results_are_guard_arrays_on_the_inputs_device_and_match_numpy():
    a, b = np.arange(6.0).reshape(2, 3), np.linspace(-1, 1, 3)
    ga, gb = g(a, np.float64), g(b, np.float64)
    for got, want in [
        (ga + gb, a + b), (2 * ga - 1, 2 * a - 1), (ga @ gb, a @ b), (xp.exp(ga), np.exp(a)),
        (np.exp(ga), np.exp(a)), (xp.concatenate([ga, ga]), np.concatenate([a, a])),
        (np.concatenate([ga, ga]), np.concatenate([a, a])), (ga.sum(axis=0), a.sum(axis=0)),
        (xp.einsum("ij,j->i", ga, gb), np.einsum("ij,j->i", a, b)), (ga[:, 1], a[:, 1]),
    ]:  # fmt: skip
        assert type(got) is GuardArray and got.device.id == 0
        np.testing.assert_array_equal(got.get(), want)
    c = g(b, np.float64, dev=1)
    assert (c * 3).device.id == 1 and xp.sum(c).device.id == 1


def test_reductions_and_scalar_indexing_give_0d_arrays_not_numpy_scalars():
    ga = g([[1.0, 2.0], [3.0, 4.0]])
    for r in (ga.sum(), xp.sum(ga), ga.max(), ga[0, 1], xp.mean(ga), np.sum(ga)):
        assert type(r) is GuardArray and r.shape == ()
    assert float(ga.sum()) == 10.0 and ga[1, 1].item() == 4.0 and bool(ga[0, 0] == 1)
    assert ga.sum().dtype == np.float32


@pytest.mark.parametrize(
    "mix",
    [
        lambda d, h: d + h, lambda d, h: h + d, lambda d, h: d * h, lambda d, h: h @ d,
        lambda d, h: np.add(d, h), lambda d, h: xp.add(d, h), lambda d, h: xp.where(d > 0, d, h),
        lambda d, h: np.concatenate([d, h]), lambda d, h: xp.stack([d, h]),
        lambda d, h: d.__setitem__(slice(None), h), lambda d, h: xp.maximum(h, d),
    ],
)  # fmt: skip
def test_mixing_with_numpy_arrays_raises_type_error(mix):
    with pytest.raises(TypeError, match="NumPy array of shape|implicit"):
        mix(g([1.0, 2.0, 3.0]), np.ones(3, np.float32))


def test_scalars_and_0d_numpy_arrays_mix_freely():
    d = g([1.0, 2.0])
    for s in (2, 2.0, np.float32(2), np.array(2.0, np.float32), True):
        assert type(d * s) is GuardArray and type(s + d) is GuardArray


def test_implicit_conversion_to_numpy_is_refused_explicit_copies_are_not():
    d = g([1.0, 2.0])
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(d)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array([d, d])
    host = d.get()
    assert type(host) is np.ndarray and host.tolist() == [1.0, 2.0]
    host[0] = 7  # a copy: the device array is untouched
    assert d[0].item() == 1.0
    assert type(xp.asnumpy(d)) is np.ndarray
    assert type(to_device(d, mg.device("cpu"))) is np.ndarray


def test_asarray_copies_host_memory_like_a_transfer():
    host = np.ones(3, np.float32)
    d = xp.asarray(host)
    host[0] = 5
    assert d[0].item() == 1.0


def test_arrays_on_two_guard_devices_refuse_to_mix():
    a, b = g([1.0, 2.0]), g([1.0, 2.0], dev=1)
    for mix in (lambda: a + b, lambda: xp.stack([a, b]), lambda: np.add(a, b), lambda: a @ b):
        with pytest.raises(ValueError, match="guard:0 and guard:1"):
            mix()


def test_factory_functions_use_the_current_or_bound_device():
    assert xp.zeros(3).device.id == 0 and xp1.zeros(3).device.id == 1
    unbound = mg.backend.backend_of(g([1.0])).xp
    with guard.device(1):
        assert unbound.ones(2).device.id == 1 and unbound.rng().random(2).device.id == 1
    assert unbound.ones(2).device.id == 0


def test_numpy_only_attributes_are_absent():
    d = g([[1.0, 2.0]])
    assert not hasattr(d.flags, "writeable") and d.flags.c_contiguous
    for name in ("ctypes", "tobytes", "setflags", "tofile", "byteswap"):
        with pytest.raises(AttributeError, match="NumPy-only"):
            getattr(d, name)
    assert not isinstance(d, np.ndarray)
    with pytest.raises(TypeError, match="unhashable"):
        hash(d)


def test_writeable_treats_broadcast_views_as_read_only_without_the_flag():
    assert writeable(g([1.0, 2.0])) and not writeable(xp.broadcast_to(g([1.0]), (3,)))
    assert not writeable(np.broadcast_to(np.ones(1), (3,))) and writeable(np.ones(2))


def test_views_name_one_stable_base_object():
    d = g(np.arange(6.0).reshape(2, 3))
    v, w = d[0], d.T
    assert v.base is d and w.base is d and d.base is None
    v[1] = 10.0  # a view writes through
    assert d[0, 1].item() == 10.0


def test_inplace_operators_keep_identity_and_buffer():
    d = g([1.0, 2.0])
    same = d
    d += 1
    d *= g([2.0, 2.0])
    assert d is same and d.tolist() == [4.0, 6.0]
    np.add(d, 1, out=(d,))
    assert d.tolist() == [5.0, 7.0]


def test_indexing_accepts_host_index_arrays_and_scatter_add_repeats():
    d = g(np.arange(5.0))
    assert d[np.array([0, 0, 4])].tolist() == [0.0, 0.0, 4.0]
    assert d[[1, 2]].tolist() == [1.0, 2.0]
    assert d[g([0, 3], np.int64)].tolist() == [0.0, 3.0]
    out = xp.unindex(g([1.0, 1.0, 1.0]), (5,), (g([0, 0, 2], np.int64),))
    assert type(out) is GuardArray and out.tolist() == [2.0, 0.0, 1.0, 0.0, 0.0]


def test_generator_has_cupys_methods_only_and_matches_cpu_draws():
    rng = xp.rng()
    for draw in (rng.random((2, 3), dtype=np.float32), rng.standard_normal(4, dtype=np.float32)):
        assert type(draw) is GuardArray and draw.dtype == np.float32
    assert rng.integers(0, 5, size=(3,)).dtype == np.int64
    assert sorted(rng.permutation(5).tolist()) == [0, 1, 2, 3, 4]
    for missing in ("choice", "normal", "shuffle"):
        assert not hasattr(rng, missing)
    mg.manual_seed(3)
    a = mg.randn(5, device="guard")
    mg.manual_seed(3)
    b = mg.randn(5, device="cpu")
    np.testing.assert_array_equal(a.cpu().numpy(), b.numpy())


def test_copy_deepcopy_and_pickle_round_trip_on_the_same_device():
    d = g([1.0, 2.0], dev=1)
    for e in (copy.copy(d), copy.deepcopy(d), pickle.loads(pickle.dumps(d))):
        assert type(e) is GuardArray and e.device.id == 1 and e.tolist() == [1.0, 2.0]
        assert e._a is not d._a


def test_tensor_level_behaviour_on_guard():
    x = mg.randn(3, 4, device="guard", requires_grad=True)
    (x.exp() * 2).sum().backward()
    assert x.grad.device == "guard:0" and x.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * np.exp(x.detach().cpu().numpy()), 1e-6)
    with pytest.raises(TypeError, match="can't convert guard:0 device type tensor to numpy"):
        x.detach().numpy()
    assert "device='guard:0'" in repr(x)
