#!/usr/bin/env bash
# Installs postctl for the GitHub Action (action.yml calls this file; tests/tests/action.rs
# runs it too). It downloads the release binary built for this runner and checks it against
# its published SHA-256 sum; it compiles postctl from the action's own source only when no
# release binary can be had (or when asked to).
#
# Environment:
#   INPUT_INSTALL           release (download or fail), source (always compile), auto (default:
#                           download, else compile)
#   INPUT_POSTCTL_VERSION   the release to download (v0.2.0); default: the action's own ref
#                           when it is a version tag, else the latest release
#   ACTION_REF              the ref the workflow used the action at (github.action_ref)
#   ACTION_PATH             the action's checkout (github.action_path), to compile from
#   RUNNER_OS, RUNNER_ARCH  which binary fits (Linux, macOS, Windows; X64, ARM64)
#   POSTCTL_ROOT            where to install: the binary goes to $POSTCTL_ROOT/bin
#   POSTCTL_RELEASES        where releases are downloaded from
set -euo pipefail

mode="${INPUT_INSTALL:-auto}"
root="${POSTCTL_ROOT:?POSTCTL_ROOT names the directory to install postctl into}"
releases="${POSTCTL_RELEASES:-https://github.com/postctl/postctl/releases}"
case "$mode" in release|source|auto) ;; *)
  echo "error: the install input takes release, source or auto, not ${mode}" >&2; exit 2 ;;
esac

from_source() {
  local path="${ACTION_PATH:?ACTION_PATH names the checkout of the action, to compile from}"
  echo "postctl: compiling from source (a few minutes)" >&2
  cargo install --locked --quiet --path "$path/cli" --root "$root"
}

target_triple() {
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-gnu ;;
    Linux/ARM64) echo aarch64-unknown-linux-gnu ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) return 1 ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

# Downloads $url into $work, checks its SHA-256 and installs the binary; download() calls
# it and reads its variables (bash's dynamic scope).
fetch() {
  curl -fsSL --retry 3 --retry-delay 2 -o "$work/$archive" "$url" || { echo "could not download $url"; return 1; }
  curl -fsSL --retry 3 --retry-delay 2 -o "$work/$archive.sha256" "$url.sha256" || { echo "could not download $url.sha256"; return 1; }
  expected="$(cut -d' ' -f1 < "$work/$archive.sha256")"
  actual="$(sha256_of "$work/$archive")"
  if [ "$expected" != "$actual" ]; then
    echo "the SHA-256 of $archive is $actual, but the release says $expected"
    return 1
  fi
  case "$archive" in
    *.zip) (cd "$work" && unzip -q "$archive") ;;
    *) tar xzf "$work/$archive" -C "$work" ;;
  esac || { echo "cannot unpack $archive"; return 1; }
  mkdir -p "$root/bin" || { echo "cannot make $root/bin"; return 1; }
  if [ -f "$work/postctl-${target}/postctl.exe" ]; then
    cp "$work/postctl-${target}/postctl.exe" "$root/bin/"
  else
    install -m 0755 "$work/postctl-${target}/postctl" "$root/bin/postctl"
  fi || { echo "$archive holds no postctl-${target}/postctl"; return 1; }
}

# Prints why it could not download, and returns non-zero, rather than stopping the script.
download() {
  local target version archive url work expected actual
  target="$(target_triple)" || { echo "no release binary is built for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}"; return 1; }
  version="${INPUT_POSTCTL_VERSION:-}"
  if [ -z "$version" ] && [[ "${ACTION_REF:-}" =~ ^v[0-9]+(\.[0-9]+)*([-+].*)?$ ]]; then
    version="$ACTION_REF"
  fi
  archive="postctl-${target}.tar.gz"
  [ "$target" = x86_64-pc-windows-msvc ] && archive="postctl-${target}.zip"
  if [ -z "$version" ] || [ "$version" = latest ]; then
    url="${releases}/latest/download/${archive}"
  else
    url="${releases}/download/${version}/${archive}"
  fi
  work="$(mktemp -d)"
  # Nothing of a failed or finished download stays behind. (Not an EXIT trap: it would run
  # after this function returned, when `work` is out of scope.)
  local status=0
  fetch || status=$?
  rm -rf "$work"
  [ "$status" -eq 0 ] || return "$status"
  echo "postctl: installed the ${version:-latest} release for $target" >&2
}

case "$mode" in
  source) from_source ;;
  release)
    if ! why="$(download)"; then echo "error: $why" >&2; exit 1; fi ;;
  auto)
    if ! why="$(download)"; then
      echo "::notice::postctl: $why; compiling from source instead" >&2
      from_source
    fi ;;
esac
