"""nn.utils.rnn (minigrad/nn/utils/rnn.py): pad_sequence, pack_padded_sequence,
pad_packed_sequence, pack_sequence, unpad/unpack and PackedSequence, against PyTorch, with
gradients through packing and padding."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.utils import rnn as ours

torch = pytest.importorskip("torch")
theirs = torch.nn.utils.rnn


def _same(a, b):
    np.testing.assert_array_equal(
        a.detach().numpy(), b.detach().numpy() if hasattr(b, "detach") else b
    )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side, rng):
    arrays = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    t = theirs.pad_sequence(
        [torch.tensor(a) for a in arrays], batch_first, -1.5, padding_side=padding_side
    )
    m = ours.pad_sequence([mg.tensor(a) for a in arrays], batch_first, -1.5, padding_side)
    assert m.shape == tuple(t.shape)
    _same(m, t)


def test_pad_sequence_errors_match_torch():
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        ours.pad_sequence([])
    with pytest.raises(RuntimeError, match="trailing shape"):
        ours.pad_sequence([mg.zeros(2, 3), mg.zeros(3, 4)])
    with pytest.raises(ValueError, match="padding_side"):
        ours.pad_sequence([mg.zeros(2)], padding_side="middle")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_and_pad_round_trip_match_torch(batch_first, enforce_sorted, as_tensor, rng):
    lengths = [4, 3, 3, 1] if enforce_sorted else [3, 4, 1, 3]
    x = rng.standard_normal((4, 4, 2))
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    t_len = torch.tensor(lengths) if as_tensor else lengths
    m_len = mg.tensor(lengths) if as_tensor else lengths
    tp = theirs.pack_padded_sequence(tx, t_len, batch_first, enforce_sorted)
    mp = ours.pack_padded_sequence(mx, m_len, batch_first, enforce_sorted)
    _same(mp.data, tp.data)
    assert mp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert mp.batch_sizes.dtype == mg.int64
    for a, b in [
        (mp.sorted_indices, tp.sorted_indices),
        (mp.unsorted_indices, tp.unsorted_indices),
    ]:
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()
    t_pad, t_out_len = theirs.pad_packed_sequence(tp, batch_first, 9.0, total_length=6)
    m_pad, m_out_len = ours.pad_packed_sequence(mp, batch_first, 9.0, total_length=6)
    assert m_pad.shape == tuple(t_pad.shape)
    _same(m_pad, t_pad)
    assert m_out_len.tolist() == t_out_len.tolist()
    w = rng.standard_normal(tuple(t_pad.shape))
    (t_pad * torch.tensor(w)).sum().backward()
    (m_pad * mg.tensor(w)).sum().backward()
    _same(mx.grad, tx.grad)


def test_packed_sequence_is_a_named_tuple_like_torchs(rng):
    mp = ours.pack_sequence([mg.tensor(rng.standard_normal((n, 2))) for n in (2, 3)], False)
    data, batch_sizes, sorted_indices, unsorted_indices = mp
    assert ours.PackedSequence._fields == theirs.PackedSequence._fields
    assert isinstance(mp, tuple) and mp.data is data
    assert sorted_indices.tolist() == [1, 0] and unsorted_indices.tolist() == [1, 0]
    assert mp.double().data.dtype == mg.float64 and mp.float().data.dtype == mg.float32
    assert mp.to(mg.float64).batch_sizes is batch_sizes
    assert not mp.is_cuda and not mp.is_pinned()
    rebuilt = ours.PackedSequence(data, batch_sizes, sorted_indices)
    assert rebuilt.unsorted_indices.tolist() == [1, 0]
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        ours.pack_sequence([mg.zeros(2, 1), mg.zeros(3, 1)])


def test_unpack_and_unpad_match_torch(rng):
    arrays = [rng.standard_normal((n, 2)) for n in (2, 4, 1)]
    t_packed = theirs.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    m_packed = ours.pack_sequence([mg.tensor(a) for a in arrays], enforce_sorted=False)
    for a, b in zip(ours.unpack_sequence(m_packed), theirs.unpack_sequence(t_packed)):
        _same(a, b)
    padded = rng.standard_normal((3, 4, 2))
    lengths = [4, 2, 1]
    t_parts = theirs.unpad_sequence(torch.tensor(padded), torch.tensor(lengths), batch_first=True)
    m_parts = ours.unpad_sequence(mg.tensor(padded), mg.tensor(lengths), batch_first=True)
    for a, b in zip(m_parts, t_parts):
        _same(a, b)


@pytest.mark.parametrize(
    "lengths,batch_first",
    [([4, 3, 0], False), ([2, 3, 1], False), ([2, 3], False), ([[2, 3, 1]], False)],
)
def test_pack_padded_sequence_errors_match_torch(lengths, batch_first):
    x = np.zeros((4, 3, 2))
    t_len = torch.tensor(lengths) if isinstance(lengths[0], list) else lengths
    m_len = mg.tensor(lengths) if isinstance(lengths[0], list) else lengths
    with pytest.raises(RuntimeError) as t_err:
        theirs.pack_padded_sequence(torch.tensor(x), t_len, batch_first)
    with pytest.raises(RuntimeError) as m_err:
        ours.pack_padded_sequence(mg.tensor(x), m_len, batch_first)
    assert (
        str(m_err.value).split(",")[0].split(" but")[0]
        == str(t_err.value).split(",")[0].split(" but")[0]
    )


def test_lengths_longer_than_the_input_are_refused():
    with pytest.raises(RuntimeError, match="longer than the padded input's 4 time steps"):
        ours.pack_padded_sequence(mg.zeros(4, 3, 2), [5, 3, 1])


def test_total_length_shorter_than_longest_is_refused(rng):
    mp = ours.pack_sequence([mg.zeros(3, 1), mg.zeros(2, 1)])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        ours.pad_packed_sequence(mp, total_length=2)


def test_reachable_as_torch_paths():
    import minigrad.nn as nn

    assert nn.utils.rnn.pad_sequence is ours.pad_sequence
    assert callable(nn.utils.clip_grad_norm_)
