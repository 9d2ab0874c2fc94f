"""Length-bucketed training batches."""

import random

from autojudge.trainers.classifier import bucketed_batches


def test_bucketed_batches_cover_every_index_once_with_little_padding():
    rng = random.Random(0)
    lengths = [rng.randint(5, 200) for _ in range(1000)]
    batches = bucketed_batches(lengths, 8, random.Random(1), chunk_batches=10)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000)) and len(batches) == 125
    assert all(len(b) == 8 for b in batches)  # 80-item chunks divide 1000 into whole batches

    def padding(bs):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in bs)

    shuffled = list(range(1000))
    random.Random(1).shuffle(shuffled)
    plain = [shuffled[s:s + 8] for s in range(0, 1000, 8)]
    assert padding(batches) < padding(plain) / 4


def test_bucketed_batches_are_seeded_and_shuffled():
    lengths = list(range(400))
    a = bucketed_batches(lengths, 4, random.Random(3), chunk_batches=5)
    assert a == bucketed_batches(lengths, 4, random.Random(3), chunk_batches=5)
    assert a != bucketed_batches(lengths, 4, random.Random(4), chunk_batches=5)
    assert [b[0] for b in a] != sorted(b[0] for b in a)  # batch order is not length order
