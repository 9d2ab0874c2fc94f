"""`autojudge serve` as a real process on a free loopback port: every route, the limits, the
token, malformed input, a full queue (503), the client's retries and a graceful shutdown."""

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from autojudge.config import load_config
from autojudge.judges.loader import load_judge
from autojudge.rewards.adapters import unit_scores
from autojudge.rewards.schemes import Reward
from autojudge.scoring import score_file
from autojudge.serve.process import spawn_server
from autojudge.types import Record

ROOT = Path(__file__).parent.parent
TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ITEMS = [
    {"id": 1, "question": "What is the capital of France?", "reference": ["Paris"],
     "answer": "Paris.", "model": "m"},
    {"id": "b", "question": "Who wrote Hamlet?", "reference": "William Shakespeare",
     "answer": "I'm not sure, sorry."},
    {"question": "When did he die?", "reference": ["1616", "in 1616"],
     "answer": "He was born in 1950 and died in 2001."},
    {"question": "What is two?", "reference": ["two"], "answer": ""},
]


def start(module: str, args: list[str], log: Path, token: str | None = TOKEN):
    """A server process and its URL, once /healthz answers."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    # a module-scoped server starts before the test's own $AUTOJUDGE_HOME is set: not the user's
    # cache (the judge keeps its int8 models there)
    env.setdefault("AUTOJUDGE_HOME", str(log.parent / "autojudge-home"))
    env.pop("AUTOJUDGE_TOKEN", None)
    if token:
        env["AUTOJUDGE_TOKEN"] = token
    return spawn_server(["--log-level", "warning", *args], log, env=env, module=module, cwd=ROOT,
                        timeout=60)


def stop(proc, log: Path) -> None:
    """SIGTERM; uvicorn finishes what is in flight, then exits by the signal, cleanly."""
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=20) == -signal.SIGTERM, log.read_text()
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def server(tiny_judge_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    proc, url = start("autojudge", ["--judge", str(tiny_judge_dir), "--reward", "expected",
                                    "reward.abstain=0.2", "--max-items", "8",
                                    "--max-body-bytes", "20000", "--max-field-chars", "500"],
                      log)
    yield url
    stop(proc, log)


def test_health_info_and_token(server):
    health = httpx.get(f"{server}/healthz")  # liveness needs no token
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert httpx.get(f"{server}/docs").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = httpx.get(f"{server}/v1/info", headers=headers)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        assert httpx.post(f"{server}/v1/judge", json={"items": ITEMS}, headers=headers
                          ).status_code == 401
    info = httpx.get(f"{server}/v1/info", headers=AUTH).json()
    assert info["judge"] == "autojudge-ensemble" and info["version"] == "0.1.0"
    # t* = (R_a − R_i) / (R_c − R_i) = (0.2 + 1) / 2 = 0.6
    assert info["reward"]["scheme"] == "expected" and info["reward"]["threshold"] == 0.6
    assert info["limits"]["max_items"] == 8


def test_served_judgements_are_those_of_score(server, tiny_judge_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in ITEMS))
    score_file(source, tmp_path / "out.jsonl", load_judge(str(tiny_judge_dir)), progress=False)
    offline = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    served = httpx.post(f"{server}/v1/judge", json={"items": ITEMS}, headers=AUTH)
    assert served.status_code == 200
    assert served.json() == {"judge": "autojudge-ensemble", "results": offline}
    assert offline[0]["model"] == "m" and offline[1]["verdict"] == "abstain"


def test_rewards_openrlhf_and_the_client(server, tiny_judge_dir, monkeypatch):
    records = [Record(i["question"], tuple([i["reference"]] if isinstance(i["reference"], str)
                                           else i["reference"]), i["answer"]) for i in ITEMS]
    local = load_judge(str(tiny_judge_dir)).judge(records)
    reward = Reward(load_config(None, ["reward.scheme=expected", "reward.abstain=0.2"]).reward)
    expected = reward(local, [r.answer for r in records])

    answer = httpx.post(f"{server}/v1/reward", json={"items": ITEMS}, headers=AUTH).json()
    assert answer["rewards"] == pytest.approx(expected, abs=1e-9)
    assert answer["verdicts"] == [j.verdict.value for j in local] and answer["threshold"] == 0.6

    # OpenRLHF: query = prompt + response (+ end token); labels are the references
    prompts = [f"<|user|> {r.question} <|end|> <|assistant|> " for r in records]
    body = {"query": [p + r.answer + "<|end|>" for p, r in zip(prompts, records)],
            "prompts": prompts, "labels": [json.dumps(list(r.reference)) for r in records]}
    rl = httpx.post(f"{server}/get_reward", json=body, headers=AUTH)
    assert rl.status_code == 200 and len(rl.json()["rewards"]) == len(records)
    assert rl.json()["rewards"] == pytest.approx(expected, abs=1e-9)
    # one reading of OpenRLHF's request for the endpoint and `reward_func`: scores in [0, 1]
    assert rl.json()["scores"] == pytest.approx(unit_scores(expected, reward.values), abs=1e-9)
    assert all(0.0 <= s <= 1.0 for s in rl.json()["scores"])
    body["query"][2] = "something else"
    bad = httpx.post(f"{server}/get_reward", json=body, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "query", 2]

    monkeypatch.setenv("AUTOJUDGE_TOKEN", TOKEN)
    remote = load_judge(server)  # a URL is a judge spec
    assert remote.name == "autojudge-ensemble"
    assert [j.to_dict() for j in remote.judge(records)] == [j.to_dict() for j in local]
    assert remote.reward(records) == pytest.approx(expected, abs=1e-9) and remote.healthy()


def test_limits_and_malformed_items(server):
    def post(body):
        return httpx.post(f"{server}/v1/judge", json=body, headers=AUTH)

    too_many = post({"items": ITEMS * 3})
    assert too_many.status_code == 413 and "12 items" in too_many.json()["detail"]
    too_big = post({"items": [{**ITEMS[0], "extra": "x" * 30_000}]})
    assert too_big.status_code == 413 and "20,000 bytes" in too_big.json()["detail"]
    long_field = post({"items": [ITEMS[0], {**ITEMS[1], "answer": "a" * 501}]})
    assert long_field.status_code == 422
    assert long_field.json()["detail"] == [
        {"loc": ["body", "items", 1, "answer"], "type": "value_error",
         "msg": "items[1]: field 'answer' is 501 characters; the limit is 500"}]
    missing = post({"items": [ITEMS[0], {"question": "q", "answer": "a"},
                              {**ITEMS[1], "reference": 3}]})
    assert missing.status_code == 422
    assert [(d["loc"], d["msg"]) for d in missing.json()["detail"]] == [
        (["body", "items", 1, "reference"], "items[1]: field 'reference' is missing"),
        (["body", "items", 2, "reference"],
         "items[2]: field 'reference': expected a string or a list of strings, got a number")]
    assert post({"items": "not a list"}).status_code == 422
    broken = httpx.post(f"{server}/v1/judge", content=b'{"items": [', headers={
        **AUTH, "content-type": "application/json"})
    assert broken.status_code == 422


def test_full_queue_503_client_retry_and_graceful_shutdown(tmp_path):
    gate = tmp_path / "open"
    proc, url = start("tests.serve_helper", ["--judge", f"gate:{gate}", "--max-queue", "4",
                                             "--max-items", "4"], tmp_path / "log")
    answers = {}

    def post(name, items):
        answers[name] = httpx.post(f"{url}/v1/judge", json={"items": items}, headers=AUTH,
                                   timeout=30)

    def queued(n):
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/healthz").json()["queued"] != n:
            assert time.monotonic() < deadline
            time.sleep(0.02)

    try:
        first = threading.Thread(target=post, args=("first", ITEMS))
        first.start()
        queued(4)  # held in the judge: the queue is full
        full = httpx.post(f"{url}/v1/judge", json={"items": ITEMS[:1]}, headers=AUTH)
        assert full.status_code == 503 and int(full.headers["retry-after"]) >= 1

        from autojudge.client import JudgeClient

        retried = {}
        client = JudgeClient(url, token=TOKEN, retries=20, backoff=0.05)
        retrying = threading.Thread(target=lambda: retried.update(
            out=client.judge([Record("q", ("a",), "I don't know")])))
        retrying.start()
        time.sleep(0.3)  # it has met the 503 and waits Retry-After
        gate.touch()
        first.join(10)
        retrying.join(10)
        assert answers["first"].status_code == 200
        assert len(answers["first"].json()["results"]) == 4
        assert retried["out"][0].verdict.value == "abstain"

        gate.unlink()  # hold the next batch, then ask the server to stop
        in_flight = threading.Thread(target=post, args=("last", ITEMS[:2]))
        in_flight.start()
        queued(2)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert proc.poll() is None  # still finishing the request in flight
        gate.touch()
        in_flight.join(10)
        assert answers["last"].status_code == 200 and len(answers["last"].json()["results"]) == 2
        stop(proc, tmp_path / "log")  # already stopping: waits for the exit
    finally:
        if proc.poll() is None:
            proc.kill()


# --- bounds and failures, in process --------------------------------------------------------

def app_client(judge, **limits):
    from fastapi.testclient import TestClient

    from autojudge.serve.app import create_app
    from autojudge.serve.settings import ServeSettings

    return TestClient(create_app(judge, Reward(load_config().reward), ServeSettings(**limits)))


def test_one_request_costs_the_judge_a_bounded_amount():
    """Past the characters or the claims one request may bring, 413 before any judging: with
    at most 16 claims checked per answer (degenerate.py), a request costs at most max_items
    comparisons and max_request_claims claim checks."""
    from autojudge.judges.abstention import AbstentionJudge

    item = {"question": "Who wrote Hamlet?", "reference": "Shakespeare",
            "answer": " ".join(f"It was author {i}." for i in range(5))}  # 5 claims, 92 chars
    with app_client(AbstentionJudge(), max_request_chars=1_000, max_request_claims=20) as app:
        assert app.post("/v1/judge", json={"items": [item] * 4}).status_code == 200
        claims = app.post("/v1/judge", json={"items": [item] * 5})
        assert claims.status_code == 413
        assert claims.json()["detail"] == ("25 answer claims to check in one request; the limit "
                                           "is 20: send fewer items per request")
        chars = app.post("/v1/reward", json={"items": [{**item, "answer": "x" * 900}] * 2})
        assert chars.status_code == 413 and chars.json()["detail"].startswith(
            "1,856 characters of questions, references and answers in one request; the limit "
            "is 1,000")


def test_a_failed_judgement_is_no_reward_and_refused_for_openrlhf():
    from tests.test_failures import Flaky

    items = [{"question": "Capital?", "reference": "Paris", "answer": a}
             for a in ("Paris", "down")]
    with app_client(Flaky()) as app:
        judged = app.post("/v1/judge", json={"items": items}).json()["results"]
        assert judged[1]["verdict"] is None and judged[1]["p_incorrect"] is None
        assert judged[1]["error"].startswith("LLM request failed")
        rewards = app.post("/v1/reward", json={"items": items}).json()
        assert rewards["rewards"] == [1.0, None] and rewards["verdicts"] == ["correct", None]
        assert rewards["errors"][0] is None and rewards["errors"][1].startswith("LLM request")
        prompt = "<|user|> Capital? <|assistant|>"
        refused = app.post("/get_reward", json={"query": [prompt + " Paris", prompt + " down"],
                                                "prompts": [prompt] * 2,
                                                "labels": ["Paris", "Paris"]})
        assert refused.status_code == 500
        assert "failed on 1 of 2 samples" in refused.json()["detail"]


@pytest.mark.parametrize("port", ["70000", "0", "-1", "http"])
def test_a_bad_port_is_a_usage_error(port, capsys):
    """Before: 70000 loaded the judge and died in uvicorn with an OverflowError traceback."""
    from autojudge.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--judge", "abstention", "--port", port])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith("autojudge serve: error: argument --port: expected a whole number from "
                        f"1 to 65535, got '{port}'\n") and "Traceback" not in err
