"""Every setting is documented in the README, with its environment variable rule."""

from __future__ import annotations

import pytest

from indexer import settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(settings.REGISTRY))
def test_setting_is_documented(name):
    assert f"| `{name}` |" in README
    assert settings.REGISTRY[name].help


def test_environment_overrides_a_setting(monkeypatch):
    monkeypatch.setenv("POLICYQA_PASSAGE_TARGET_CHARS", "123")
    assert settings.get("passage_target_chars") == 123
    monkeypatch.setenv("POLICYQA_PASSAGE_TARGET_CHARS", "many")
    with pytest.raises(ValueError, match="POLICYQA_PASSAGE_TARGET_CHARS"):
        settings.get("passage_target_chars")


def test_readme_settings_table_is_the_registry():
    """Names, defaults and help in the README are exactly the registry's (`make docs`)."""
    assert settings.with_table(README) == README, "the README's settings table is stale: " \
        "run `make docs`"
    assert settings.markdown_table().count("\n| `") == len(settings.REGISTRY)


def test_a_changed_default_makes_the_table_stale(monkeypatch):
    monkeypatch.setitem(settings.REGISTRY, "answer_min_score",
                        settings.Setting("answer_min_score", 0.5, "x", float))
    assert settings.with_table(README) != README
