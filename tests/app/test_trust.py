"""Trust boundaries in the app (Streamlit AppTest): a shop writes nothing and shows no traceback, curator pages
need the curator, password guesses are limited per server, and "Add many" lists any bad CSV row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.curation import PASSWORD_GUESSES
from engine.curation.roles import GuessLimiter
from tests.app.test_curator import PASSWORD, curator_env, unlocked  # noqa: F401 - a fixture
from tests.app.test_pages import APP, TIMEOUT
from tests.catalog.test_uploads import zipped
from tests.conftest import CATALOG
from tests.engine.test_trusted_models import claim_detector, index_copy, planted_checkpoint


@pytest.fixture(autouse=True)
def _fresh_caches_and_limiter():
    import streamlit as st

    st.cache_resource.clear()
    PASSWORD_GUESSES.reset()
    yield
    PASSWORD_GUESSES.reset()
    st.cache_resource.clear()


def text_of(at: AppTest) -> str:
    parts = [*at.title, *at.info, *at.error, *at.warning, *at.markdown, *at.caption, *at.code]
    return "\n".join(str(p.value) for p in parts)


def test_a_planted_checkpoint_gives_a_shopper_a_short_message_and_runs_nothing(built_index, tmp_path, monkeypatch):
    index, version = index_copy(built_index, tmp_path)
    marker = tmp_path / "payload-ran"
    claim_detector(version, planted_checkpoint(version / "furniture-yolov8n.pt", marker))
    monkeypatch.setenv("LOOKALIKE_INDEX", str(index))
    monkeypatch.setenv("LOOKALIKE_MODE", "shop")
    monkeypatch.delenv("LOOKALIKE_WEIGHTS", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "This catalogue is not available right now"
    shown = text_of(at)
    assert "Traceback" not in shown and str(tmp_path) not in shown and "sha256" not in shown
    assert not marker.exists()


def test_shop_mode_offers_no_unbuilt_catalogue_and_builds_nothing(built_index, tmp_path, monkeypatch):
    indexes, data = tmp_path / "indexes", tmp_path / "data" / "ikea-catalog"
    shutil.copytree(built_index[0], indexes / "small")
    data.mkdir(parents=True)
    (data / "products.csv").write_text("product_id,image\nsofas/0,sofas/0.jpg\n")  # an unbuilt demo catalogue
    monkeypatch.setenv("LOOKALIKE_INDEXES", str(indexes))
    monkeypatch.setenv("LOOKALIKE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LOOKALIKE_MODE", "shop")
    monkeypatch.delenv("LOOKALIKE_INDEX", raising=False)
    monkeypatch.delenv("LOOKALIKE_DEMO_DATA", raising=False)
    before = sorted(p.relative_to(indexes) for p in indexes.rglob("*"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["catalogue"] = "ikea-catalog"
    at.run()
    assert not at.exception
    assert at.session_state["catalogue"] == "small"  # the only catalogue on offer
    assert sorted(p.relative_to(indexes) for p in indexes.rglob("*")) == before
    shutil.rmtree(indexes / "small")  # nothing built at all: a message, still no build
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["catalogue"] = "ikea-catalog"
    at.run()
    assert not at.exception and at.title[0].value == "No catalogue index yet"
    assert list(indexes.iterdir()) == []


@pytest.mark.parametrize(
    ("page", "title"), [("pages/review.py", "Curation review"), ("pages/duplicates.py", "Near duplicates")]
)
def test_curator_pages_need_a_signed_in_curator(curator_env, page, title):  # noqa: F811 - the fixture
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page(page).run()
    assert not at.exception
    assert at.title[0].value == title and "unlock curator mode" in at.info[0].value
    assert not at.dataframe and not at.get("download_button") and not at.slider
    at = unlocked(page)
    assert at.title[0].value == title and not [i for i in at.info if "unlock curator mode" in i.value]


def test_password_guesses_are_limited_per_server_not_per_session(curator_env):  # noqa: F811 - the fixture
    outcomes = []
    for _ in range(PASSWORD_GUESSES.burst + 1):  # a fresh session for every guess
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        at.switch_page("pages/about.py").run()  # where a curator signs in
        at.text_input(key="curator-password").input("guess")
        at.button(key="curator-unlock-button").click().run()
        outcomes.append(at.error[0].value)
    assert outcomes[:-1] == ["Wrong password."] * PASSWORD_GUESSES.burst
    assert outcomes[-1].startswith("Too many password attempts on this server")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("pages/about.py").run()
    at.text_input(key="curator-password").input(PASSWORD)
    at.button(key="curator-unlock-button").click().run()
    assert "Too many password attempts" in at.error[0].value  # even the right one waits its turn


def test_the_guess_limiter_refills_with_time():
    now = [0.0]
    limiter = GuessLimiter(burst=2, interval=10, clock=lambda: now[0])
    assert [limiter.take(), limiter.take()] == [0, 0]
    assert limiter.take() == pytest.approx(10)
    now[0] = 4.0
    assert limiter.take() == pytest.approx(6)
    now[0] = 10.0
    assert limiter.take() == 0
    limiter.refund()
    assert limiter.take() == 0 and limiter.take() > 0


def test_add_many_lists_short_rows_and_a_second_id_column(curator_env):  # noqa: F811 - the fixture
    at = unlocked("pages/manage.py")
    photos = sorted((CATALOG / "lamps").glob("*.jpg"))[-2:]
    csv = "id,product_id,image,name,price\n"
    csv += f"1,new/a,{photos[0].name},Lamp A,1e308\n2,new/b\n3,new/c,{photos[1].name},Lamp C,<b>5</b>\n"
    archive = zipped({p.name: p.read_bytes() for p in photos})
    at.file_uploader(key="add-csv").upload("products.csv", csv.encode(), "text/csv")
    at.file_uploader(key="add-zip").upload("photos.zip", archive, "application/zip")
    at.button(key="add-many-button").click().run()
    assert not at.exception
    assert at.success[0].value.replace("\\", "") == "Added 2 products."
    skipped = "\n".join(m.value for m in at.markdown).replace("\\", "").replace("\u2060", "")
    for expected in ("column 'id' ignored", "data row 2: 2 fields", "price '1e308'", "price '<b>5</b>'"):
        assert expected in skipped, (expected, skipped)


def test_text_helpers_leave_no_autolink():
    from pages.shared import markdown_text

    text = markdown_text("https://evil.example www.evil.example HTTP://X.Y a@evil.example mailto:b@evil.example")
    for live in ("https:/", "www.", "HTTP:/", "a@", "b@"):
        assert live not in text.replace("\\", "")
    assert text.replace("\\", "").replace("\u2060", "") == (
        "https://evil.example www.evil.example HTTP://X.Y a@evil.example mailto:b@evil.example"
    )


def test_no_page_shows_a_traceback():
    import tomllib

    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"  # the server's log keeps the whole traceback
