"""The LLM judge against a fake OpenAI-compatible server on loopback (no network)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from autojudge.judges.base import JudgeError
from autojudge.judges.llm import LLMJudge, ResponseCache, label_pairs, parse_grade
from autojudge.judges.loader import load_judge
from autojudge.types import Record, Verdict

SECRET = "sk-test-secret-never-printed"


class FakeOpenAI(BaseHTTPRequestHandler):
    """Grades by keyword; 'garbage' gets an unparseable reply, 'flaky' fails twice first."""

    flaky_left = 2
    seen_keys: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.seen_keys.append(self.headers.get("Authorization"))
        prompt = body["messages"][0]["content"]
        answer = prompt.split("Predicted answer: ")[1].split("\n")[0]
        if "flaky" in answer and FakeOpenAI.flaky_left > 0:
            FakeOpenAI.flaky_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        reply = {"Paris": "A", "Lyon": "B. The answer is wrong.", "I don't know": "C",
                 "garbage": "I cannot grade this", "flaky": "A"}
        content = next((v for k, v in reply.items() if k in answer), "B")
        data = json.dumps({"id": "x", "object": "chat.completion", "created": 0,
                           "model": body["model"], "choices": [{"index": 0, "finish_reason":
                           "stop", "message": {"role": "assistant", "content": content}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setattr("time.sleep", lambda s: None)  # no real backoff waits in tests
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/v1"
    httpd.shutdown()


def items(*answers):
    return [Record("What is the capital of France?", ("Paris",), a) for a in answers]


def test_grades_retries_and_unparseable_replies(server, tmp_path):
    judge = LLMJudge("fake-model", server, cache=ResponseCache(tmp_path / "c.sqlite"))
    out = judge.judge(items("Paris.", "Lyon", "I don't know", "garbage", "flaky Paris"))
    assert [j.verdict for j in out] == [Verdict.CORRECT, Verdict.INCORRECT, Verdict.ABSTAIN,
                                        None, Verdict.CORRECT]
    assert out[3].error.startswith("unparseable LLM reply") and out[0].error is None
    assert FakeOpenAI.seen_keys[-1] == f"Bearer {SECRET}"


def test_cache_means_a_rerun_sends_nothing(server, tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    first = LLMJudge("fake-model", server, cache=cache)
    first.judge(items("Paris", "Lyon"))
    again = LLMJudge("fake-model", server, cache=ResponseCache(tmp_path / "c.sqlite"))
    assert [j.verdict for j in again.judge(items("Paris", "Lyon"))] == [Verdict.CORRECT,
                                                                       Verdict.INCORRECT]
    assert first.calls == 2 and again.calls == 0


def test_a_failed_request_is_a_failure_not_a_verdict(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setattr("time.sleep", lambda s: None)
    judge = LLMJudge("m", "http://127.0.0.1:9/v1", retries=1, timeout=2,
                     cache=ResponseCache(tmp_path / "c.sqlite"))
    (j,) = judge.judge(items("Paris"))
    assert j.error.startswith("LLM request failed: APIConnectionError")
    assert j.failed and j.verdict is None
    assert j.to_dict()["verdict"] is None and j.to_dict()["p_incorrect"] is None
    assert SECRET not in j.error and SECRET not in "".join(capsys.readouterr())


def test_an_unreachable_endpoint_fails_once_before_the_run(tmp_path, monkeypatch, capsys):
    """Before: loading took no time, then every row failed after ~15 s of retries per batch
    and `score` wrote them all. Now: one JudgeError at load, in well under a second."""
    from autojudge.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    start = time.monotonic()
    with pytest.raises(JudgeError, match=r"cannot reach http://127.0.0.1:9/v1 "
                                         r"\(APIConnectionError"):
        load_judge("llm:m", base_url="http://127.0.0.1:9/v1")
    assert time.monotonic() - start < 5
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"question": "q", "reference": "Paris", "answer": "Paris"})
                      + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["score", "--input", str(source), "--output", str(out), "--judge", "llm:m",
                 "--base-url", "http://127.0.0.1:9/v1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "autojudge: error: llm judge: cannot reach" in err
    assert SECRET not in err and not out.exists()


def test_no_key_for_openai_fails_before_any_request(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AUTOJUDGE_LLM_API_KEY", raising=False)
    with pytest.raises(JudgeError, match="no API key for OpenAI's endpoint"):
        load_judge("llm:gpt-4o-mini")


def test_a_refused_key_fails_before_the_run(monkeypatch):
    class Refuses(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "bad key"}}')

        def log_message(self, *args):
            pass

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Refuses)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(JudgeError, match=r"refused the API key \(HTTP 401\)") as err:
            load_judge("llm:m", base_url=f"http://127.0.0.1:{httpd.server_port}/v1")
        assert SECRET not in str(err.value)
    finally:
        httpd.shutdown()


def test_distillation_labels(server, tmp_path):
    judge = LLMJudge("fake-model", server, cache=ResponseCache(tmp_path / "c.sqlite"))
    rows = label_pairs(judge, items("Paris", "garbage", "Lyon"))
    assert [r["label"] for r in rows] == ["correct", "incorrect"]  # the unparseable one dropped


@pytest.mark.parametrize("reply, verdict", [("A", Verdict.CORRECT), (" b) incorrect", Verdict.
                                            INCORRECT), ("C", Verdict.ABSTAIN),
                                            ("NOT_ATTEMPTED", Verdict.ABSTAIN),
                                            ("The grade is INCORRECT", Verdict.INCORRECT),
                                            ("hmm", None)])
def test_parse_grade(reply, verdict):
    assert parse_grade(reply) is verdict


def test_score_cli_with_llm_judge(server, tmp_path, capsys):
    from autojudge.cli import main

    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps({"question": "q", "reference": "Paris", "answer": a})
                                for a in ("Paris", "Lyon", "garbage")) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["score", "--input", str(source), "--output", str(out), "--judge",
                 "llm:fake-model", "--base-url", server]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["verdict"] for r in rows] == ["correct", "incorrect", None]
    assert rows[2]["error"].startswith("unparseable") and rows[2]["p_correct"] is None
    assert SECRET not in "".join(capsys.readouterr())
