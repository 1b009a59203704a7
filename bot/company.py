"""Company facts (hotline, e-mail, hours, channels) from one configuration file."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).with_name("company.yml")
ENV_VAR = "COMPANY_CONFIG"


class CompanyConfigError(ValueError):
    """The company configuration file is missing, malformed or incomplete."""


@dataclass(frozen=True)
class CompanyFacts:
    """Facts that responses quote; every field is required and non-empty."""

    company_name: str
    hotline: str
    hotline_hours: str
    online_chat: str
    online_chat_hours: str
    support_email: str
    email_reply_time: str
    email_subject_hint: str
    wechat_account: str
    weibo_account: str
    social_hours: str
    help_centre_url: str
    consumer_protection: str
    financial_regulator: str

    def as_template_vars(self) -> dict[str, str]:
        """The facts as response variables ({hotline} …)."""
        return asdict(self)


def load_company_facts(path: Path | None = None) -> CompanyFacts:
    """Read and validate the company facts.

    Args:
        path: The YAML file; defaults to $COMPANY_CONFIG or bot/company.yml.

    Raises:
        CompanyConfigError: if the file is missing, not a mapping, or lacks a field.
    """
    path = path or Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CompanyConfigError(f"cannot read company facts from {path}: {error}") from error
    if not isinstance(data, dict):
        raise CompanyConfigError(f"{path} must be a mapping of fact names to text")
    names = [f.name for f in fields(CompanyFacts)]
    missing = [n for n in names if not isinstance(data.get(n), (str, int)) or not str(data[n]).strip()]
    if missing:
        raise CompanyConfigError(f"{path} lacks company facts: {', '.join(missing)}")
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise CompanyConfigError(f"{path} has unknown keys: {', '.join(unknown)}")
    return CompanyFacts(**{n: str(data[n]).strip() for n in names})
