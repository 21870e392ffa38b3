from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tagbot.config import DEFAULT_UPDATE_TYPES, Config, Settings, load_config, parse_config
from tagbot.errors import ConfigError
from tagbot.refs import parse_ref

EXAMPLE = Path(__file__).parent.parent / "config.example.yaml"


def test_no_file_means_defaults(tmp_path: Path):
    assert load_config(None, directory=tmp_path) == Config()
    assert Settings().update_types == DEFAULT_UPDATE_TYPES == {"major", "minor", "patch", "digest"}
    assert Settings().digest_settle == timedelta(hours=6)


@pytest.mark.parametrize("name", ["tagbot.yaml", ".tagbot.yaml", ".github/tagbot.yaml"])
def test_found_by_name(tmp_path: Path, name: str):
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_text("pin_digests: true\n")
    config = load_config(None, directory=tmp_path)
    assert config.path == str(tmp_path / name)
    assert config.defaults.pin_digests is True


def test_named_file_must_exist(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"nope.yaml: config file not found"):
        load_config(tmp_path / "nope.yaml", directory=tmp_path)


def test_every_setting_is_read():
    config = parse_config(
        """
enabled: true
allow: ">=1.25 <2"
ignore: ["*-rc*", "/^1\\\\.29/"]
update_types: [minor, patch]
platforms: [linux/amd64, linux/arm64]
pin_digests: yes
min_age: 3d
digest_settle: 1d12h
allow_prerelease: false
follow_suffix: true
""",
        name="t.yaml",
    )
    settings = config.defaults
    assert settings.allow is not None and (1, 30) in settings.allow and (2, 0) not in settings.allow
    assert settings.ignores("1.28.0-rc1") and settings.ignores("1.29.3") and not settings.ignores("1.28.0")
    assert settings.update_types == {"minor", "patch"}
    assert settings.platforms == {"linux/amd64", "linux/arm64/v8"}
    assert settings.pin_digests and settings.wants_pins and settings.follow_suffix
    assert (settings.min_age, settings.digest_settle) == (timedelta(days=3), timedelta(hours=36))


def test_rules_merge_over_defaults_in_file_order_later_keys_win():
    config = parse_config(
        """
platforms: [linux/amd64, linux/arm64]
rules:
  - match: postgres
    allow: "^16"
  - match: ["bitnami/*", "grafana/*"]
    update_types: [minor, patch]
  - match: "*postgres*"
    allow: "^17"
    min_age: 12h
  - match: ghcr.io/org/*
    enabled: false
""",
        name="t.yaml",
    )
    postgres = config.settings_for(parse_ref("docker.io/library/postgres:16.4"))
    assert postgres.allow is not None and postgres.allow.text == "^17"
    assert postgres.min_age == timedelta(hours=12)
    assert postgres.platforms == {"linux/amd64", "linux/arm64/v8"}
    bitnami = config.settings_for(parse_ref("bitnami/postgresql:16.2.0-debian-12-r3"))
    assert bitnami.update_types == {"minor", "patch"} and bitnami.allow.text == "^17"
    assert config.settings_for(parse_ref("ghcr.io/org/app:1")).enabled is False
    assert config.settings_for(parse_ref("ghcr.io/other/app:1")).enabled is True
    assert config.settings_for(parse_ref("nginx")) == config.defaults
    assert [rule.line for rule in config.rules] == [4, 6, 8, 11]


