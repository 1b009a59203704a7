from pathlib import Path

import pytest
import yaml

from bot.company import DEFAULT_PATH, CompanyConfigError, load_company_facts


def test_repository_file_is_complete() -> None:
    facts = load_company_facts(DEFAULT_PATH)
    assert facts.company_name == "联合钱包"
    assert facts.as_template_vars()["hotline"]


def test_missing_fact_fails_fast(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    del data["hotline"]
    path = tmp_path / "company.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CompanyConfigError, match="hotline"):
        load_company_facts(path)


@pytest.mark.parametrize("content", ["- a list\n", "key: [unclosed\n", ""])
def test_malformed_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "company.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CompanyConfigError):
        load_company_facts(path)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    data["hotlin"] = "typo"
    path = tmp_path / "company.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CompanyConfigError, match="hotlin"):
        load_company_facts(path)


def test_env_var_selects_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANY_CONFIG", str(tmp_path / "absent.yml"))
    with pytest.raises(CompanyConfigError, match="cannot read"):
        load_company_facts()
