"""Templated text (prompts, ``set`` values, lookup parameters) in a sandboxed Jinja2 environment.

Flows are written by designers, values come from callers: templates run in
``jinja2.sandbox.SandboxedEnvironment`` with ``StrictUndefined`` (a misspelt variable is an error, not
silence) and no autoescaping (the output is spoken, not HTML). Compiled templates are cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from ivr_engine.flow.errors import FlowRuntimeError

__all__ = ["render", "template_error", "template_variables"]

_ENV = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=1024)
def _compile(source: str) -> jinja2.Template:
    return _ENV.from_string(source)


def template_error(source: str) -> str | None:
    """Why ``source`` is not a valid template, or None."""
    try:
        _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return f"template error: {exc.message} (template line {exc.lineno})"
    except RecursionError:
        return "template error: nested too deeply"
    return None


@lru_cache(maxsize=1024)
def template_variables(source: str) -> frozenset[str]:
    """Variables a template reads (empty when it does not parse); cached: flows ask per node run."""
    if "{" not in source:
        return frozenset()
    try:
        return frozenset(meta.find_undeclared_variables(_ENV.parse(source)))
    except (jinja2.TemplateSyntaxError, RecursionError):
        return frozenset()


def render(source: str, variables: Mapping[str, str]) -> str:
    """Render ``source``; any template trouble becomes ``FlowRuntimeError``."""
    if "{" not in source:
        return source
    try:
        return _compile(source).render(dict(variables)).strip()
    except jinja2.UndefinedError as exc:
        raise FlowRuntimeError(f"template {source!r}: {exc.message}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise FlowRuntimeError(f"template {source!r} refused by the sandbox: {exc}") from None
    except jinja2.TemplateError as exc:
        raise FlowRuntimeError(f"template {source!r}: {exc}") from None
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise FlowRuntimeError(f"template {source!r}: {exc}") from None
