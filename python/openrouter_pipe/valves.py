"""Pydantic ``Valves``/``UserValves`` models built from the Rust valve declarations.

The Rust table (``src/valves/table.rs``) is the single source of truth; nothing here
names a valve. User valves default to ``"inherit"``, meaning "use the admin's value".
Valves that do nothing yet say so in their description (written by the Rust export);
compat valves also accept any stored value, so an old configuration always loads.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WrapValidator, create_model, field_validator

from . import _native
from .secret_valves import SealedStr

INHERIT = "inherit"

_TRUE = {"true", "on", "yes", "1", "enabled"}
_FALSE = {"false", "off", "no", "0", "disabled"}


@cache
def valve_specs() -> tuple[dict[str, Any], ...]:
    """The declarations, in order, as dicts."""
    return tuple(json.loads(_native.valve_specs()))


def resolve_default(spec: dict[str, Any]) -> Any:
    """The declared default, taking an environment variable into account."""
    default = spec["default"]
    env_name = spec.get("default_env")
    if not env_name:
        return default
    raw = (os.environ.get(env_name) or "").strip()
    if not raw:
        return default
    if spec["type"] == "choice":
        for choice in spec["choices"]:
            if choice.lower() == raw.lower():
                return choice
        return default
    return raw


def _annotation(spec: dict[str, Any]) -> Any:
    kind = spec["type"]
    if kind in ("str", "secret"):
        return str
    if kind == "bool":
        return bool
    if kind == "int":
        return int
    if kind == "float":
        return float
    if kind == "optional_int":
        return Optional[int]
    if kind == "choice":
        return Literal[tuple(spec["choices"])]
    raise ValueError(f"unknown valve type {kind!r} for {spec['name']}")


def _field(spec: dict[str, Any], default: Any, *, title: str | None = None, bounds: bool = True) -> Any:
    extra = {"input": {"type": "password"}} if spec["type"] == "secret" else None
    kwargs: dict[str, Any] = {"description": spec["description"]}
    if title:
        kwargs["title"] = title
    if bounds and spec.get("min") is not None:
        kwargs["ge"] = int(spec["min"]) if spec["type"] != "float" else spec["min"]
    if bounds and spec.get("max") is not None:
        kwargs["le"] = int(spec["max"]) if spec["type"] != "float" else spec["max"]
    return Field(default=default, json_schema_extra=extra, **kwargs)


def _default_when_invalid(default: Any) -> WrapValidator:
    """A compat valve has no effect, so a stored value it cannot take (the reference pipe's,
    or a hand-edited one) becomes the default instead of failing Open WebUI's ``Valves(**stored)``."""

    def validate(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError:
            return default

    return WrapValidator(validate)


def _coerce_bool_or_inherit(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("", INHERIT):
            return INHERIT
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return value


@cache
def valve_models() -> tuple[type[BaseModel], type[BaseModel]]:
    """``(Valves, UserValves)`` pydantic classes for the Function file."""
    system_fields: dict[str, Any] = {}
    user_fields: dict[str, Any] = {}
    bool_user_fields: list[str] = []
    for spec in valve_specs():
        annotation = _annotation(spec)
        default = resolve_default(spec)
        # Secret valves are sealed (``encrypted:…``) when validated, so Open WebUI stores them so.
        system_annotation = SealedStr if spec["type"] == "secret" else annotation
        if spec.get("status") == "compat":
            system_annotation = Annotated[annotation, _default_when_invalid(default)]
        system_fields[spec["name"]] = (system_annotation, _field(spec, default))
        if spec.get("user_title"):
            if spec["type"] == "choice":
                user_annotation: Any = Literal[(INHERIT, *spec["choices"])]
            elif spec["type"] == "bool":
                user_annotation = Literal[INHERIT, True, False]
                bool_user_fields.append(spec["name"])
            else:
                user_annotation = Union[Literal[INHERIT], annotation]
            user_fields[spec["name"]] = (user_annotation, _field(spec, INHERIT, title=spec["user_title"]))
    config = ConfigDict(extra="ignore", validate_default=False)
    system = create_model("Valves", __config__=config, **system_fields)
    validators = {}
    if bool_user_fields:
        validators["_bool_or_inherit"] = field_validator(*bool_user_fields, mode="before")(
            classmethod(lambda cls, v: _coerce_bool_or_inherit(v))
        )
    user = create_model("UserValves", __config__=config, __validators__=validators, **user_fields)
    return system, user
