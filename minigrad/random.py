"""Random number generators with PyTorch's API: `mg.Generator`, `mg.default_generator`,
`manual_seed`, `seed`, `initial_seed`, `get_rng_state` / `set_rng_state` (`torch.random`).

A `Generator` owns one stream of random numbers on one device: on the CPU a NumPy PCG64
generator, on `guard` devices the guard stand-in's generator, on CUDA a CuPy generator made on
that GPU. `mg.default_generator` is the CPU stream that factory functions use when no
`generator=` is given; each GPU keeps its own default stream in the CuPy backend, and
`mg.manual_seed` reseeds them all, as `torch.manual_seed` does.

As in PyTorch, the default generator seeds itself from the operating system's entropy when
minigrad is imported, so unseeded runs differ from process to process (`initial_seed()` tells
the seed), and `manual_seed(s)` makes a run exactly reproducible. The streams are not
PyTorch's: minigrad draws with PCG64 (NumPy), PyTorch with MT19937 and its own transforms, so
the same seed gives different numbers in the two libraries.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from minigrad import backend as _backend
from minigrad.backend import Device

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
    "set_rng_state", "fork_rng",
]  # fmt: skip

# A fresh `torch.Generator()` starts from this seed (PyTorch's default_rng_seed_val).
DEFAULT_SEED = 67280421310721
_UINT64 = 1 << 64
_STATE_MAGIC = b"MGR1"  # version tag of the bytes get_state returns
_STATE_SIZE = len(_STATE_MAGIC) + 16 + 16 + 1 + 4 + 8


def _checked_seed(seed) -> int:
    """PyTorch's rule: any int in [-2**63, 2**64); negatives wrap to their uint64 value."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        if hasattr(seed, "__index__") and not isinstance(seed, bool):
            seed = seed.__index__()
        else:
            raise TypeError(f"manual_seed expected an int seed, got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed < _UINT64:
        raise RuntimeError(
            f"Overflow when unpacking long: seed must be within the range "
            f"[-0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff], got {seed}"
        )
    return seed % _UINT64


def _entropy_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")


def _numpy_of(rng):
    """The NumPy generator behind a backend generator (itself on the CPU, the guard's inner one),
    or None where the state lives elsewhere (CuPy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    inner = getattr(rng, "_rng", None)
    return inner if isinstance(inner, np.random.Generator) else None


class Generator:
    """A stream of random numbers on `device` (PyTorch's `torch.Generator`).

    `manual_seed(seed)` restarts it (and returns it), `seed()` restarts it from fresh entropy,
    `initial_seed()` tells the seed it last started from, `get_state()` / `set_state(state)` save
    and restore its exact position as a uint8 tensor (CPU and guard generators). Pass it as
    `generator=` to `mg.rand`, `randn`, `randint`, `randperm`, `multinomial`, `normal`, the
    in-place samplers (`Tensor.normal_`, `uniform_`, ...), `nn.init` functions, samplers,
    `DataLoader` and `random_split`; its device must be the device the numbers are drawn on.
    """

    def __init__(self, device: str | Device = "cpu"):
        device = device if isinstance(device, Device) else Device(device)
        self._device = _backend._concrete(device)
        if self._device.type != "cpu":
            _backend.backend_for_device(self._device)  # fails clearly without CUDA
        self._initial_seed = DEFAULT_SEED
        self._rng = _backend.new_generator(self._device, DEFAULT_SEED)

    @property
    def device(self) -> Device:
        return self._device if self._device.type != "cpu" else Device("cpu")

    def manual_seed(self, seed: int) -> Generator:
        seed = _checked_seed(seed)
        self._reseed(seed)
        self._initial_seed = seed
        return self

    def _reseed(self, seed: int) -> None:
        inner = _numpy_of(self._rng)
        if inner is not None:  # in place: whoever holds the NumPy generator sees the new stream
            inner.bit_generator.state = np.random.PCG64(seed).state
        else:
            self._rng = _backend.new_generator(self._device, seed)

    def seed(self) -> int:
        """Restart from a non-deterministic seed; return it."""
        seed = _entropy_seed()
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self):
        """The generator's exact position, as a uint8 tensor that `set_state` takes back."""
        from minigrad.tensor import Tensor

        state = self._numpy_state().bit_generator.state
        inner = state["state"]
        data = (
            _STATE_MAGIC
            + int(inner["state"]).to_bytes(16, "little")
            + int(inner["inc"]).to_bytes(16, "little")
            + bytes([int(state["has_uint32"])])
            + int(state["uinteger"]).to_bytes(4, "little")
            + self._initial_seed.to_bytes(8, "little")
        )
        return Tensor._make(np.frombuffer(data, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        from minigrad.tensor import Tensor

        if not isinstance(new_state, Tensor) or new_state.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor (a uint8 tensor)")
        data = new_state._host().tobytes()
        if len(data) != _STATE_SIZE or not data.startswith(_STATE_MAGIC):
            raise RuntimeError(
                f"Expected a minigrad generator state of size {_STATE_SIZE} (as get_state "
                f"returns) but found the input RNG state size to be {len(data)}"
                + ("" if len(data) != _STATE_SIZE else " with an unknown header")
            )
        numbers = data[len(_STATE_MAGIC) :]
        state = {
            "bit_generator": "PCG64",
            "state": {
                "state": int.from_bytes(numbers[0:16], "little"),
                "inc": int.from_bytes(numbers[16:32], "little"),
            },
            "has_uint32": numbers[32],
            "uinteger": int.from_bytes(numbers[33:37], "little"),
        }
        self._numpy_state().bit_generator.state = state
        self._initial_seed = int.from_bytes(numbers[37:45], "little")
        return self

    def _numpy_state(self) -> np.random.Generator:
        inner = _numpy_of(self._rng)
        if inner is None:
            raise RuntimeError(
                f"get_state/set_state are not supported for {self._device} generators in "
                "minigrad: CuPy keeps a generator's state on the GPU with no way to read it; "
                "restart the stream with manual_seed(seed) instead"
            )
        return inner

    def _draws_for(self, device: Device):
        """The backend generator to draw numbers for `device` with (checking the device)."""
        device = _backend._concrete(device)
        if device != self._device:
            raise RuntimeError(
                f"Expected a '{device}' device type for generator but found '{self.device}'"
            )
        return self._rng

    def __repr__(self) -> str:
        return f"<minigrad.Generator object on {self.device}>"

    def __reduce__(self):
        raise TypeError("minigrad.Generator is not picklable: save get_state() instead")


def _default_cpu_generator() -> Generator:
    generator = object.__new__(Generator)
    generator._device = _backend.CPU
    generator._rng = _backend.numpy_rng()  # the very generator CPU factory functions draw from
    generator._initial_seed = _backend.initial_seed()
    return generator


default_generator = _default_cpu_generator()


def draws(generator, device: Device):
    """What a sampling function draws from: `generator`'s stream for `device`, or the device's
    default stream when None. A NumPy `Generator` is accepted too (minigrad's older spelling)."""
    if generator is None:
        return _backend.backend_for_device(device).xp.rng()
    if isinstance(generator, Generator):
        return generator._draws_for(device)
    if isinstance(generator, np.random.Generator) and device.type == "cpu":
        return generator
    raise TypeError(
        f"generator must be a minigrad.Generator (or None), got {type(generator).__name__}"
    )


def manual_seed(seed: int) -> Generator:
    """Seed every device's default generator (CPU, every GPU, guard); return the CPU one."""
    seed = _checked_seed(seed)
    _backend.manual_seed(seed)
    default_generator._initial_seed = seed
    return default_generator


def seed() -> int:
    """Seed every default generator from fresh entropy; return the seed."""
    s = _entropy_seed()
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed the CPU default generator last started from."""
    return default_generator.initial_seed()


def get_rng_state():
    """The CPU default generator's state (a uint8 tensor)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(
    devices=None,
    enabled: bool = True,
    _caller: str = "fork_rng",
    _devices_kw: str = "devices",
    device_type: str | None = None,
):
    """Restore the CPU default generator's state when the block ends (`torch.random.fork_rng`;
    also a decorator). GPU streams are not saved (CuPy exposes no state): `devices` must be
    empty or None."""
    if devices:
        raise RuntimeError(
            f"{_caller} cannot save GPU generator states in minigrad (CuPy exposes none); "
            f"pass {_devices_kw}=[] or None"
        )
    if not enabled:
        yield
        return
    saved = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(saved)
