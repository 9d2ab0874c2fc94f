"""Labelled (question, reference, answer) pairs for judge training, made from QA items.

Every wording of a correct answer has a wrong counterpart of the same shape (short span, wrapped
sentence, passage sentence, hedge, statement), so that no surface feature gives the label away.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from autojudge.config import DataConfig
from autojudge.data import phrasings, variants
from autojudge.data.sources import QAItem, normalize
from autojudge.data.splits import split_of
from autojudge.quantities import QuantityCheck, check_quantities
from autojudge.text import DEMONYMS

Pair = tuple[str, list[str], str, str]
"""(answer, reference, label, kind)."""


def judge_pairs(items: list[QAItem], config: DataConfig) -> Iterable[tuple[str, dict[str, Any]]]:
    """(split, pair) for every labelled (question, reference, answer) pair built from `items`."""
    # wrong answers come from the same split: a test question's answer never appears in training
    splits = [split_of(item.question, config) for item in items]
    by_group: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item, split in zip(items, splits, strict=True):
        if item.group:
            by_group[item.group, split].extend(item.reference)
    for item, split in zip(items, splits, strict=True):
        rng = random.Random(f"{config.seed}:{item.source}:{item.id}")
        for answer, reference, label, kind in _answers_for(
                item, by_group.get((item.group, split), []), split, rng,
                config.abstentions_per_question):
            yield split, {"id": f"{item.id}:{kind}", "question": item.question,
                          "reference": reference, "answer": answer, "label": label,
                          "source": item.source, "kind": kind}


def _answers_for(item: QAItem, group_golds: list[str], split: str, rng: random.Random,
                 abstain_rate: float) -> Iterable[Pair]:
    """(answer, reference, label, kind) for one question: correct, incorrect, maybe abstain."""
    wrap = lambda text: _wrapped(text, rng)  # noqa: E731
    golds = item.reference
    pick = rng.randrange(len(golds))
    others = golds[:pick] + golds[pick + 1:]
    if _shares_word(golds[pick], others):  # one gold against overlapping others: a paraphrase
        yield golds[pick], others, "correct", "alternative_gold"
    else:  # golds with no word in common are different valid answers, not paraphrases
        yield wrap(golds[0]), golds, "correct", "reworded_gold"
    if item.wrong:
        yield item.wrong[0], golds, "incorrect", "hallucinated"
    wrong = _plausible_wrong(golds, group_golds, rng)
    if wrong is not None:
        yield wrap(wrong), golds, "incorrect", "same_group"
    if wrong is not None and rng.random() < COUNTERFACTUAL_RATE:
        yield from _counterfactual(item, wrong, wrap)
    if rng.random() < abstain_rate:
        pool = phrasings.train_abstentions() if split == "train" else phrasings.heldout_abstentions()
        yield rng.choice(pool), golds, "abstain", "abstention"
    yield from _harder_variants(item, wrong, rng)
    yield from _policy_like_variants(item, wrong, group_golds, rng)


def _wrapped(text: str, rng: random.Random) -> str:
    """An answer in one of the sentence frames answers come in ("It's {a}.")."""
    return rng.choice(phrasings.ANSWER_TEMPLATES).format(a=text)


COUNTERFACTUAL_RATE = 0.3
"""Share of questions that also get the counterfactual-reference pairs."""


def _counterfactual(item: QAItem, wrong: str, wrap: Any) -> Iterable[Pair]:
    """The same question with a plausible wrong answer as the *reference*: now that answer is
    correct and the true one is incorrect. A judge must compare with the reference; one that
    only asks "is this a plausible answer to the question?" (the capital of South Africa:
    Johannesburg?) gets these wrong, so they teach it to read the reference."""
    gold = item.reference[0]
    yield wrap(wrong), [wrong], "correct", "counterfactual_match"
    yield wrap(gold), [wrong], "incorrect", "counterfactual_mismatch"
    if item.statement:
        yield item.statement.replace("{a}", gold), [wrong], "incorrect", "counterfactual_statement"


def _harder_variants(item: QAItem, wrong: str | None, rng: random.Random) -> Iterable[Pair]:
    """Hedges, lists of guesses, numbers (in words or digits, in other units), negations,
    passage sentences and statements, each with a wrong twin of the same shape, for a share of
    questions."""
    golds, gold = item.reference, item.reference[0]
    if rng.random() < 0.15:
        yield variants.hedged(gold, rng), golds, "correct", "hedged_correct"
    if wrong is not None and rng.random() < 0.15:
        yield variants.hedged(wrong, rng), golds, "incorrect", "hedged_wrong"
    guesses = variants.list_of_guesses(gold, [wrong] if wrong else [], rng)
    if guesses is not None and rng.random() < 0.15:
        yield guesses, golds, "incorrect", "list_of_guesses"
    numbers = variants.number_variant(gold, rng)
    if numbers is not None:
        yield numbers[0], golds, "correct", "number_format"
        yield numbers[1], golds, "incorrect", "number_neighbour"
    quantity = variants.quantity_variant(gold, rng) if numbers is None else None
    if quantity is not None and check_quantities(quantity[1], golds) is not QuantityCheck.MATCH:
        yield quantity[0], golds, "correct", "quantity_rewritten"
        yield quantity[1], golds, "incorrect", "quantity_wrong"
    perturbed = variants.perturbed_number(gold, rng)
    if perturbed is not None and normalize(perturbed) != normalize(gold):
        yield perturbed, golds, "incorrect", "number_changed"
    if wrong is not None and rng.random() < 0.15:
        yield variants.negated(gold, rng), golds, "incorrect", "negated_gold"
        yield variants.corrected(gold, wrong, rng), golds, "correct", "corrected_wrong"
    sentence = variants.context_sentence(gold, item.context) if item.context else None
    if sentence is not None:
        yield sentence, golds, "correct", "passage_sentence"
        # a known wrong answer that is a short phrase (not a sentence, not holding the gold) is
        # the likeliest twin; else another question's answer
        swap = next((w for w in item.wrong if len(w.split()) <= 5 and not w.endswith(".")
                     and normalize(gold) not in normalize(w)), None) or wrong
        twin = variants.swapped(sentence, gold, swap) if swap else None
        twin = None if twin is None or normalize(gold) in normalize(twin) else twin
        if twin is not None:
            yield twin, golds, "incorrect", "swapped_sentence"
    if item.statement:
        yield item.statement.replace("{a}", gold), golds, "correct", "statement"
        if wrong is not None:
            yield item.statement.replace("{a}", wrong), golds, "incorrect", "swapped_statement"


POLICY_LIKE_RATE = 0.12
"""Share of questions that get each kind of mistake a small policy makes (policy-like kinds)."""


SURNAME_RATE = 0.3
"""Share of questions for a person that get the surname-alone pair."""


def _policy_like_variants(item: QAItem, wrong: str | None, group_golds: list[str],
                          rng: random.Random) -> Iterable[Pair]:
    """The mistakes a small policy makes, read off its own answers: the gold blended with or
    contradicted by a wrong value, a restated question that never answers, the same answer said
    over and over, an adjective for the country asked for, yes/no flips, a person's surname
    alone (and another given name with it), dates in other formats; each with the right twin
    where one exists."""
    golds, gold = item.reference, item.reference[0]
    pick = lambda: rng.random() < POLICY_LIKE_RATE  # noqa: E731
    if item.statement and wrong is not None:
        if pick():
            yield variants.blended(item.statement, gold, wrong, rng), golds, "incorrect", "blend"
        if pick():
            yield (variants.contradicted(item.statement, gold, wrong, rng), golds, "incorrect",
                   "self_contradiction")
    if item.statement and pick():
        yield variants.non_answer(item.statement, rng), golds, "incorrect", "non_answer"
    if pick():
        yield variants.repeated(gold, rng), golds, "correct", "repeated_gold"
    if wrong is not None and pick():
        yield variants.repeated(wrong, rng), golds, "incorrect", "repeated_wrong"
    adjective = DEMONYMS.get(normalize(gold))
    if item.statement and adjective and pick():
        yield (item.statement.replace("{a}", adjective.title()), golds, "correct",
               "demonym")
        other = DEMONYMS.get(normalize(wrong or ""))
        if other and other != adjective:
            yield (item.statement.replace("{a}", other.title()), golds, "incorrect",
                   "wrong_demonym")
    flip = variants.polarity(gold, rng)
    if flip is not None:
        yield flip[0], golds, "correct", "polarity_same"
        yield flip[1], golds, "incorrect", "polarity_flipped"
    surname = variants.surname_variant(item.question, gold, group_golds[:200], rng)
    if surname is not None and rng.random() < SURNAME_RATE:
        yield _wrapped(surname[0], rng), golds, "correct", "surname"
        yield _wrapped(surname[1], rng), golds, "incorrect", "other_given_name"
    date = variants.date_variant(gold, rng)
    if date is not None and pick():
        yield date[0], golds, "correct", "date_format"
        yield date[1], golds, "incorrect", "date_changed"


def _shares_word(text: str, others: list[str]) -> bool:
    words = set(normalize(text).split())
    return any(words & set(normalize(o).split()) for o in others)


def _plausible_wrong(golds: list[str], candidates: list[str], rng: random.Random) -> str | None:
    """An answer to another question of the same group (relation) and split that matches no
    gold."""
    gold_keys = [normalize(g) for g in golds]
    for _ in range(8):  # a few random tries: groups can hold thousands of answers
        if not candidates:
            return None
        pick = rng.choice(candidates)
        key = normalize(pick)
        if key and not any(key in g or g in key for g in gold_keys):
            return pick
    return None
