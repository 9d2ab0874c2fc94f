"""bench/encoders.py: input lengths are counted untruncated against the judge's window, and a
judge folder names the base encoder it was trained from."""

import sys
from pathlib import Path
from types import SimpleNamespace

from transformers import AutoTokenizer

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

import encoders  # noqa: E402

from autojudge.config import load_config  # noqa: E402
from autojudge.types import Record  # noqa: E402


def test_input_lengths_count_past_the_window(tiny_encoder_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    items = [Record(question="q " * n, reference=["r"], answer="a") for n in (1, 2, 40, 80)]
    lengths = [len(x) for x in tokenizer(*encoders.pair_texts(items))["input_ids"]]
    window = sorted(lengths)[1]  # two of the four inputs are longer
    got = encoders.input_lengths(SimpleNamespace(tokenizer=tokenizer, max_length=window), items)
    assert got["n"] == 4 and got["window"] == window
    assert got["max"] == max(lengths) > window  # counted, not cut at the window
    assert got["over_window"] == 0.5
    assert got["median"] == sorted(lengths)[1] / 2 + sorted(lengths)[2] / 2


def test_encoder_of_reads_the_judge_folder(tiny_judge_dir, tiny_encoder_dir):
    config = load_config()
    assert encoders.encoder_of(str(tiny_judge_dir), config) == str(tiny_encoder_dir)
    assert encoders.encoder_of("default", config) == config.models.encoder
