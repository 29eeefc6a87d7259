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
