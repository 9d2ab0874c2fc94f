"""One tree of dataclasses for every setting, loaded from YAML with dotted command-line overrides."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml


class ConfigError(ValueError):
    """A configuration problem; the message names the key's dotted path."""


@dataclass
class ModelsConfig:
    policy: str = "smollm2-135m-instruct"
    """Policy to train or evaluate: a known model name (`autojudge models list`) or a local HF folder."""
    encoder: str = "all-minilm-l6-v2"
    """Base encoder the judges are fine-tuned from: a known model name or a local HF folder."""


@dataclass
class DataConfig:
    seed: int = 13
    """Seed for split assignment and sampling; the build is deterministic given it."""
    val_fraction: float = 0.1
    """Share of questions in the validation split."""
    test_fraction: float = 0.2
    """Share of questions in the test split."""
    abstentions_per_question: float = 0.25
    """Abstention pairs generated per question (fractional: a random share of questions get one)."""

    @property
    def train_fraction(self) -> float:
        return 1.0 - self.val_fraction - self.test_fraction


@dataclass
class GenerationConfig:
    max_new_tokens: int = 32
    """Longest answer the policy may write, in tokens."""
    min_new_tokens: int = 0
    """Shortest answer, in tokens: the end of the turn is not sampled before it (0: no floor;
    bench/ppo_speed.py sets it to max_new_tokens to compare trainers at one answer length)."""
    temperature: float = 0.7
    """Sampling temperature (0 means greedy) of PPO rollouts, warm-start and calibration samples.
    0.7, not 1.0: at 1.0 SmolLM2's samples are right so rarely (2.6% by the default judge) that
    PPO saw almost no positive reward and collapsed (accuracy 0.17 → 0.02 on 300 held-out
    questions, one run); at 0.7 the same recipe went 0.16 → 0.31 (100 questions, one run)."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    system_prompt: str = (
        "Answer the question briefly. If you do not know the answer, say \"I don't know\"."
    )
    """System message of the chat template the policy is prompted with."""


@dataclass
class RewardConfig:
    scheme: str = "ternary"
    """Reward scheme: ternary, expected or facts (`autojudge.rewards.SCHEMES`)."""
    correct: float = 1.0
    """R_correct: reward for a correct answer."""
    abstain: float = 0.0
    """R_abstain: reward for abstaining."""
    incorrect: float = -1.0
    """R_incorrect: reward for a fabricated (incorrect) answer."""
    length_weight: float = 0.0
    """Shaping: subtracted per word beyond `length_limit` (0 turns it off)."""
    length_limit: int = 40
    """Shaping: words an answer may use before the length term starts to count."""
    malformed_weight: float = 0.0
    """Shaping: subtracted when an answer is empty or leaks chat-template markup (0 turns it off)."""

    @property
    def threshold(self) -> float:
        """t*: answer iff P(correct) > t* = (R_abstain − R_incorrect) / (R_correct − R_incorrect)."""
        return (self.abstain - self.incorrect) / (self.correct - self.incorrect)


@dataclass
class PPOConfig:
    lr: float = 1e-5
    """Learning rate of the policy (and value head)."""
    steps: int = 24
    """PPO iterations (rollout + update)."""
    batch_size: int = 16
    """Questions per rollout."""
    kl_coef: float = 0.05
    """Coefficient of the per-token KL penalty to the reference policy."""
    clip_range: float = 0.2
    """PPO ratio clip."""
    epochs: int = 2
    """PPO epochs (passes over the rollout's minibatches) per step."""
    minibatch_size: int = 8
    """Sequences per gradient step, across all processes (divides batch_size)."""
    gamma: float = 1.0
    """Discount per token."""
    lam: float = 0.95
    """GAE lambda."""
    vf_coef: float = 0.1
    """Weight of the value loss beside the policy loss."""
    value_clip: float = 0.2
    """How far a value prediction may move from its rollout value before the loss clips it."""
    kl_estimator: Literal["k1", "k3"] = "k1"
    """Per-token KL estimator for the penalty: k1 = log p − log q, k3 = (q/p − 1) − log(q/p)."""
    adaptive_kl: bool = False
    """Adapt kl_coef towards kl_target (Ziegler et al.'s controller) instead of keeping it fixed."""
    kl_target: float = 6.0
    """Adaptive KL: target KL per answer (summed over its tokens), in nats."""
    kl_horizon: int = 10_000
    """Adaptive KL: samples over which the coefficient moves by at most 20 %."""
    early_stop_kl: float = 0.1
    """Stop a step's epochs once a minibatch's approximate KL(old ‖ new) exceeds this (0: never)."""
    max_grad_norm: float = 1.0
    """Gradient norm clip."""
    whiten_advantages: bool = True
    """Normalise advantages to zero mean and unit variance per rollout."""
    value_head: Literal["shared", "separate"] = "shared"
    """Value head on the policy's own trunk, or on a separate copy of it (a critic)."""
    lora: bool = False
    """Train LoRA adapters instead of all weights; the reference policy is the adapter turned off."""
    lora_r: int = 16
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA scaling numerator (scale = alpha / r)."""
    save_every: int = 10
    """Write a checkpoint (weights, optimizer, RNG) every this many steps (0: only at the end)."""
    seed: int = 0
    """Seed of question order, sampling and initialisation."""
    max_bad_steps: int = 3
    """Stop after this many steps in a row whose losses were all non-finite."""
    mixed_precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    """Precision of rollouts and updates: fp32, or accelerate's bf16/fp16 autocast (weights and
    optimizer stay fp32); auto = bf16 where the device computes it natively (a bf16 GPU, a CPU
    with AMX or AVX512-BF16), else fp32."""
    rollout_copy: bool = True
    """Under bf16, sample answers from a bf16 copy of the policy refreshed after every update
    (half the bytes read per token, no casting); costs one bf16 copy of the weights."""

    def __post_init__(self) -> None:
        if self.batch_size % self.minibatch_size:
            raise ConfigError(f"ppo.minibatch_size ({self.minibatch_size}) must divide "
                              f"ppo.batch_size ({self.batch_size})")


@dataclass
class WarmStartConfig:
    enabled: bool = True
    """Run the "I don't know" warm-start (R-Tuning style) before PPO in the default recipe."""
    questions: int = 128
    """Training questions the base policy is sampled on."""
    samples: int = 4
    """Answers sampled per question to tell what the policy knows."""
    right_at: float = 0.5
    """A question is known when at least this share of its samples is judged correct."""
    abstain_per_known: float = 2.0
    """At most this many "I don't know" examples per known question (the rest are dropped)."""
    min_abstain: int = 16
    """...but at least this many, if there are that many unknown questions."""
    abstention: str = "I don't know."
    """The answer taught for questions the policy gets wrong in every sample."""
    epochs: int = 2
    """Passes over the warm-start examples."""
    lr: float = 2e-5
    """Learning rate (AdamW, linear decay)."""
    batch_size: int = 8
    """Examples per step."""


@dataclass
class JudgeConfig:
    train_pairs: int = 20_000
    """Judge pairs (sampled from the train split) the comparison judge is fine-tuned on."""
    nli_pairs: int = 8_000
    """Entailment pairs the fact-overlap judge is fine-tuned on (half VitaminC, half QA)."""
    calibration_pairs: int = 4_000
    """Validation pairs the ensemble's calibration is fitted on."""
    eval_pairs: int = 6_000
    """Test pairs the model card's metrics are measured on (0: the whole test split)."""
    epochs: int = 1
    """Passes over the training pairs."""
    lr: float = 1e-4
    """Peak learning rate (linear warm-up and decay)."""
    batch_size: int = 32
    """Training batch size."""
    max_length: int = 128
    """Tokens per (question + reference, answer) pair; longer pairs are truncated."""
    quantize: bool = True
    """int8 dynamic quantisation of the judges' linear layers at inference (CPU)."""


