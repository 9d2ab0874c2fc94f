"""One tree of dataclasses for every setting, loaded from YAML with dotted command-line overrides."""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml


if typing.TYPE_CHECKING:
    from _typeshed import DataclassInstance

_T = typing.TypeVar("_T", bound="DataclassInstance")


class ConfigError(ValueError):
    """A configuration problem; the message names the key's dotted path."""


@dataclass(frozen=True)
class Range:
    """The values a numeric field allows: a lower and an upper bound (None: unbounded), each
    inclusive or exclusive (floats must be finite as well)."""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = self.lo is None or value > self.lo or (value == self.lo and not self.lo_open)
        below = self.hi is None or value < self.hi or (value == self.hi and not self.hi_open)
        return above and below

    def __str__(self) -> str:
        if self.lo is not None and self.hi is not None:
            left = "(" if self.lo_open else "["
            right = ")" if self.hi_open else "]"
            return f"in {left}{self.lo:g}, {self.hi:g}{right}"
        if self.lo is not None:
            return f"{'>' if self.lo_open else '>='} {self.lo:g}"
        if self.hi is not None:
            return f"{'<' if self.hi_open else '<='} {self.hi:g}"
        return "any finite number"


def ranged(default: Any, *, gt: float | None = None, ge: float | None = None,
           lt: float | None = None, le: float | None = None) -> Any:
    """A numeric field and the range `from_dict` holds it to (its docstring says the same)."""
    lo = gt if gt is not None else ge
    hi = lt if lt is not None else le
    return field(default=default,
                 metadata={"range": Range(lo, hi, lo_open=gt is not None, hi_open=lt is not None)})


@dataclass
class ModelsConfig:
    policy: str = "smollm2-135m-instruct"
    """Policy to train or evaluate: a known model name (`autojudge models list`) or a local HF folder."""
    encoder: str = "all-minilm-l6-v2"
    """Base encoder the judges are fine-tuned from: a known model name or a local HF folder."""
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    """Precision the policy's weights are loaded in, whatever its checkpoint holds: float32
    (master weights and optimizer in fp32, with `ppo.mixed_precision` autocast on top), or
    bfloat16 / float16 weights throughout (half the memory, coarser updates)."""


@dataclass
class DataConfig:
    seed: int = ranged(13, ge=0)
    """Seed for split assignment and sampling (>= 0); the build is deterministic given it."""
    val_fraction: float = ranged(0.1, ge=0, lt=1)
    """Share of questions in the validation split, in [0, 1)."""
    test_fraction: float = ranged(0.2, ge=0, lt=1)
    """Share of questions in the test split, in [0, 1)."""
    abstentions_per_question: float = ranged(0.25, ge=0)
    """Abstention pairs generated per question (>= 0; fractional: a random share get one)."""

    @property
    def train_fraction(self) -> float:
        return 1.0 - self.val_fraction - self.test_fraction


@dataclass
class GenerationConfig:
    max_new_tokens: int = ranged(32, ge=1)
    """Longest answer the policy may write, in tokens (>= 1)."""
    min_new_tokens: int = ranged(0, ge=0)
    """Shortest answer, in tokens (>= 0, at most max_new_tokens): the end of the turn is not
    sampled before it (0: no floor; bench/ppo_speed.py sets it to max_new_tokens to compare
    trainers at one answer length)."""
    temperature: float = ranged(0.7, gt=0)
    """Sampling temperature (> 0; greedy answers take no temperature) of PPO rollouts, warm-start
    and calibration samples.
    0.7, not 1.0: at 1.0 SmolLM2's samples are right so rarely (2.6% by the default judge) that
    PPO saw almost no positive reward and collapsed (accuracy 0.17 → 0.02 on 300 held-out
    questions, one run); at 0.7 the same recipe went 0.16 → 0.31 (100 questions, one run)."""
    top_p: float = ranged(1.0, gt=0, le=1)
    """Nucleus sampling mass, in (0, 1]."""
    system_prompt: str = (
        "Answer the question briefly. If you do not know the answer, say \"I don't know\"."
    )
    """System message of the chat template the policy is prompted with."""


