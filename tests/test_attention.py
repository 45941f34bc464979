"""coursekit.attention matches PyTorch's kernels and MiniLM's own attention, and rejects bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from coursekit import attention as A

DTYPES = [torch.float32, torch.float64]
SHAPES = [(1, 3, 4), (2, 5, 8), (3, 7, 16)]  # (batch, seq, d)


def _qkv(shape, dtype, seed=0, d_v=None):
    gen = torch.Generator().manual_seed(seed)
    b, n, d = shape
    q = torch.randn(b, n, d, generator=gen, dtype=dtype)
    k = torch.randn(b, n, d, generator=gen, dtype=dtype)
    v = torch.randn(b, n, d_v or d, generator=gen, dtype=dtype)
    return q, k, v


def _lengths_mask(lengths, n):
    return (torch.arange(n)[None, :] < torch.tensor(lengths)[:, None]).long()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("masking", ["none", "causal", "padding", "both", "float"])
def test_matches_torch_sdpa(dtype, shape, masking):
    q, k, v = _qkv(shape, dtype, d_v=shape[2] + 2)
    b, n, _ = shape
    pad = _lengths_mask([max(1, n - i) for i in range(b)], n)
    mask = None
    if masking == "causal":
        mask = A.causal_mask(n)
    elif masking == "padding":
        mask = A.padding_mask(pad)
    elif masking == "both":
        mask = A.combine_masks(A.causal_mask(n), A.padding_mask(pad))
    elif masking == "float":
        mask = torch.zeros(b, 1, n, dtype=dtype).masked_fill(A.padding_mask(pad) == 0, -1e9)
    out, weights = A.scaled_dot_product_attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out.dtype == dtype and out.shape == (b, n, shape[2] + 2)
    assert weights.shape == (b, n, n)
    assert (out - ref).abs().max().item() <= 1e-5
    torch.testing.assert_close(weights.sum(-1), torch.ones(b, n, dtype=dtype))
    if mask is not None and mask.dtype == torch.bool:
        assert (weights.masked_select(~mask.expand_as(weights)) == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_four_dimensional_heads_and_is_causal(dtype):
    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 4, 6, 8, generator=gen, dtype=dtype) for _ in range(3))
    out, _ = A.scaled_dot_product_attention(q, k, v, A.causal_mask(6))
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert (out - ref).abs().max().item() <= 1e-5


def test_cross_attention_different_lengths():
    gen = torch.Generator().manual_seed(2)
    q = torch.randn(2, 3, 8, generator=gen)
    k = torch.randn(2, 5, 8, generator=gen)
    v = torch.randn(2, 5, 4, generator=gen)
    out, w = A.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 4) and w.shape == (2, 3, 5)
    assert (out - F.scaled_dot_product_attention(q, k, v)).abs().max() <= 1e-5


def test_tiny_example_by_hand():
    # one query that matches the second key exactly: most weight goes there
    q = torch.tensor([[0.0, 4.0]])
    k = torch.tensor([[4.0, 0.0], [0.0, 4.0]])
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out, w = A.scaled_dot_product_attention(q, k, v)
    s = 16 / math.sqrt(2)
    expected = torch.tensor([[1 / (1 + math.exp(s)), 1 / (1 + math.exp(-s))]])
    torch.testing.assert_close(w, expected)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("d_model", "heads", "n"), [(8, 2, 5), (16, 4, 7), (12, 3, 1)])
@pytest.mark.parametrize("masking", ["none", "padding", "causal", "both"])
def test_multihead_matches_torch(dtype, d_model, heads, n, masking):
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(d_model, heads, batch_first=True, dtype=dtype).eval()
    mine = A.MultiHeadAttention.from_torch(ref).eval()
    assert A.count_parameters(mine) == A.count_parameters(ref) == 4 * d_model**2 + 4 * d_model
    x = torch.randn(3, n, d_model, dtype=dtype)
    pad = _lengths_mask([n, max(1, n - 1), max(1, n - 2)], n)
    use_pad = masking in {"padding", "both"}
    causal = masking in {"causal", "both"}
    with torch.no_grad():
        out, w = mine(x, attention_mask=pad if use_pad else None, causal=causal)
        ref_out, ref_w = ref(
            x,
            x,
            x,
            key_padding_mask=(pad == 0) if use_pad else None,
            attn_mask=~A.causal_mask(n) if causal else None,
            average_attn_weights=False,
        )
    assert out.dtype == dtype and w.shape == (3, heads, n, n)
    assert (out - ref_out).abs().max().item() <= 1e-5
    assert (w - ref_w).abs().max().item() <= 1e-5


def test_split_merge_roundtrip():
    x = torch.arange(2 * 3 * 8, dtype=torch.float32).view(2, 3, 8)
    heads = A.split_heads(x, 4)
    assert heads.shape == (2, 4, 3, 2)
    assert torch.equal(heads[0, 1, 2], x[0, 2, 2:4])
    assert torch.equal(A.merge_heads(heads), x)


def test_stable_softmax():
    x = torch.tensor([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0]])
    got = A.stable_softmax(x)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, torch.softmax(x, -1))
    naive = torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)
    assert torch.isnan(naive[0]).any()  # what the max-subtraction prevents
    blocked = A.stable_softmax(torch.full((1, 3), float("-inf")))
    assert torch.equal(blocked, torch.zeros(1, 3))


def test_masks():
    assert A.causal_mask(3).int().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    pm = A.padding_mask(torch.tensor([[1, 1, 0]]))
    assert pm.shape == (1, 1, 3) and pm.tolist() == [[[True, True, False]]]
    assert A.padding_mask(torch.tensor([[1, 0]]), heads=True).shape == (1, 1, 1, 2)
    assert A.combine_masks(None, None) is None


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((torch.ones(2, 3, 4), torch.ones(2, 3, 5), torch.ones(2, 3, 4)), "same last dimension"),
        ((torch.ones(2, 3, 4), torch.ones(1, 3, 4), torch.ones(1, 3, 4)), "batch/head"),
        ((torch.ones(2, 3, 4), torch.ones(2, 3, 4), torch.ones(2, 2, 4)), "k (2, 3, 4) and v"),
        ((torch.ones(4), torch.ones(2, 3, 4), torch.ones(2, 3, 4)), "at least 2 dimensions"),
    ],
)
def test_bad_shapes_raise_clear_errors(args, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        A.scaled_dot_product_attention(*args)


def test_bad_mask_raises_clear_error():
    q = torch.ones(2, 3, 4)
    with pytest.raises(
        ValueError, match=r"mask of shape \(4, 4\) does not broadcast .* \(2, 3, 3\)"
    ):
        A.scaled_dot_product_attention(q, q, q, A.causal_mask(4))
    # a per-head padding mask on head-less scores would silently broadcast to (2, 2, 3, 3)
    with pytest.raises(ValueError, match=r"\(2, 1, 1, 3\)"):
        A.scaled_dot_product_attention(q, q, q, A.padding_mask(torch.ones(2, 3), heads=True))
    with pytest.raises(ValueError, match="bool"):
        A.scaled_dot_product_attention(q, q, q, torch.ones(3, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="torch.Tensor"):
        A.scaled_dot_product_attention([[1.0]], q, q)
    with pytest.raises(ValueError, match="positive int"):
        A.causal_mask(0)
    with pytest.raises(ValueError, match=r"\(batch, seq\)"):
        A.padding_mask(torch.ones(3))
    mha = A.MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"attention_mask should be \(batch, n_k\) = \(1, 3\)"):
        mha(torch.ones(1, 3, 8), attention_mask=torch.ones(1, 4))
    with pytest.raises(ValueError, match=r"query should be \(batch, seq, 8\)"):
        mha(torch.ones(1, 3, 6))
    with pytest.raises(ValueError, match="divisible"):
        A.MultiHeadAttention(10, 3)


def test_minilm_layer_attention_reproduced():
    from transformers import AutoModel, AutoTokenizer

    from coursekit.env import minilm_path

    path = minilm_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager")
    enc = tok(
        ["The strap is not sturdy, but the colour is lovely.", "Great fit!"],
        return_tensors="pt",
        padding=True,
    )
    with torch.no_grad():
        ref = model(**enc, output_attentions=True).attentions
    for layer in (0, 5):
        mine = A.bert_attention_probs(model, enc, layer=layer)
        assert mine.shape == ref[layer].shape == (2, 12, enc["input_ids"].shape[1], mine.shape[-1])
        assert (mine - ref[layer]).abs().max().item() <= 1e-5
    # padding keys get no weight
    assert mine[1, :, :, enc["attention_mask"][1] == 0].abs().max() == 0
    with pytest.raises(ValueError, match="out of range"):
        A.bert_attention_probs(model, enc, layer=6)


def test_cost_helpers():
    assert A.time_attention(16, d_model=16, n_heads=2, repeats=1) > 0
    hand = [A.attention_memory(n, d_model=16, n_heads=2) for n in (32, 64)]
    fused = [A.attention_memory(n, d_model=16, n_heads=2, impl="sdpa") for n in (32, 64)]
    assert hand[1] / hand[0] > 3.0  # quadratic: doubling n ~ quadruples memory
    assert fused[1] / fused[0] < 2.5  # linear
    with pytest.raises(ValueError, match="impl"):
        A.time_attention(8, impl="flash")
