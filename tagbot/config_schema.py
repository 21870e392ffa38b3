"""The JSON Schema of tagbot.yaml, built from the parser's own tables (tagbot/config.py), so editors
(VS Code's YAML extension) and check-jsonschema validate and complete what tagbot accepts. Every
check the parser uses has a fragment here; a setting without one fails the build of the schema,
and the published file (tagbot/schemas/config.schema.json) is tested to equal this.

    python -m tagbot.config_schema > tagbot/schemas/config.schema.json
"""

from __future__ import annotations

import json
from typing import Any

from tagbot import config
from tagbot.config import AUTOMERGE_TYPES, GROUP_BY, MERGE_METHODS, REBASE, SOURCES, UPDATE_TYPES

SCHEMA_URL = "https://raw.githubusercontent.com/oanor/tagbot/main/tagbot/schemas/config.schema.json"

_STRINGS: dict[str, Any] = {"anyOf": [{"type": "string", "minLength": 1},
                                      {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]}
_NAMES: dict[str, Any] = {"anyOf": [{"type": "string", "minLength": 1},
                                    {"type": "array", "items": {"type": "string", "minLength": 1}}]}
_DURATION = {"description": "A duration such as 3d, 12h, 1d12h, 30m, 45s, 2w or 1y, at most ten years; 0 for none.",
             "anyOf": [{"type": "string", "pattern": r"^\s*(\d{1,30}\s*[ywdhms]\s*)+$"}, {"const": 0}, {"const": "0"}]}


def _registries() -> dict[str, Any]:
    return {
        "description": "Where tags come from, per registry host.",
        "type": "object",
        "additionalProperties": {
            "type": "object", "additionalProperties": False,
            "properties": {
                # YAML 1.1 reads a bare `off` as false, and tagbot takes it as "off".
                "source": {"enum": [*SOURCES, False]},
                # null or "" is the setting left out.
                "url": {"anyOf": [{"type": "string", "pattern": "^https?://"}, {"const": ""}, {"type": "null"}]},
                "auth_env": {"type": ["string", "null"], "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                             "description": "An environment variable holding user:password or a token."},
                "insecure": {"type": "boolean"},
                "rate_limit": {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1000},
            },
        },
    }


def _kinds() -> dict[str, Any]:
    from tagbot.scan import SCANNERS

    kind = {"enum": list(SCANNERS)}
    return {"anyOf": [kind, {"type": "array", "items": kind, "minItems": 1}]}


def _one_of(values: tuple[str, ...]) -> dict[str, Any]:
    return {"enum": list(values)}


def _fragments() -> dict[Any, dict[str, Any]]:
    """Each check of the parser, as JSON Schema."""
    return {
        config._bool: {"type": "boolean"},
        config._url: {"type": "string", "pattern": "^https?://[^\\s]+$"},
        config._duration: _DURATION,
        config._registries: _registries(),
        config._kinds: _kinds(),
        config._glob_list: {**_NAMES, "description": ".gitignore-style globs: `*` stays within a folder, `**` crosses them."},
        config._names: _NAMES,
        config._string: {"type": "string", "minLength": 1},
        config._group_by: _one_of(GROUP_BY),
        config._rebase: _one_of(REBASE),
        config._replacements: {"type": "object", "minProperties": 1,
                                "additionalProperties": {"type": "string", "minLength": 1},
                                "description": "Moved images to their successors: openjdk: eclipse-temurin, or "
                                               "k8s.gcr.io/*: registry.k8s.io/*."},
        config._groups: {"type": "object", "minProperties": 1,
                         "propertyNames": {"pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
                         "additionalProperties": _STRINGS, "description": "Group names to image globs."},
        config._range: {"type": ["string", "number"], "description": "A semver range: ^1.25, ~1.27, 1.x, >=1.25 <2."},
        config._ignore: {**_STRINGS, "description": "Tag globs, or /regular expressions/."},
        config._update_types: {"anyOf": [_one_of(UPDATE_TYPES), {"type": "array", "items": _one_of(UPDATE_TYPES), "minItems": 1}]},
        config._platforms: {"anyOf": [{"enum": ["auto", "current"]}, _STRINGS]},
        config._schedule: {**_STRINGS, "description": "When new pull requests may open: before 6am on monday, "
                                                      "every weekday, on the first day of the month, or cron (* 0-5 * * 1-5)."},
        config._timezone: {"type": "string", "minLength": 1, "description": "An IANA time zone: Europe/Berlin."},
        config._automerge: {"anyOf": [{"type": "boolean"}, _one_of(AUTOMERGE_TYPES),
                                      {"type": "array", "items": _one_of(AUTOMERGE_TYPES)}],
                            "description": "Update types whose pull requests merge themselves once every check passes "
                                           "(true: every type but major)."},
        config._merge_method: _one_of(MERGE_METHODS),
        config._group_name: {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                             "description": "A named group's branch and pull request."},
        config._commit_template: {"type": "string", "minLength": 1, "pattern": "^[^\\r\\n]+$",
                                  "description": "A template over {prefix}, {image}, {from}, {to} and {type}: "
                                                 "{prefix}update {image} to {to}."},
        config._branch_prefix: {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}[/-]$",
                                "description": "The start of every branch tagbot makes: tagbot/ or deps/tagbot-."},
    }


def _property(check: Any, fragments: dict[Any, dict[str, Any]], key: str) -> dict[str, Any]:
    bounds = getattr(check, "bounds", None)
    if bounds is not None:
        kind, most = bounds
        return {"type": "integer" if kind is int else "number", "exclusiveMinimum": 0, "maximum": most}
    if check not in fragments:
        raise KeyError(f"the setting {key} has no JSON Schema fragment in tagbot/config_schema.py")
    return fragments[check]


def config_schema() -> dict[str, Any]:
    fragments = _fragments()
    settings = {key: _property(check, fragments, key) for key, check in config._SETTINGS.items()}
    run = {key: _property(check, fragments, key) for key, check in config._RUN_SETTINGS.items()}
    rule = {"type": "object", "additionalProperties": False, "minProperties": 1,
            "anyOf": [{"required": [key]} for key in config._MATCH_KEYS],
            "properties": {"match": {**_STRINGS, "description": "An image name or glob, or a list of them."},
                           "files": {**_STRINGS, "description": ".gitignore-style globs of the files the references are in."},
                           "kinds": _kinds(),
                           "current": {"type": ["string", "number"], "description": "A version range of the current tag."},
                           "match_update_types": {"anyOf": [_one_of(AUTOMERGE_TYPES), {
                               "type": "array", "items": _one_of(AUTOMERGE_TYPES), "minItems": 1}], "description": (
                               "The update's types (major, minor, patch, digest, pin, replace): such a rule may set only "
                               "pull request settings and min_age.")},
                           **settings}}
    pattern = {"type": "object", "additionalProperties": False, "required": ["files", "match"], "properties": {
        "files": {**_STRINGS, "description": "Globs of the files the expression reads."},
        "match": {"type": "string", "minLength": 1,
                  "description": "A regular expression with named groups image, tag and digest (or tag alone, with image:)."},
        "image": {"type": "string", "minLength": 1, "description": "The repository, when the expression finds only a tag."},
    }}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_URL,
        "title": "tagbot.yaml",
        "description": "tagbot's configuration (tagbot.yaml, .tagbot.yaml or .github/tagbot.yaml). Every key is optional.",
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {**run, **settings, "rules": {"type": ["array", "null"], "items": rule},
                       "patterns": {"type": ["array", "null"], "items": pattern}},
    }


def main() -> None:
    print(json.dumps(config_schema(), indent=2))


if __name__ == "__main__":
    main()