@pytest.mark.parametrize("written", ["nginx", "library/nginx", "docker.io/library/nginx", "index.docker.io/nginx"])
@pytest.mark.parametrize("pattern", ["nginx", "library/nginx", "docker.io/library/nginx", "NGINX", "ngin*"])
def test_any_spelling_of_a_hub_image_matches(written, pattern):
    config = parse_config(f"rules:\n  - match: {pattern}\n    enabled: false\n", name="t.yaml")
    assert config.settings_for(parse_ref(written)).enabled is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("update_types: [minr]\n", 't.yaml:1: update_types: unknown value "minr" (known: major, minor, patch, digest, pin)'),
        ("\n\nupdate_types: minr\n", 't.yaml:3: update_types: unknown value "minr"'),
        ("rebase: sometimes\n", 't.yaml:1: rebase: unknown value "sometimes" (known: conflicted, behind, never)'),
        ("dashboard: yes please\n", "t.yaml:1: dashboard: expected true or false"),
        ("commit_prefix: [a]\n", "t.yaml:1: commit_prefix: expected a string"),
        ("pin_digest: true\n", "t.yaml:1: pin_digest: unknown setting (known: "),
        ("enabled: maybe\n", "t.yaml:1: enabled: expected true or false, got 'maybe'"),
        ("min_age: 3 days\n", "t.yaml:1: min_age: expected a duration such as 3d, 12h or 30m, got '3 days'"),
        ("allow: '^1.x.2'\n", "t.yaml:1: allow: cannot read '^1.x.2'"),
        ("allow: [1]\n", "t.yaml:1: allow: expected a version range"),
        ("ignore: ['/(/']\n", "t.yaml:1: ignore: bad regular expression '/(/'"),
        ("platforms: [linux]\n", 't.yaml:1: platforms: "linux" is not auto, current, or a platform'),
        ("platforms: []\n", "t.yaml:1: platforms: expected a string or a list of strings"),
        ("- a\n", "t.yaml:1: the config: expected a mapping of settings"),
        ("rules: {match: x}\n", "t.yaml:1: rules: expected a list of rules"),
        ("rules:\n  - allow: '^1'\n", "t.yaml:2: rules[0]: a rule needs match:"),
        ("rules:\n  - match: x\n  - match: y\n    enabled: 3\n", "t.yaml:4: rules[1].enabled: expected true or false"),
        ("rules:\n  - match: [x, 3]\n", "t.yaml:2: rules[0].match: expected a string or a list of strings"),
        ("rules:\n  - match: x\n    rules: []\n", "t.yaml:3: rules[0].rules: unknown setting"),
        ("a: [\n", "t.yaml:2: invalid YAML: "),
    ],
)
def test_errors_name_file_line_and_setting(text, message):
    with pytest.raises(ConfigError) as raised:
        parse_config(text, name="t.yaml")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_empty_file_and_empty_rules_are_defaults():
    assert parse_config("", name="t.yaml").defaults == Settings()
    assert parse_config("rules:\n", name="t.yaml").rules == ()


def test_the_example_config_is_valid_and_documents_every_setting():
    text = EXAMPLE.read_text()
    config = parse_config(text, name=str(EXAMPLE))
    assert config.rules
    for key in ("enabled", "allow", "ignore", "update_types", "platforms", "pin_digests", "min_age",
                "digest_settle", "allow_prerelease", "follow_suffix", "rules", "match", "api_url", "rate_limit",
                "max_calls", "cache_ttl", "base_branch", "group_by", "groups", "separate_major", "labels", "reviewers",
                "assignees", "draft", "max_open_prs", "max_prs_per_run", "require_digest", "forbid_tags",
                "registries", "max_tag_pages", "deep_search", "kinds", "exclude", "commit_prefix", "rebase", "links",
                "dashboard", "dashboard_title", "repositories", "patterns", "schedule", "timezone", "automerge",
                "automerge_method", "automerge_schedule", "group", "separate_minor_patch", "commit_message",
                "branch_prefix", "match_update_types"):
        assert f"{key}:" in text, key


def test_rules_match_by_file_kind_and_current_version_all_anded():
    from tagbot.refs import parse_ref

    config = parse_config(
        "rules:\n"
        "- {files: ['deploy/**'], update_types: [patch]}\n"
        "- {match: postgres, kinds: [compose], pin_digests: true}\n"
        "- {match: node, current: '<20', enabled: false}\n", name="tagbot.yaml")
    postgres, node18, node22 = parse_ref("postgres:16.4"), parse_ref("node:18.20.4"), parse_ref("node:22.1.0")
    assert config.settings_for(postgres, "deploy/app.yaml", "kubernetes").update_types == frozenset({"patch"})
    assert config.settings_for(postgres, "app/compose.yaml", "compose").pin_digests is True
    assert config.settings_for(postgres, "deploy/compose.yaml", "compose").update_types == frozenset({"patch"})
    # A rule by place never names the image as a whole (a lookup shared by every file).
    assert config.settings_for(postgres) == config.defaults
    assert (config.settings_for(node18).enabled, config.settings_for(node22).enabled) == (False, True)
    assert config.by_place


