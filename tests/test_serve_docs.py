"""`autojudge serve`'s /docs and /redoc work offline: every asset they load is served by the app."""

from __future__ import annotations

import re

import pytest

from autojudge.config import RewardConfig
from autojudge.judges.abstention import AbstentionJudge
from autojudge.rewards.schemes import Reward

BASE = "http://127.0.0.1:8000"
URL = re.compile(r"""https?://[^\s'"<>)]+""")
ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.fixture
def client():
    from fastapi.testclient import TestClient

    from autojudge.serve.app import create_app

    with TestClient(create_app(AbstentionJudge(), Reward(RewardConfig())), base_url=BASE) as c:
        yield c


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_nothing_from_outside(client, page):
    html = client.get(page)
    assert html.status_code == 200
    outside = [u for u in URL.findall(html.text) if not u.startswith("http://127.0.0.1")]
    assert outside == [], f"{page} loads from outside: {outside}"
    assets = [a or b for a, b in ASSET.findall(html.text)]
    assert any(a.endswith(".js") for a in assets), assets  # the page's script is among them
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 100, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "autojudge"
