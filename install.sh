#!/usr/bin/env bash
# camerad installer: one script for a development host and for the camera itself.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
TARGET=auto
PREFIX=""
DRY_RUN=0
PYTHON="${PYTHON:-python3}"

usage() {
    cat <<'USAGE'
usage: ./install.sh [--target auto|host|pi|qcom] [--prefix DIR] [--dry-run] [--python PYTHON]

Installs camerad from this checkout. Safe to run again: it only does what is missing.

  host  (any machine that is not a camera board) makes .venv/ with camerad and its development and test
        dependencies, and unpacks Debian's stock libcamera tuning files into .cache/ when apt can fetch them.
  pi    (a Raspberry Pi, detected from /proc/device-tree/model) installs Debian's python3-picamera2,
        python3-libcamera, python3-lgpio and friends, makes .venv/ with --system-site-packages so it sees
        them, and installs the configuration (/etc/camerad/camerad.toml, if absent).
  qcom  (a Qualcomm dev kit) installs libcamera's Python bindings and gpiod, and the same venv and config.

options:
  --target T    override detection
  --prefix DIR  install system files (configuration) under DIR instead of /
  --dry-run     print what would be done, change nothing
  --python PY   interpreter to build the venv from (default python3, 3.11 or newer)
  -h, --help    this text

After a host install:  .venv/bin/camerad --mock --demo     and     .venv/bin/python -m pytest
USAGE
}

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
run() {
    if [ "$DRY_RUN" = 1 ]; then printf '  would run: %s\n' "$*"; else printf '  $ %s\n' "$*"; "$@"; fi
}

while [ $# -gt 0 ]; do
    case "$1" in
        --target) [ $# -ge 2 ] || die "--target needs a value (auto, host, pi, qcom)"; TARGET="$2"; shift 2 ;;
        --target=*) TARGET="${1#*=}"; shift ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX="$2"; shift 2 ;;
        --prefix=*) PREFIX="${1#*=}"; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        --python) [ $# -ge 2 ] || die "--python needs an interpreter"; PYTHON="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

detect_target() {
    local model=""
    [ -r /proc/device-tree/model ] && model="$(tr -d '\0' < /proc/device-tree/model)"
    case "$model" in
        "Raspberry Pi"*) echo pi ;;
        *Qualcomm*|*"Robotics RB"*) echo qcom ;;
        *) echo host ;;
    esac
}

[ "$TARGET" = auto ] && TARGET="$(detect_target)"
case "$TARGET" in host|pi|qcom) ;; *) die "unknown target '$TARGET' (auto, host, pi, qcom)" ;; esac
say "target: $TARGET${PREFIX:+, prefix $PREFIX}$([ "$DRY_RUN" = 1 ] && echo ', dry run')"

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; install Python 3.11 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); camerad needs Python 3.11 or newer (for tomllib)"

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg"); done
    if [ ${#missing[@]} -eq 0 ]; then say "Debian packages already installed: $*"; return; fi
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    run $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}

make_venv() {  # $1: extra venv flags; $2: pip extras
    local stamp="$VENV/.camerad-installed" want
    want="$(cat "$HERE/pyproject.toml" | sha256sum | cut -c1-16) $2 $1"
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        run "$PYTHON" -m venv $1 "$VENV"
    fi
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        say "python packages up to date (pyproject.toml unchanged)"
        return
    fi
    say "installing camerad${2:+ with extras [$2]} into $VENV"
    run "$VENV/bin/python" -m pip install --quiet --upgrade pip
    run "$VENV/bin/python" -m pip install --quiet -e "$HERE${2:+[$2]}"
    [ "$DRY_RUN" = 1 ] || echo "$want" > "$stamp"
}

stock_tuning() {  # Debian's libcamera-ipa ships older stock tuning files; tests and camtune can read them.
    local cache="$HERE/.cache/libcamera-ipa"
    if [ -d "$cache/usr/share/libcamera/ipa" ]; then say "stock libcamera tuning files already in $cache"; return; fi
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
        say "no apt here: skipping Debian's stock tuning files (optional)"; return
    fi
    say "fetching Debian's libcamera-ipa for its stock tuning files (optional)"
    if [ "$DRY_RUN" = 1 ]; then printf '  would run: apt-get download libcamera-ipa; dpkg-deb -x\n'; return; fi
    local tmp; tmp="$(mktemp -d)"
    if (cd "$tmp" && apt-get download libcamera-ipa >/dev/null 2>&1); then
        mkdir -p "$cache" && dpkg-deb -x "$tmp"/libcamera-ipa_*.deb "$cache" && say "unpacked into $cache"
    else
        say "could not download libcamera-ipa (offline?); continuing without it"
    fi
    rm -rf "$tmp"
}

dev_tools() {  # dcraw: the ISP tests check that dcraw renders our DNGs right (they skip without it).
    if command -v dcraw >/dev/null 2>&1; then say "dcraw already installed"; return; fi
    if ! command -v apt-get >/dev/null 2>&1; then say "no apt here: skipping dcraw (its test will skip)"; return; fi
    if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
        say "not root and no passwordless sudo: skipping dcraw (its test will skip)"; return
    fi
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    apt_install dcraw || { run $sudo apt-get update -qq && apt_install dcraw; } \
        || say "could not install dcraw (offline?); its test will skip"
}

install_config() {
    local dest="${PREFIX}/etc/camerad/camerad.toml"
    if [ -e "$dest" ]; then say "keeping existing $dest"; return; fi
    say "installing configuration $dest"
    run install -D -m 0644 "$HERE/firmware/config/camerad.example.toml" "$dest"
}

case "$TARGET" in
    host)
        make_venv "" "dev"
        stock_tuning
        dev_tools
        ;;
    pi)
        apt_install python3-picamera2 python3-libcamera python3-lgpio python3-gpiozero python3-venv \
            python3-numpy python3-opencv python3-yaml python3-pil python3-piexif
        make_venv "--system-site-packages" ""
        install_config
        ;;
    qcom)
        apt_install python3-libcamera python3-libgpiod python3-venv python3-numpy python3-yaml
        make_venv "--system-site-packages" ""
        install_config
        ;;
esac
say "done"