@dataclass
class RewardConfig:
    scheme: str = "ternary"
    """Reward scheme: ternary, expected or facts (`autojudge.rewards.SCHEMES`)."""
    correct: float = ranged(1.0)
    """R_correct: reward for a correct answer (any finite number above R_incorrect)."""
    abstain: float = ranged(0.0)
    """R_abstain: reward for abstaining (any finite number; at or above R_correct it warns)."""
    incorrect: float = ranged(-1.0)
    """R_incorrect: reward for a fabricated (incorrect) answer (any finite number)."""
    length_weight: float = ranged(0.0, ge=0)
    """Shaping: subtracted per word beyond `length_limit` (>= 0; 0 turns it off)."""
    length_limit: int = ranged(40, ge=0)
    """Shaping: words an answer may use before the length term starts to count (>= 0)."""
    malformed_weight: float = ranged(0.0, ge=0)
    """Shaping: subtracted when an answer is empty or leaks chat-template markup (>= 0; 0: off)."""

    @property
    def threshold(self) -> float:
        """t*: answer iff P(correct) > t* = (R_abstain − R_incorrect) / (R_correct − R_incorrect)."""
        return (self.abstain - self.incorrect) / (self.correct - self.incorrect)


@dataclass
class PPOConfig:
    lr: float = ranged(1e-5, gt=0)
    """Learning rate of the policy and value head (> 0)."""
    steps: int = ranged(24, ge=1)
    """PPO iterations, each a rollout and an update (>= 1)."""
    batch_size: int = ranged(16, ge=1)
    """Answers per rollout (>= 1): batch_size / group_size questions, group_size answers each."""
    group_size: int = ranged(4, ge=1)
    """Answers sampled per question (>= 1; divides batch_size). Above 1, each answer's score is
    taken relative to the mean score of the other answers to its question (a leave-one-out
    baseline, as in RLOO), so the update learns per question whether answering or declining
    pays."""
    kl_coef: float = ranged(0.05, ge=0)
    """Coefficient of the per-token KL penalty to the reference policy (>= 0)."""
    clip_range: float = ranged(0.2, gt=0)
    """PPO ratio clip (> 0)."""
    epochs: int = ranged(2, ge=1)
    """PPO epochs (passes over the rollout's minibatches) per step (>= 1)."""
    minibatch_size: int = ranged(8, ge=1)
    """Sequences per gradient step, across all processes (>= 1; divides batch_size)."""
    gamma: float = ranged(1.0, ge=0, le=1)
    """Discount per token, in [0, 1]."""
    lam: float = ranged(0.95, ge=0, le=1)
    """GAE lambda, in [0, 1]."""
    vf_coef: float = ranged(0.1, ge=0)
    """Weight of the value loss beside the policy loss (>= 0)."""
    value_clip: float = ranged(0.2, gt=0)
    """How far a value prediction may move from its rollout value before the loss clips it (> 0)."""
    kl_estimator: Literal["k1", "k3"] = "k1"
    """Per-token KL estimator for the penalty: k1 = log p − log q, k3 = (q/p − 1) − log(q/p)."""
    adaptive_kl: bool = False
    """Adapt kl_coef towards kl_target (Ziegler et al.'s controller) instead of keeping it fixed."""
    kl_target: float = ranged(6.0, gt=0)
    """Adaptive KL: target KL per answer (summed over its tokens), in nats (> 0)."""
    kl_horizon: int = ranged(10_000, ge=1)
    """Adaptive KL: samples over which the coefficient moves by at most 20 % (>= 1)."""
    early_stop_kl: float = ranged(0.1, ge=0)
    """Stop a step's epochs once a minibatch's approximate KL(old ‖ new) exceeds this (>= 0;
    0: never)."""
    max_grad_norm: float = ranged(1.0, gt=0)
    """Gradient norm clip (> 0)."""
    whiten_advantages: bool = True
    """Normalise advantages to zero mean and unit variance per rollout."""
    value_head: Literal["shared", "separate"] = "shared"
    """Value head on the policy's own trunk, or on a separate copy of it (a critic)."""
    lora: bool = False
    """Train LoRA adapters instead of all weights; the reference policy is the adapter turned off."""
    lora_r: int = ranged(16, ge=1)
    """LoRA rank (>= 1)."""
    lora_alpha: int = ranged(32, ge=1)
    """LoRA scaling numerator, scale = alpha / r (>= 1)."""
    save_every: int = ranged(10, ge=0)
    """Write a checkpoint (weights, optimizer, RNG) every this many steps (>= 0; 0: only at the
    end)."""
    seed: int = ranged(0, ge=0)
    """Seed of question order, sampling and initialisation (>= 0)."""
    max_bad_steps: int = ranged(3, ge=1)
    """Stop after this many steps in a row whose losses were all non-finite (>= 1)."""
    mixed_precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    """Precision of rollouts and updates: fp32, or accelerate's bf16/fp16 autocast (weights and
    optimizer stay fp32); auto = bf16 where the device computes it natively (a bf16 GPU, a CPU
    with AMX or AVX512-BF16), else fp32."""
    eval_every: int = ranged(4, ge=0)
    """Every this many steps and at the last, answer `eval_questions` validation questions
    greedily and score them with the training judge and reward (`val/*` in the log; >= 0;
    0: never)."""
    eval_questions: int = ranged(64, ge=1)
    """Validation questions for `eval_every` (>= 1), drawn from the validation split."""
    keep_best: bool = True
    """With `eval_every`: the saved policy is the validated step with the highest validation
    reward (kept in `best/`), not necessarily the last one."""
    validate_start: bool = True
    """With `keep_best`: validate the starting policy too, before the first update, as step 0;
    when no step beats it, the saved policy is the one PPO started from."""
    gradient_checkpointing: bool = False
    """Recompute each layer's activations in the backward pass instead of keeping them (less
    memory, ~30 % more compute in the update); rollouts are unaffected. Dropout is turned off
    so that the update's log-probs match the rollout's."""
    rollout_copy: bool = True
    """Under bf16, sample answers from a bf16 copy of the policy refreshed after every update
    (half the bytes read per token, no casting); costs one bf16 copy of the weights."""
    sampler_is_cap: float = ranged(0.0, ge=0)
    """Correct for the sampler not being the learner (a bf16 copy, another engine): each
    token's policy loss is weighted by min(p_learner / p_sampler, this cap), truncated
    importance sampling (>= 0; 0: off). The mismatch is logged either way
    (`rollout/sampler_kl`)."""

    def __post_init__(self) -> None:
        # minibatches split the rollout evenly, so minibatch_size <= batch_size too
        if self.minibatch_size > 0 and self.batch_size % self.minibatch_size:
            raise ConfigError(f"ppo.minibatch_size ({self.minibatch_size}) must divide "
                              f"ppo.batch_size ({self.batch_size})")
        if self.batch_size % self.group_size:
            raise ConfigError(f"ppo.group_size ({self.group_size}) must divide "
                              f"ppo.batch_size ({self.batch_size})")


