"""Shared fixtures: tiny random models built offline in seconds, and an isolated cache."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

VOCAB = Path(__file__).parent / "fixtures" / "vocab.txt"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


@pytest.fixture(autouse=True)
def fresh_accelerate_state():
    """accelerate's state is a process-wide singleton: one test's trainer (e.g. TRL's) must not
    decide the next test's precision or device."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.fixture(autouse=True)
def isolated_home(request, tmp_path_factory, monkeypatch) -> Path:
    """Every fast test gets its own empty $AUTOJUDGE_HOME; slow tests share the real cache so
    that the models are fetched once. Nothing may reach the Hugging Face hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if request.node.get_closest_marker("slow"):
        from autojudge.cache import home

        return home()
    home = tmp_path_factory.mktemp("autojudge-home")
    monkeypatch.setenv("AUTOJUDGE_HOME", str(home))
    return home


def tiny_tokenizer(special: list[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = special + VOCAB.read_text(encoding="utf-8").split()
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
    raw = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[UNK]", pad_token="[PAD]")


@pytest.fixture(scope="session")
def tiny_causal_lm_dir(tmp_path_factory) -> Path:
    """A 2-layer Llama with hidden size 16 and a word-level tokenizer, saved as a HF folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = tiny_tokenizer(["[PAD]", "[UNK]", "<|end|>", "<|user|>", "<|system|>",
                                "<|assistant|>"])
    tokenizer.eos_token = "<|end|>"
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    path = tmp_path_factory.mktemp("tiny-causal-lm")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """A 2-layer BERT with hidden size 16 and a word-level tokenizer, saved as a HF folder."""
    import torch
    from transformers import BertConfig, BertModel

    tokenizer = tiny_tokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tokenizer.cls_token, tokenizer.sep_token, tokenizer.mask_token = "[CLS]", "[SEP]", "[MASK]"
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                        num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=128)
    path = tmp_path_factory.mktemp("tiny-encoder")
    BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def tiny_causal_lm(tiny_causal_lm_dir):
    """A fresh copy per test (sentence-transformers' pattern): tests may change the weights."""
    return copy.deepcopy(_cached_policy(tiny_causal_lm_dir))


_POLICIES: dict[Path, object] = {}


def _cached_policy(path: Path):
    from autojudge.policy import load_policy

    if path not in _POLICIES:
        _POLICIES[path] = load_policy(path)
    return _POLICIES[path]


def make_wheel(dest: Path, package: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal valid wheel holding `files`, as pip download expects to find one."""
    dist = package.replace("-", "_")
    path = dest / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/METADATA",
                    f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                     "Tag: py3-none-any\n")
        zf.writestr(f"{info}/RECORD", "")
    return path


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_judge_dir(tmp_path_factory, tiny_encoder_dir) -> Path:
    """A default-style judge trained end to end on the fixture data with the tiny encoder."""
    import shutil

    from autojudge.config import load_config
    from autojudge.trainers.judges import train_judge
    from tests.data_fixtures import fake_sources

    home = tmp_path_factory.mktemp("judge-home")
    (home / "downloads").mkdir()
    for path in fake_sources(home):
        shutil.move(path, home / "downloads" / path.name)
    config = load_config("configs/tiny.yaml", [f"models.encoder={tiny_encoder_dir}"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOJUDGE_HOME", str(home))
        return train_judge(config, home / "judge")
