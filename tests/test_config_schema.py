"""tagbot.yaml's JSON Schema (tagbot/schemas/config.schema.json), made from the parser's own tables:
the published file is what they make, the example config passes it key by key, and the schema
and the parser agree on what is a setting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from tagbot.config import parse_config
from tagbot.config_schema import config_schema
from tagbot.errors import ConfigError

ROOT = Path(__file__).parent.parent
PUBLISHED = ROOT / "tagbot" / "schemas" / "config.schema.json"
EXAMPLE = ROOT / "config.example.yaml"


@pytest.fixture(scope="module")
def schema() -> jsonschema.Draft7Validator:
    published = json.loads(PUBLISHED.read_text())
    jsonschema.Draft7Validator.check_schema(published)
    return jsonschema.Draft7Validator(published)


def test_the_published_schema_is_the_one_the_parser_makes():
    # After a change to the settings: python -m tagbot.config_schema > tagbot/schemas/config.schema.json
    assert json.loads(PUBLISHED.read_text()) == config_schema()


def test_every_setting_of_the_parser_is_in_the_schema(schema: jsonschema.Draft7Validator):
    from tagbot import config

    keys = set(schema.schema["properties"])
    assert keys == {*config._RUN_SETTINGS, *config._SETTINGS, "rules", "patterns"}
    assert set(schema.schema["properties"]["rules"]["items"]["properties"]) == {*config._SETTINGS, *config._MATCH_KEYS}


def example_settings() -> list[str]:
    """The example's settings one by one: those it sets and those it shows commented out."""
    text = EXAMPLE.read_text()
    settings = [yaml.safe_dump({key: value}) for key, value in yaml.safe_load(text).items()]
    for shown in re.finditer(r"^# ([a-z_]+): (\S.*)$", text, re.M):
        try:
            value = yaml.safe_load(shown.group(2))
        except yaml.YAMLError:
            continue  # prose in a comment (`url: the source's base URL: ...`), not a setting
        prose = (isinstance(value, str) and " " in value) or (isinstance(value, dict) and not shown.group(2).startswith("{"))
        if not prose:
            settings.append(f"{shown.group(1)}: {shown.group(2)}\n")
    return settings


@pytest.mark.parametrize("setting", example_settings())
def test_every_example_setting_passes_both(schema: jsonschema.Draft7Validator, setting: str):
    parse_config(setting, name="tagbot.yaml")
    assert schema.is_valid(yaml.safe_load(setting)), list(schema.iter_errors(yaml.safe_load(setting)))


def test_the_whole_example_passes(schema: jsonschema.Draft7Validator):
    schema.validate(yaml.safe_load(EXAMPLE.read_text()))


@pytest.mark.parametrize("text", [
    "rate_limt: 2\n",  # a typo
    "rules: [{match: nginx, enabeld: false}]\n",
    "rules: [{enabled: false}]\n",  # a rule without match:
    "rate_limit: 0\n",
    "rate_limit: 5000\n",
    "max_calls: 2.5\n",
    "cache_ttl: soon\n",
    "group_by: team\n",
    "rebase: always\n",
    "update_types: [minr]\n",
    "kinds: [pulumi]\n",
    "registries: {ghcr.io: {source: cloud}}\n",
    "registries: {ghcr.io: {sourse: registry}}\n",
    "groups: {'bad name': [postgres]}\n",
    "dashboard: yes please\n",
    "labels: 3\n",
    "patterns: [{files: [Makefile]}]\n",
    "patterns: [{files: [Makefile], match: '(?P<tag>x)', image: nginx, datasource: docker}]\n",
])
def test_what_the_parser_refuses_the_schema_refuses(schema: jsonschema.Draft7Validator, text: str):
    with pytest.raises(ConfigError):
        parse_config(text, name="tagbot.yaml")
    assert not schema.is_valid(yaml.safe_load(text))


@pytest.mark.parametrize("text", [
    "", "~\n", "rules:\n", "cache_ttl: 0\n", "lookup_deadline: 1d12h\n", "allow: 1.27\n", "platforms: current\n",
    "update_types: patch\n", "registries: {ghcr.io: {source: off}}\n", "labels: []\n", "kinds: dockerfile\n",
    "rules: [{match: [nginx, 'bitnami/*'], allow: '^1', ignore: ['/-rc/'], min_age: 3d}]\n",
    "registries: {}\n", "registries: {ghcr.io: {url: null, auth_env: null, rate_limit: null}}\n",
    "registries: {ghcr.io: {url: ''}}\n",
    "patterns: [{files: ['**/*.sh', Makefile], match: 'PG=(?P<tag>\\S+)', image: postgres}]\n",
])
def test_what_the_parser_takes_the_schema_takes(schema: jsonschema.Draft7Validator, text: str):
    parse_config(text, name="tagbot.yaml")
    assert schema.is_valid(yaml.safe_load(text)), list(schema.iter_errors(yaml.safe_load(text)))


@pytest.mark.parametrize(("text", "said"), [
    ("rate_limit: 2\nrate_limit: 3\n", "tagbot.yaml:2: rate_limit: given twice (first on line 1)"),
    ("rules:\n  - match: a\n    enabled: true\n    enabled: false\n", "tagbot.yaml:4: enabled: given twice (first on line 3)"),
    ("registries:\n  ghcr.io: {source: off}\n  ghcr.io: {source: auto}\n", "tagbot.yaml:3: ghcr.io: given twice (first on line 2)"),
    # Two spellings of one registry are the same key given twice.
    ("registries:\n  docker.io: {source: off}\n  index.docker.io: {source: hub}\n",
     "tagbot.yaml:2: registries: index.docker.io: names the same registry as docker.io; give its settings once"),
    ("registries:\n  GHCR.io: {source: off}\n  ghcr.io: {source: auto}\n",
     "tagbot.yaml:2: registries: ghcr.io: names the same registry as GHCR.io; give its settings once"),
])
def test_a_key_given_twice_is_an_error(text: str, said: str):
    with pytest.raises(ConfigError) as raised:
        parse_config(text, name="tagbot.yaml")
    assert str(raised.value) == said
