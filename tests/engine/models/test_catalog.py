"""The model catalog: names, repos, files, quants."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpt2_adventure.engine.models import catalog
from gpt2_adventure.errors import UserError

CHECKPOINTS = {
    "gpt2": "openai-community/gpt2",
    "gpt2-medium": "openai-community/gpt2-medium",
    "gpt2-large": "openai-community/gpt2-large",
    "gpt2-xl": "openai-community/gpt2-xl",
    "distilgpt2": "distilbert/distilgpt2",
}


def test_default_model_is_gpt2_q8_0() -> None:
    entry = catalog.lookup(catalog.DEFAULT_MODEL)
    assert entry.name == "gpt2"
    assert catalog.DEFAULT_QUANT == "Q8_0"
    assert entry.filename() == "gpt2.Q8_0.gguf"
    assert entry.gguf_repo == "mradermacher/gpt2-GGUF"
    assert catalog.catalog()[0] is entry


@pytest.mark.parametrize(("name", "checkpoint"), CHECKPOINTS.items())
def test_every_gpt2_size_is_listed_with_its_official_checkpoint(name: str, checkpoint: str) -> None:
    entry = catalog.lookup(name)
    assert entry.checkpoint_repo == checkpoint
    assert entry.context_length == 1024
    assert entry.gguf_repo.endswith("-GGUF")


def test_catalog_has_the_five_sizes_then_the_ai_dungeon_2_model() -> None:
    entries = catalog.catalog()
    assert [e.name for e in entries][-1] == "aidungeon2"
    sizes = [e for e in entries if e.name in CHECKPOINTS]
    assert len(sizes) == len(CHECKPOINTS) == len(entries) - 1
    by_params = sorted(sizes, key=lambda e: e.parameters)
    expected = ["distilgpt2", "gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"]
    assert [e.name for e in by_params] == expected
    assert all(e.preset is None and e.source_quant is None for e in sizes)


def test_the_ai_dungeon_2_model_is_requantized_here_from_its_f16_gguf() -> None:
    entry = catalog.lookup("AIDungeon2")
    assert entry.description == "AI Dungeon 2 (2019): GPT-2 XL fine-tuned on text adventures"
    assert entry.parameters == 1_558_000_000 and entry.preset == "aidungeon2"
    assert entry.gguf_repo == "lukasstraub2/gpt2-aidungeon2-gguf"
    assert entry.checkpoint_repo == "lukasstraub2/gpt2-aidungeon2"
    assert entry.files == {} and entry.source_quant == "F16"  # its file is found by listing
    assert entry.normalize_quant(None) == "Q8_0"
    assert entry.filename() == "aidungeon2.Q8_0.gguf"
    assert entry.filename("f16") == "aidungeon2.F16.gguf"
    # One F16 download (~3.2 GB) whatever is kept; Q8_0 keeps gpt2-xl's ~1.75 GB.
    assert entry.download_size() == entry.download_size("Q4_K_M") == entry.size("F16")
    assert 3.1e9 < entry.size("F16") < 3.3e9 and 1.7e9 < entry.size() < 1.8e9
    assert entry.made_locally("Q8_0") and not entry.made_locally("F16")
    assert entry.listed == frozenset()  # every size is an estimate
    with pytest.raises(UserError, match="Q8_0"):
        entry.normalize_quant("Q5_K_M")
    gpt2 = catalog.lookup("gpt2")
    assert gpt2.download_size("Q4_K_M") == gpt2.size("Q4_K_M") and not gpt2.made_locally()


@pytest.mark.parametrize("entry", catalog.catalog(), ids=lambda e: e.name)
def test_files_follow_the_repo_naming_and_sizes_grow_with_bits(entry: catalog.Entry) -> None:
    assert {"Q8_0", "Q6_K", "Q4_K_M"} <= set(entry.quants)
    for quant, filename in entry.files.items():
        assert filename.lower() == f"{entry.name}.{quant}.gguf".lower()
    sizes = [entry.sizes[q] for q in ("Q4_K_M", "Q6_K", "Q8_0", "F16") if q in entry.sizes]
    assert sizes == sorted(sizes)
    assert sizes[0] > entry.parameters * 0.5  # at least ~4 bits per weight


@pytest.mark.parametrize("spelling", ["GPT2-Medium", " gpt2-medium ", "GPT2-MEDIUM"])
def test_lookup_ignores_case_and_spaces(spelling: str) -> None:
    assert catalog.lookup(spelling).name == "gpt2-medium"


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UserError) as caught:
        catalog.lookup("gpt3")
    message = str(caught.value)
    assert "gpt3" in message
    for name in CHECKPOINTS:
        assert name in message


@given(
    entry=st.sampled_from(catalog.catalog()),
    data=st.data(),
)
def test_quant_names_are_case_insensitive(entry: catalog.Entry, data: st.DataObject) -> None:
    quant = data.draw(st.sampled_from(entry.quants))
    flips = data.draw(st.lists(st.booleans(), min_size=len(quant), max_size=len(quant)))
    spelled = "".join(c.lower() if f else c.upper() for c, f in zip(quant, flips, strict=True))
    assert entry.normalize_quant(spelled) == quant
    assert entry.filename(spelled) == entry.filename(quant)
    assert entry.filename(spelled) == entry.files.get(quant, f"{entry.name}.{quant}.gguf")


def test_no_quant_means_the_default_and_an_unknown_one_is_refused() -> None:
    entry = catalog.lookup("gpt2-xl")
    assert entry.normalize_quant(None) == "Q8_0"
    with pytest.raises(UserError, match="Q8_0"):  # lists what exists
        entry.normalize_quant("Q2_K")


def test_entries_are_immutable() -> None:
    entry = catalog.lookup("gpt2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry.files["Q8_0"] = "evil.gguf"  # type: ignore[index]


def test_listed_sizes_are_the_repositories_and_the_rest_estimated() -> None:
    xl = catalog.lookup("gpt2-xl")
    assert xl.size("Q6_K") == 1_630_000_000 and xl.size_is_listed("Q6_K")
    assert xl.filename("F16") == "gpt2-xl.f16.gguf" and xl.size("F16") == 3_280_000_000
    distil = catalog.lookup("distilgpt2")
    assert distil.gguf_repo == "mradermacher/distilgpt2-GGUF"
    assert distil.filename("f16") == "distilgpt2.f16.gguf"
    assert {q: distil.size(q) for q in distil.quants} == {
        "Q8_0": 132_000_000, "Q6_K": 103_000_000, "Q4_K_M": 85_000_000, "F16": 244_000_000}
    gpt2 = catalog.lookup("gpt2")
    assert gpt2.size("Q4_K_M") == 113_000_000 and gpt2.size_is_listed("Q4_K_M")
    assert not gpt2.size_is_listed("Q6_K")  # estimated from Q8_0 by bits per weight
    assert 113_000_000 < gpt2.size("Q6_K") < gpt2.size("Q8_0")