@dataclass
class WarmStartConfig:
    enabled: bool = True
    """Run the "I don't know" warm-start (R-Tuning style) before PPO in the default recipe."""
    questions: int = ranged(128, ge=1)
    """Training questions the base policy is sampled on (>= 1)."""
    samples: int = ranged(4, ge=1)
    """Answers sampled per question to tell what the policy knows (>= 1)."""
    right_at: float = ranged(0.25, ge=0, le=1)
    """A question is known when at least this share of its samples (and one) is judged correct,
    in [0, 1]. 0.25 (1 of 4 samples) matches the demo's answer threshold, answer when
    P(correct) > 0.25: a question the policy gets right that often is one it should answer."""
    abstain_per_known: float = ranged(1.0, ge=0)
    """At most this many "I don't know" examples per known question (>= 0; the rest are dropped):
    one per known question, so that the policy does not start PPO abstaining almost everywhere,
    a state PPO's small batches rarely leave."""
    min_abstain: int = ranged(8, ge=0)
    """...but at least this many, if there are that many unknown questions (>= 0)."""
    abstention: str = "I don't know."
    """The answer taught for questions the policy gets wrong in every sample."""
    epochs: int = ranged(2, ge=1)
    """Passes over the warm-start examples (>= 1)."""
    lr: float = ranged(2e-5, gt=0)
    """Learning rate of AdamW with linear decay (> 0)."""
    batch_size: int = ranged(8, ge=1)
    """Examples per step (>= 1)."""


@dataclass
class JudgeConfig:
    train_pairs: int = ranged(20_000, ge=1)
    """Judge pairs (sampled from the train split) the comparison judge is fine-tuned on (>= 1)."""
    kind_balance: float = ranged(0.5, ge=0, le=1)
    """How the training pairs are sampled, in [0, 1]: each kind of pair in proportion to its
    count to this power (1: as they come; 0: every kind alike; 0.5 lifts rare hard kinds, such
    as yes/no flips and numbers in another format, from a few dozen examples to hundreds)."""
    nli_pairs: int = ranged(8_000, ge=1)
    """Entailment pairs the fact-overlap judge is fine-tuned on (>= 1; half HaluEval passages,
    half QA)."""
    calibration_pairs: int = ranged(4_000, ge=1)
    """Validation pairs the ensemble's calibration is fitted on (>= 1)."""
    eval_pairs: int = ranged(6_000, ge=0)
    """Test pairs the model card's metrics are measured on (>= 0; 0: the whole test split)."""
    epochs: int = ranged(1, ge=1)
    """Passes over the training pairs (>= 1)."""
    lr: float = ranged(1e-4, gt=0)
    """Peak learning rate, with linear warm-up and decay (> 0)."""
    batch_size: int = ranged(32, ge=1)
    """Training batch size (>= 1)."""
    max_length: int = ranged(128, ge=8)
    """Tokens per (question + reference, answer) pair (>= 8, room for the special tokens and
    some text); longer pairs are truncated."""
    quantize: bool = True
    """int8 inference of the judges on a CPU (OpenVINO, static quantisation, fixed scales)."""


