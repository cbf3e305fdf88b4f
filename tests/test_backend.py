"""The backend layer: registry, transfers, default device, seeding, mg.cuda without a GPU, and
the CuPy adapters exercised on CPU stand-ins (CuPy itself is tested by the gpu-marked tests)."""

import contextlib
import platform
import resource
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend as B


def test_backend_of_and_for_device():
    assert B.backend_of(np.ones(2)) is B.numpy_backend
    assert B.backend_for_device(mg.device("cpu")) is B.numpy_backend
    guard = B.backend_for_device(mg.device("guard:1"))
    assert guard.name == "guard" and guard.xp.zeros(2).device.id == 1
    with pytest.raises(TypeError, match="no backend for arrays of type list"):
        B.backend_of([1, 2])


def test_to_device_round_trips_and_copies_across_devices():
    host = np.arange(4.0, dtype=np.float32)
    assert B.to_device(host, mg.device("cpu")) is host
    d0 = B.to_device(host, mg.device("guard"))
    assert B.backend_of(d0).device_of(d0) == "guard:0"
    d1 = B.to_device(d0, mg.device("guard:1"))
    assert d1.device.id == 1 and d1._a is not d0._a
    back = B.to_device(d1, mg.device("cpu"))
    assert type(back) is np.ndarray and back.dtype == np.float32
    np.testing.assert_array_equal(back, host)


def test_default_device_drives_factory_functions():
    assert mg.get_default_device() == "cpu" or mg.get_default_device().type != "cpu"
    before = mg.get_default_device()
    try:
        mg.set_default_device("guard")
        assert mg.get_default_device() == mg.device("guard", 0)
        for t in (mg.zeros(2), mg.ones(2, 3), mg.tensor([1.0]), mg.arange(3), mg.randn(2),
                  mg.rand(2), mg.randint(0, 3, (2,)), mg.randperm(3), mg.eye(2), mg.full((2,), 1.5),
                  mg.linspace(0, 1, 3)):  # fmt: skip
            assert t.device == "guard:0", t
        assert mg.zeros(2, device="cpu").device == "cpu"
        assert mg.tensor(mg.zeros(2, device="cpu")).device == "cpu"  # a tensor keeps its device
        mg.set_default_device(None)
        assert mg.get_default_device() == "cpu" and mg.zeros(1).device == "cpu"
    finally:
        mg.set_default_device(before)


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the behaviour without CUDA")
def test_cuda_api_without_a_gpu():
    assert mg.cuda.is_available() is False and mg.cuda.device_count() == 0
    mg.cuda.manual_seed(1)  # a no-op without CUDA, as in PyTorch
    mg.cuda.manual_seed_all(1)
    for call in (mg.cuda.synchronize, mg.cuda.current_device,
                 lambda: mg.set_default_device("cuda"), lambda: mg.zeros(2, device="cuda")):  # fmt: skip
        with pytest.raises(RuntimeError, match="CUDA is not available.*minigrad\\[cuda\\]"):
            call()


def test_manual_seed_reseeds_every_backend_and_later_ones():
    mg.manual_seed(11)
    a = mg.rand(4, device="cpu").numpy()
    g = mg.rand(4, device="guard").cpu().numpy()
    mg.manual_seed(11)
    np.testing.assert_array_equal(a, mg.rand(4, device="cpu").numpy())
    np.testing.assert_array_equal(g, mg.rand(4, device="guard").cpu().numpy())


def test_writeable_helper():
    assert B.writeable(np.ones(3)) and not B.writeable(np.broadcast_to(np.ones(1), (3,)))

    class NoFlag:  # shaped like CuPy: flags without `writeable`
        def __init__(self, shape, strides):
            self.flags, self.shape, self.strides = type("F", (), {})(), shape, strides

    assert B.writeable(NoFlag((3, 2), (16, 8))) and not B.writeable(NoFlag((3, 2), (0, 8)))
    assert B.writeable(NoFlag((1, 2), (0, 8)))  # a zero stride over a length-1 dim is harmless


def test_unindex_lands_on_the_gradients_dtype():
    out = B.numpy_backend.xp.unindex(np.ones(3, np.float32), (4,), (np.array([0, 0, 3]),))
    assert out.dtype == np.float32 and out.tolist() == [2.0, 0.0, 0.0, 1.0]
    out = B.numpy_backend.xp.unindex(np.ones(2, np.float32), (2, 2), (0,))
    assert out.tolist() == [[1.0, 1.0], [0.0, 0.0]]


# --- the CuPy adapters, on CPU stand-ins -------------------------------------------------------


class _FakeCupy:
    """Just what the adapters touch: cupy.argsort and cupy.cuda.Device as a context manager."""

    argsort = staticmethod(np.argsort)

    def __init__(self):
        self.current = 0
        fake = self

        class Device:
            def __init__(self, index):
                self.index = index

            def __enter__(self):
                self.previous, fake.current = fake.current, self.index

            def __exit__(self, *exc):
                fake.current = self.previous

        self.cuda = type("cuda", (), {"Device": Device})


def test_cupy_generator_adds_permutation():
    gen = B._CupyGenerator(np.random.default_rng(0), _FakeCupy())
    perm = gen.permutation(50)
    assert sorted(perm.tolist()) == list(range(50)) and perm.tolist() != list(range(50))
    assert gen.random(3, dtype=np.float32).dtype == np.float32  # the rest passes through


