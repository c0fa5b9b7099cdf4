"""A sandboxed Jinja2 environment for message templates that only accepts escaped values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from jinja2 import DictLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.markup import JiraText, PlainLine

_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_WHITESPACE = re.compile(r"\s+")


class TemplateValueError(TypeError):
    """A value handed to a template was not escaped for the place it goes to."""


def build_environment(sources: Mapping[str, str]) -> SandboxedEnvironment:
    """An environment over in-memory sources: sandboxed, strict, no autoescape."""
    return SandboxedEnvironment(
        loader=DictLoader(dict(sources)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def compile_all(env: SandboxedEnvironment, names: list[str]) -> dict[str, str]:
    """Parse every template; return name -> error sentence for those that do not compile."""
    errors: dict[str, str] = {}
    for name in names:
        try:
            env.get_template(name)
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f" line {line}" if line else ""
            errors[name] = f"{where.strip() or 'template'}: {exc}"
    return errors


def render_text(
    env: SandboxedEnvironment, name: str, values: Mapping[str, Any], kind: type[str] = JiraText
) -> str:
    """Render a multi-line template; every string value must be of `kind`.

    JiraText for wiki markup (comments), PlainLine for plain text (ADF descriptions).
    """
    check_values(name, values, kind)
    text = env.get_template(name).render(**values)
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


def render_line(env: SandboxedEnvironment, name: str, values: Mapping[str, Any]) -> str:
    """Render a one-line template (summary, title); every string value must be PlainLine."""
    check_values(name, values, PlainLine)
    return _WHITESPACE.sub(" ", env.get_template(name).render(**values)).strip()


def check_values(name: str, values: Mapping[str, Any], kind: type[str]) -> None:
    """Raise TemplateValueError when a value (at any depth) is a string not of `kind`."""
    for key, value in values.items():
        _check(name, key, value, kind)


def _check(name: str, path: str, value: Any, kind: type[str]) -> None:
    if value is None or isinstance(value, bool | int | float | date):
        return
    if isinstance(value, str):
        if not isinstance(value, kind):
            raise TemplateValueError(
                f"template {name!r}: value {path!r} is a plain string; pass it through "
                f"{'escape_jira/trusted' if kind is JiraText else 'plain_line'} first"
            )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check(name, f"{path}.{key}", item, kind)
        return
    if isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _check(name, f"{path}[{index}]", item, kind)
        return
    raise TemplateValueError(f"template {name!r}: value {path!r} has type {type(value).__name__}")
