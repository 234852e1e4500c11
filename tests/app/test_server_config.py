"""The Streamlit settings a deployed server relies on (docs/BENCHMARKS.md, load section, says why each matters)."""

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_the_server_is_configured_for_a_deployment():
    config = tomllib.loads(CONFIG.read_text())
    assert config["server"]["fileWatcherType"] == "none"  # watching .venv overflowed inotify and burned CPU
    assert config["server"]["runOnSave"] is False
    assert config["browser"]["gatherUsageStats"] is False  # nothing leaves the host
    assert config["runner"]["postScriptGC"] is False  # a full collection per run was a third of the CPU under load
    assert config["client"]["showSidebarNavigation"] is False and config["client"]["toolbarMode"] == "viewer"