def test_pull_request_settings_merge_per_rule_and_per_update_type():
    from tagbot.refs import parse_ref

    config = parse_config(
        "labels: [deps]\nautomerge: [digest]\nbranch_prefix: deps/\nautomerge_method: rebase\n"
        "rules:\n"
        "- {match: postgres, labels: [db], reviewers: [ann], group: data, automerge: true}\n"
        "- {match_update_types: [major], automerge: [], min_age: 30d, labels: [breaking]}\n"
        "- {match_update_types: [patch], separate_minor_patch: true, commit_message: 'fix: {image} {to}'}\n",
        name="tagbot.yaml")
    postgres, redis = parse_ref("postgres:16.4"), parse_ref("redis:7.2")
    assert config.run.branch_prefix == "deps/" and config.run.automerge_method == "rebase"
    assert config.settings_for(redis).pull.automerge == frozenset({"digest"})
    minor = config.settings_for(postgres, "compose.yaml", "compose", "minor").pull
    assert (minor.labels, minor.reviewers, minor.group) == (("db",), ("ann",), "data")
    assert minor.automerge == frozenset({"minor", "patch", "digest", "pin", "replace"})  # true: all but major
    major = config.settings_for(postgres, "compose.yaml", "compose", "major")
    assert (major.pull.labels, major.pull.automerge, major.min_age) == (("breaking",), frozenset(), timedelta(days=30))
    patch = config.settings_for(redis, None, None, "patch").pull
    assert (patch.separate_minor_patch, patch.commit_message) == (True, "fix: {image} {to}")
    # Deciding, before the update's type is known, learns min_age by type.
    assert config.settings_for(redis).min_age_for("major") == timedelta(days=30)
    assert config.settings_for(redis).min_age_for("minor") == timedelta(0)


@pytest.mark.parametrize(("text", "message"), [
    ("rules:\n- match_update_types: major\n  ignore: ['1.*']\n",
     "tagbot.yaml:3: rules[0].ignore: cannot depend on match_update_types, since it decides the update's type"),
    ("rules:\n- match_update_types: [huge]\n  labels: [x]\n",
     'tagbot.yaml:2: rules[0].match_update_types: unknown value "huge"'),
    ("commit_message: 'update {name}'\n", "tagbot.yaml:1: commit_message: unknown field {name}"),
    ("commit_message: 'update {to:>9}'\n", "tagbot.yaml:1: commit_message: fields take no format spec"),
    ("commit_message: 'update {to'\n", "tagbot.yaml:1: commit_message: "),
    ("branch_prefix: main\n", "tagbot.yaml:1: branch_prefix: expected a branch name prefix ending in / or -"),
    ("branch_prefix: '../x/'\n", "tagbot.yaml:1: branch_prefix: expected a branch name prefix"),
    ("group: 'a b'\n", "tagbot.yaml:1: group: expected a group name"),
    ("automerge: [everything]\n", 'tagbot.yaml:1: automerge: unknown value "everything"'),
    ("automerge_method: fast-forward\n", 'tagbot.yaml:1: automerge_method: unknown value "fast-forward"'),
    ("automerge_schedule: [at teatime]\n", "tagbot.yaml:1: automerge_schedule: "),
])
def test_a_bad_pull_request_setting_is_one_line_naming_it(text: str, message: str):
    with pytest.raises(ConfigError) as raised:
        parse_config(text, name="tagbot.yaml")
    assert str(raised.value).startswith(message), str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("rule", "message"), [
    ("- {allow: ^1}", "tagbot.yaml:2: rules[0]: a rule needs match: (an image name or glob, or a list), or files:, "
                      "kinds:, current: or match_update_types:"),
    ("- {kinds: [pulumi], allow: ^1}", "tagbot.yaml:2: rules[0].kinds: unknown kind 'pulumi'"),
    ("- {current: banana, allow: ^1}", "tagbot.yaml:2: rules[0].current: "),
    ("- {files: ['[a'], allow: ^1}", "tagbot.yaml:2: rules[0].files: "),
])
def test_a_bad_match_key_is_one_line_naming_it(rule: str, message: str):
    with pytest.raises(ConfigError) as raised:
        parse_config(f"rules:\n{rule}\n", name="tagbot.yaml")
    assert str(raised.value).startswith(message)
