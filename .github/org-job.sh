#!/usr/bin/env bash
# One matrix job of .github/workflows/org.yml: for each repository it was given, a checkout and
# `tagbot pr --offline` on the cache folder the plan job filled; a repository that fails is
# reported, and the others still run. Reads GITHUB_TOKEN, OANOR_API_KEY, REPOSITORIES (space-
# separated owner/name), TAGBOT_CACHE_DIR, GITHUB_SERVER_URL and DEFAULT_CONFIG (a path in the
# caller's checkout, .caller/, or empty), and TAGBOT, the program (default: tagbot on PATH, where
# the install step puts it). Writes results/<owner>-<name>.json for the summary.
set -uo pipefail

tagbot="${TAGBOT:-tagbot}"
basic=$(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 | tr -d '\n')
header="http.${GITHUB_SERVER_URL}/.extraheader"
results="$PWD/results"
checkouts="${RUNNER_TEMP:-$PWD}/tagbot-repositories"
mkdir -p "$results" "$checkouts"
failed=0
for repository in $REPOSITORIES; do
    dir="$checkouts/$repository"
    rm -rf "$dir"
    # The token goes in a header git sends, never in the URL (which logs and errors show).
    if ! git -c "$header=AUTHORIZATION: basic $basic" clone --quiet "${GITHUB_SERVER_URL}/${repository}.git" "$dir"; then
        echo "::error::${repository}: cannot clone it with this token"
        failed=1
        continue
    fi
    git -C "$dir" config --local "$header" "AUTHORIZATION: basic $basic"
    args=(pr --repository "$repository" --offline --cache-dir "$TAGBOT_CACHE_DIR" --result "$results/${repository//\//-}.json")
    if [ -n "${DEFAULT_CONFIG:-}" ]; then
        args+=(--default-config "$PWD/.caller/$DEFAULT_CONFIG")
    fi
    (cd "$dir" && "$tagbot" "${args[@]}") || failed=1
done
exit "$failed"