def test_namespace_bound_to_a_gpu_runs_calls_with_that_gpu_current():
    fake = _FakeCupy()
    seen = []
    ns = B.ArrayNamespace(
        np, zeros=lambda *a, **k: seen.append(fake.current) or np.zeros(*a, **k),
        rng=lambda: type("G", (), {"random": lambda self, n: seen.append(fake.current)})(),
    )  # fmt: skip
    bound = B._OnCudaDevice(ns, fake, 1)
    bound.zeros(2)
    bound.rng().random(3)
    assert seen == [1, 1] and fake.current == 0
    assert bound.float32 is np.float32  # types and constants pass through unwrapped


def test_device_context_helpers_are_context_managers():
    from minigrad import guard

    assert isinstance(guard.device(1), contextlib.AbstractContextManager)
    with guard.device("guard:1"):
        assert guard.current_device() == 1
    assert guard.current_device() == 0


_GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not _GLIBC, reason="the malloc settings are glibc's (Linux)")
def test_freed_array_memory_is_reused_instead_of_faulted_in_again():
    # what a training step does: temporaries of a few MB, freed and asked for again
    assert B.keep_freed_host_memory()
    sizes = [(1 << 20) // 4 * k for k in (1, 2, 3, 5, 8)]  # 1..8 MB of float32

    def step():
        arrays = [np.ones(n, dtype=np.float32) for n in sizes]
        del arrays

    step()  # the first step grows the heap
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    # fresh pages would be ~19 MB / 4 KiB = ~4,800 faults per round
    assert faults < 500, f"{faults} page faults: freed memory went back to the OS"


def test_guard_namespace_offers_only_what_cupy_has():
    from minigrad._cupy_api import CUPY_NAMES

    xp = B.backend_for_device(mg.device("guard")).xp
    # NumPy-only functions a CPU run would accept silently
    for name in ("errstate", "seterr", "vecdot", "insert", "geomspace"):
        assert name not in CUPY_NAMES["cupy"]
        with pytest.raises(AttributeError, match=f"numpy.{name} is NumPy-only"):
            getattr(xp, name)
    with pytest.raises(AttributeError, match="numpy.linalg.matrix_norm is NumPy-only"):
        _ = xp.linalg.matrix_norm
    with pytest.raises(AttributeError, match="snapshot .* does not cover cupy.polynomial"):
        _ = xp.polynomial.Polynomial
    assert xp.lib.stride_tricks.sliding_window_view(xp.zeros(4), 2).shape == (3, 2)
    # what CuPy has works, with its ufunc methods
    x = xp.arange(6.0).reshape(2, 3)
    assert float(xp.add.reduce(x, axis=None)) == 15.0
    assert float(xp.linalg.norm(x)) == pytest.approx(np.linalg.norm(np.arange(6.0)))
    assert "at" in CUPY_NAMES["ufunc"] and "reduce" in CUPY_NAMES["ufunc"]


def test_fused_runs_the_chain_as_written_or_hands_it_to_the_backends_fuse():
    def _scaled_tanh(xp, x, y):
        return 2.0 * xp.tanh(x) * y

    x, y = np.linspace(-1, 1, 5), np.arange(5.0)
    expected = 2.0 * np.tanh(x) * y
    np.testing.assert_array_equal(B.numpy_backend.xp.fused(_scaled_tanh)(x, y), expected)
    compiled = []

    def fake_fuse(fn, name):  # what cupy.fuse(kernel_name=name)(fn) receives
        compiled.append(name)
        return fn

    xp = B.ArrayNamespace(np, fuse=fake_fuse)
    assert xp.fused(_scaled_tanh) is xp.fused(_scaled_tanh)  # compiled once per namespace
    np.testing.assert_array_equal(xp.fused(_scaled_tanh)(x, y), expected)
    assert compiled == ["scaled_tanh"]
    # under create_graph the chain is recorded op by op, so it can be differentiated again
    from minigrad.ops import graph_namespace

    t = mg.tensor(x, requires_grad=True)
    out = graph_namespace.fused(_scaled_tanh)(t, mg.tensor(y))
    assert out.grad_fn is not None
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected)


def test_numpy_mean_var_std_of_empty_slices_are_nan_without_warnings():
    import warnings

    xp = B.numpy_backend.namespace(mg.device("cpu"))
    x = np.zeros((0, 3), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(xp.mean(x, axis=0)).all() and xp.mean(x, axis=0).dtype == np.float32
        assert np.isnan(xp.var(np.ones(1), ddof=1)) and np.isnan(xp.std(x))
    y = np.random.default_rng(0).normal(size=(3, 4))
    for axis in (None, 0, -1, (0, 1)):
        np.testing.assert_allclose(
            xp.mean(y, axis=axis, keepdims=True), y.mean(axis, keepdims=True)
        )
        np.testing.assert_allclose(xp.var(y, axis=axis, ddof=1), y.var(axis, ddof=1))
        np.testing.assert_allclose(xp.std(y, axis=axis), y.std(axis))
    assert xp.mean(np.arange(4)).dtype == np.float64
