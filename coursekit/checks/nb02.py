"""Checks for notebook 02 (tokenization): one BPE merge step, padding + mask, offsets."""

from __future__ import annotations

from typing import Any

from coursekit.checks import (
    CheckFailed,
    call,
    exercise,
    expect,
    expect_type,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
)


def _as_list_rows(value: Any, name: str) -> list[list[int]]:
    if hasattr(value, "tolist"):
        value = value.tolist()
    expect_type(value, (list, tuple), name)
    rows = []
    for row in value:
        if hasattr(row, "tolist"):
            row = row.tolist()
        expect_type(row, (list, tuple), f"each row of {name}")
        try:
            rows.append([int(x) for x in row])
        except (TypeError, ValueError):
            raise CheckFailed(f"`{name}` should hold integers") from None
    return rows


@exercise(
    "02.1",
    "one BPE merge step",
    hint=(
        "Two passes: count every adjacent pair over the vocabulary (a word seen 5 times counts 5 times), then rewrite every word with the winning pair merged.",
        "When rewriting, scan each word left to right, merge a matching pair as soon as you meet it and skip past both symbols; a tie in the counts goes to the pair that max() meets first.",
    ),
)
def bpe_merge_step(merge_step: Any) -> str:
    from coursekit.tokenization import merge_pair, pair_counts

    cases = [
        {("l", "o", "w"): 5, ("l", "o", "w", "e", "r"): 2, ("n", "e", "w", "e", "s", "t"): 6},
        {("a", "a", "a"): 4, ("b", "a"): 3},  # overlapping pair: "aaa" -> ("aa", "a")
        {("h", "u", "g"): 10, ("p", "u", "g"): 5, ("p", "u", "n"): 12, ("b", "u", "n"): 4},
        {("lo", "w"): 3, ("lo", "w", "e", "r"): 2, ("w", "e"): 1},  # tokens already merged
    ]
    for words in cases:
        counts = pair_counts(words)
        want_pair = max(counts, key=counts.get)
        want_words = merge_pair(words, want_pair)
        got = call(merge_step, dict(words), name="merge_step")
        expect_type(got, tuple, "merge_step(words)")
        expect(len(got) == 2, "`merge_step` should return a pair: (best_pair, new_words)")
        pair, new_words = got
        if isinstance(pair, list):
            pair = tuple(pair)
        expect_type(pair, tuple, "the best pair")
        if pair != want_pair:
            unweighted: dict[tuple[str, str], int] = {}
            for w in words:
                for p in zip(w, w[1:], strict=False):
                    unweighted[p] = unweighted.get(p, 0) + 1
            if pair == max(unweighted, key=unweighted.get):
                raise CheckFailed(
                    f"you picked {pair} by counting each word once; weight each pair by the "
                    f"word's count (expected {want_pair})"
                )
            raise CheckFailed(f"for {words} the most frequent pair is {want_pair}, not {pair}")
        expect_type(new_words, dict, "new_words")
        if new_words != want_words:
            bad = next((w for w in want_words if w not in new_words), None)
            raise CheckFailed(
                f"after merging {want_pair}, expected words {want_words}, got {new_words}"
                + (f" (missing {bad})" if bad else "")
            )
    return "Repeat it and you have BPE training."


@exercise(
    "02.2",
    "right padding and attention mask",
    hint=(
        "Every row must end up as long as the longest one (after truncating to max_length), and the mask says which positions are real.",
        "Right padding appends pad_id at the end of each short row; the mask holds 1 for each real token and 0 for each pad.",
    ),
)
def pad_and_mask(fn: Any) -> None:
    from coursekit.tokenization import pad_batch

    cases = [
        ([[5, 6, 7], [8]], 0, None),
        ([[1, 2, 3, 4, 5], [6, 7], [9]], 0, 3),
        ([[42, 0], [7]], 0, None),  # a real token with the pad id (GPT-2: eos == pad)
        ([[3]], 1, None),
    ]
    for seqs, pad_id, max_length in cases:
        want_ids, want_mask = pad_batch(seqs, pad_id, max_length)
        got = call(fn, [list(s) for s in seqs], pad_id, max_length, name="pad_and_mask")
        expect_type(got, tuple, "pad_and_mask(...)")
        expect(len(got) == 2, "`pad_and_mask` should return (input_ids, attention_mask)")
        ids = _as_list_rows(got[0], "input_ids")
        mask = _as_list_rows(got[1], "attention_mask")
        args = f"sequences={seqs}, pad_id={pad_id}, max_length={max_length}"
        if ids != want_ids:
            left = [
                [pad_id] * (len(w) - len(s[: max_length or None])) + s[: max_length or None]
                for s, w in zip(seqs, want_ids, strict=False)
            ]
            expect(ids != left, f"for {args} you padded on the left; pad on the right")
            raise CheckFailed(f"for {args} expected input_ids {want_ids}, got {ids}")
        if mask != want_mask:
            inverted = [[1 - m for m in row] for row in want_mask]
            expect(mask != inverted, "your mask is inverted: 1 marks real tokens, 0 marks padding")
            by_id = [[int(t != pad_id) for t in row] for row in want_ids]
            expect(
                mask != by_id,
                f"for {args} you built the mask by comparing ids with pad_id, so a real token "
                f"with that id is hidden; use the lengths (expected {want_mask})",
            )
            raise CheckFailed(f"for {args} expected attention_mask {want_mask}, got {mask}")


@exercise(
    "02.3",
    "tokens covering a character span",
    hint=(
        "A token covers the span when their character ranges overlap at all; special tokens have an empty range.",
        "With a token's offsets (a, b) and the span [start, end), they overlap when a < end and b > start; skip tokens whose range is empty.",
    ),
)
def covering_tokens(fn: Any) -> None:
    offsets = [(0, 0), (0, 3), (3, 8), (9, 13), (14, 20), (20, 21), (0, 0)]
    # text: "The zipper broke quickly." -> "The", " zipper"... with trimmed offsets
    cases = [
        ((4, 8), [2]),  # inside one token
        ((0, 8), [1, 2]),
        ((5, 15), [2, 3, 4]),  # partial overlaps count
        ((8, 9), []),  # the space between tokens
        ((14, 21), [4, 5]),
        ((0, 0), []),
    ]
    for (start, end), want in cases:
        got = call(fn, list(offsets), start, end, name="covering_tokens")
        if hasattr(got, "tolist"):
            got = got.tolist()
        expect_type(got, (list, tuple), f"covering_tokens(offsets, {start}, {end})")
        got = [int(i) for i in got]
        if got != want:
            if 0 in got or 6 in got:
                raise CheckFailed(
                    f"for span ({start}, {end}) you included a special token (offset (0, 0)); skip them"
                )
            raise CheckFailed(
                f"for span ({start}, {end}) expected token indices {want}, got {got} "
                f"(offsets {offsets})"
            )
