"""Jinja2 templates of the HTML pages (leaderboard, fairness report) and the helpers they share.

Every page is one self-contained file: CSS and JavaScript inline, figures as PNG data URIs, no
CDN, so it opens offline and can be mailed or committed. Autoescape is on for every template.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape


def code_parts(text: str) -> list[str]:
    """Split at Markdown backticks: odd-numbered parts are `code` spans (the tables' legend
    lines); macros.html puts them in <code>, every part escaped by autoescape."""
    return str(text).split("`")


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("fairmedia", "templates"),
                      autoescape=select_autoescape(["html"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["code_parts"] = code_parts
    return env


def render(name: str, **context: object) -> str:
    """Render the template ``name`` (a file in this folder) with ``context``."""
    return environment().get_template(name).render(**context)
