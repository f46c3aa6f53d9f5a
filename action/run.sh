#!/usr/bin/env bash
# The command the postctl GitHub Action runs (action.yml at the repository root calls this
# file; tests/tests/action.rs runs it too). Inputs arrive as INPUT_* environment variables.
set -euo pipefail

postctl="${POSTCTL:-postctl}"
targets="${INPUT_TARGETS:?the action needs the targets input: accounts or groups, comma separated}"

# A release event carries the notes; otherwise the changelog in the repository does.
if [ "${GITHUB_EVENT_NAME:-}" = "release" ] && [ -n "${GITHUB_EVENT_PATH:-}" ]; then
  source="$GITHUB_EVENT_PATH"
else
  source="${INPUT_CHANGELOG:-CHANGELOG.md}"
fi

args=(post --release "$source" --to "$targets" --json)
if [ -n "${INPUT_VERSION:-}" ]; then args+=(--version "$INPUT_VERSION"); fi
if [ "${INPUT_DRY_RUN:-false}" = "true" ]; then args+=(--dry-run); fi
case "${INPUT_THREAD:-summary}" in
  summary) ;;
  auto|numbered|never) args+=(--thread "$INPUT_THREAD") ;;
  *) echo "error: the thread input takes summary, auto, numbered or never, not ${INPUT_THREAD}" >&2; exit 2 ;;
esac

set +e
result="$("$postctl" "${args[@]}")"
code=$?
set -e
printf '%s\n' "$result"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "result<<POSTCTL_RESULT_EOF"
    printf '%s\n' "$result"
    echo "POSTCTL_RESULT_EOF"
  } >> "$GITHUB_OUTPUT"
fi
exit "$code"