TrackerName = Literal["tensorboard", "wandb", "trackio", "mlflow", "comet_ml", "aim", "clearml",
                      "dvclive", "swanlab"]
"""The experiment trackers accelerate offers (`autojudge.trainers.tracking`)."""


@dataclass
class TrackingConfig:
    log_with: list[TrackerName] | None = None
    """Experiment trackers of PPO, the warm-start and judge training (accelerate's `log_with`):
    any of tensorboard, wandb, trackio, mlflow, comet_ml, aim, clearml, dvclive, swanlab ([]:
    none; null: TensorBoard where it is installed). Local files go to the run's trackers/
    folder; PPO's log.jsonl is written either way."""
    project: str = "autojudge"
    """Project (experiment) the trackers file runs under; TensorBoard's subfolder."""
    online: bool = False
    """Let wandb, swanlab, clearml and comet_ml reach their servers; off: they run offline
    (e.g. WANDB_MODE=offline) unless the environment already says otherwise."""


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
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    """Experiment trackers (TensorBoard, W&B, MLflow, ...) of the training runs."""

    def __post_init__(self) -> None:
        # Checks across fields; each field's own range is checked by `from_dict`.
        reward, gen = self.reward, self.generation
        if reward.correct <= reward.incorrect:
            raise ConfigError(f"reward.correct ({reward.correct}) must be greater than "
                              f"reward.incorrect ({reward.incorrect})")
        if reward.abstain >= reward.correct:
            warnings.warn(f"reward.abstain ({reward.abstain}) >= reward.correct "
                          f"({reward.correct}): abstaining pays at least as much as a correct "
                          f"answer, so the policy learns never to answer", stacklevel=2)
        if self.data.val_fraction + self.data.test_fraction >= 1.0:
            raise ConfigError(f"data.val_fraction + data.test_fraction "
                              f"({self.data.val_fraction} + {self.data.test_fraction}) must be "
                              f"below 1, leaving a train split")
        if gen.min_new_tokens > gen.max_new_tokens:
            raise ConfigError(f"generation.min_new_tokens ({gen.min_new_tokens}) must not exceed "
                              f"generation.max_new_tokens ({gen.max_new_tokens})")


# --- loading -----------------------------------------------------------------------------------

_MERGE = "tag:yaml.org,2002:merge"
"""The tag of YAML's `<<` merge key, which may repeat keys on purpose."""


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints
    """SafeLoader that also reads `1e-5` as a float (YAML 1.1 insists on `1.0e-5`) and refuses a
    key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node)
            if key in first_line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {first_line[key]})",
                    key_node.start_mark)
            first_line[key] = key_node.start_mark.line + 1
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


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
        loaded = _parse(path.read_text(encoding="utf-8"), str(path))
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
    node[parts[-1]] = _parse(raw, f"override {item!r}") if raw.strip() else ""


def _parse(text: str, source: str) -> Any:
    """YAML text → Python, a syntax error or a duplicate key as one line naming where it is."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(str(err.problem or err.context or "malformed YAML").split())
        raise ConfigError(f"{source}{at}: {problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: {' '.join(str(err).split())}") from None


def from_dict(cls: type[_T], data: Any, where: str = "") -> _T:
    """Build dataclass `cls` from a mapping, rejecting unknown keys, wrong types and values
    outside their field's range."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        path = _join(where, unknown[0])
        raise ConfigError(f"unknown key {path!r}; known keys here: {', '.join(sorted(fields))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        path = _join(where, name)
        kwargs[name] = _coerce(value, hints[name], path)
        allowed = fields[name].metadata.get("range")
        if allowed is not None and kwargs[name] not in allowed:
            raise ConfigError(f"{path}: {kwargs[name]!r} is out of range; it must be {allowed}")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where or 'config'}: {err}") from None


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
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
    if tp is float and type(value) is float and not math.isfinite(value):
        raise ConfigError(f"{where}: {value} is not a finite number")
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