@dataclass
class Config:
    models: ModelsConfig = field(default_factory=ModelsConfig)
    """Which models to use."""
    data: DataConfig = field(default_factory=DataConfig)
    """How data splits are built."""
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    """How the policy writes answers."""
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    """How the default judge is trained."""
    reward: RewardConfig = field(default_factory=RewardConfig)
    """Shaped reward for correct / abstain / incorrect."""
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)
    """The "I don't know" fine-tuning before PPO."""
    ppo: PPOConfig = field(default_factory=PPOConfig)
    """PPO hyper-parameters."""

    def __post_init__(self) -> None:
        if self.reward.correct <= self.reward.incorrect:
            raise ConfigError("reward.correct must be greater than reward.incorrect")
        if not 0.0 <= self.data.val_fraction + self.data.test_fraction < 1.0:
            raise ConfigError("data.val_fraction + data.test_fraction must lie in [0, 1)")
        if self.generation.max_new_tokens < 1:
            raise ConfigError("generation.max_new_tokens must be at least 1")
        if not 0 <= self.generation.min_new_tokens <= self.generation.max_new_tokens:
            raise ConfigError("generation.min_new_tokens must lie in "
                              "[0, generation.max_new_tokens]")


# --- loading -----------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads `1e-5` as a float (YAML 1.1 insists on `1.0e-5`)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def load_config(path: str | Path | None = None, overrides: typing.Sequence[str] = ()) -> Config:
    """Defaults, then the YAML file (if any), then `a.b=value` overrides; all validated."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (safe)
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of sections")
        data = loaded or {}
    for item in overrides:
        _apply_override(data, item)
    return from_dict(Config, data)


def _apply_override(data: dict[str, Any], item: str) -> None:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r} is not of the form key.path=value")
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{key}: {part!r} is a value, not a section")
        node = child
    node[parts[-1]] = yaml.load(raw, Loader=_Loader) if raw.strip() else ""


def from_dict(cls: type, data: Any, where: str = "") -> Any:
    """Build dataclass `cls` from a mapping, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        path = _join(where, unknown[0])
        raise ConfigError(f"unknown key {path!r}; known keys here: {', '.join(sorted(fields))}")
    kwargs = {name: _coerce(value, hints[name], _join(where, name)) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where or 'config'}: {err}") from None


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {_kind(value)} fits no type")
    if origin is Literal:
        if value not in typing.get_args(tp):
            choices = ", ".join(repr(a) for a in typing.get_args(tp))
            hint = (" (YAML reads an unquoted yes/no/on/off as a boolean)"
                    if isinstance(value, bool) else "")
            raise ConfigError(f"{where}: {value!r} is not one of {choices}{hint}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {_kind(value)}")
        (item_tp, *_) = typing.get_args(tp) or (Any,)
        items = [_coerce(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if tp is Any:
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str, bool) and (type(value) is tp):
        return value
    raise ConfigError(f"{where}: expected {tp.__name__}, got {_kind(value)}")


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, dict) else "a mapping"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


# --- saving ------------------------------------------------------------------------------------

def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def save_config(config: Any, path: str | Path) -> None:
    """Write the resolved config as YAML (next to checkpoints and model cards)."""
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False), encoding="utf-8")
