#!/usr/bin/env bash
# camerad installer: one script for a development host and for the camera itself.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
TARGET=auto
PREFIX=""
DRY_RUN=0
UNINSTALL=0
PREVIEW=0
METRICS=0
PYTHON="${PYTHON:-python3}"
PICAMERA2_VERSION=0.3.38  # the picamera2 whose API the backend is tested against

usage() {
    cat <<'USAGE'
usage: ./install.sh [--target auto|host|pi|qcom] [--prefix DIR] [--dry-run] [--uninstall] [--python PYTHON]
                    [--preview] [--metrics]

Installs camerad from this checkout. Safe to run again: it only does what is missing.

  host  (any machine that is not a camera board) makes .venv/ with camerad and its development and test
        dependencies, and unpacks Debian's stock libcamera tuning files into .cache/ when apt can fetch them.
  pi    (a Raspberry Pi, detected from /proc/device-tree/model) installs Debian's python3-picamera2,
        python3-libcamera, python3-lgpio and friends, makes .venv/ with --system-site-packages so it sees
        them, and installs camerad as a service:
          /opt/camerad/venv                      camerad itself (a venv seeing the system's picamera2)
          /usr/lib/systemd/system/camerad.service, camerad.socket   enabled and started
          /usr/lib/sysusers.d/camerad.conf       the camera user (groups video, gpio); operators join camera
          /usr/lib/tmpfiles.d/camerad.conf       /run/camerad for the control socket
          /usr/share/camerad/{tuning,hw}         data
          /etc/camerad/camerad.toml              the configuration, if absent
  qcom  (a Qualcomm dev kit) installs libcamera's Python bindings and gpiod, the same service, and a udev rule
        (/usr/lib/udev/rules.d/60-camerad.rules) giving the video and gpio groups their devices.

options:
  --target T    override detection
  --prefix DIR  install the system files under DIR instead of / (an image's root, or a test): apt is skipped,
                users, directories and unit links are made with --root=DIR, nothing is started, and camerad
                goes into DIR/opt/camerad/venv without its dependencies (the image's packages provide them)
  --dry-run     print what would be done, change nothing
  --uninstall   stop, disable and remove the service (pi, qcom); keeps /etc/camerad, /var/lib/camerad (the
                captures) and the camera user
  --python PY   interpreter to build the venv from (default python3, 3.11 or newer)
  --preview     (pi, qcom) also install the unit drop-in that lets camerad serve its preview page on 127.0.0.1
                (camerad.service otherwise allows no IP at all); turn the page on with [preview] enabled = true
  --metrics     (pi, qcom) also install the drop-in that lets camerad write its Prometheus textfile into
                node_exporter's /var/lib/prometheus/node-exporter ([metrics] textfile_directory)
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
        --uninstall) UNINSTALL=1; shift ;;
        --preview) PREVIEW=1; shift ;;
        --metrics) METRICS=1; shift ;;
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
case "$PREFIX" in ""|/*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac
PREFIX="${PREFIX%/}"
say "target: $TARGET${PREFIX:+, prefix $PREFIX}$([ "$DRY_RUN" = 1 ] && echo ', dry run')$([ "$UNINSTALL" = 1 ] && echo ', uninstall')"

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

have_compiler() {  # pip builds the ISP's kernels (firmware/isp/*.c, docs/isp-speed.md) with the package
    [ "$DRY_RUN" = 1 ] || command -v "${CC:-cc}" >/dev/null 2>&1 \
        || die "no C compiler: pip builds camerad's ISP kernels (firmware/isp/*.c); install gcc and Python's headers (python3-dev)"
}

make_venv() {  # $1: extra venv flags; $2: pip extras
    local stamp="$VENV/.camerad-installed" want
    want="$(cat "$HERE/pyproject.toml" "$HERE"/firmware/isp/*.c | sha256sum | cut -c1-16) $2 $1"
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        run "$PYTHON" -m venv $1 "$VENV"
    fi
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        say "python packages up to date (pyproject.toml and the ISP's C unchanged)"
        return
    fi
    have_compiler
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

dev_packages() {  # Debian packages some tests need; without apt or root they are skipped (and their tests skip)
    local pkgs=("$@") sudo=""
    if ! command -v apt-get >/dev/null 2>&1; then say "no apt here: skipping ${pkgs[*]} (their tests will skip)"; return; fi
    if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
        say "not root and no passwordless sudo: skipping ${pkgs[*]} (their tests will skip)"; return
    fi
    [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    apt_install "${pkgs[@]}" || { run $sudo apt-get update -qq && apt_install "${pkgs[@]}"; } \
        || say "could not install ${pkgs[*]} (offline?); their tests will skip"
}

dev_shell() {  # bash-completion and tmux (camctl's tests type into a real bash in a terminal), node_exporter (the
    # metrics test has it read camerad's textfile)
    if dpkg-query -W -f='${Status}' bash-completion 2>/dev/null | grep -q "ok installed" && command -v tmux >/dev/null \
            && command -v prometheus-node-exporter >/dev/null; then
        say "bash-completion, tmux and prometheus-node-exporter present"; return
    fi
    dev_packages bash-completion tmux prometheus-node-exporter
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

# -- camerad as a service (pi, qcom) ---------------------------------------------------------------------
SERVICE_HOME=/opt/camerad
UNIT_DIR=/usr/lib/systemd/system
SYSTEM_FILES=(  # source in the checkout -> destination under PREFIX
    "systemd/camerad.service:$UNIT_DIR/camerad.service"
    "systemd/camerad.socket:$UNIT_DIR/camerad.socket"
    "systemd/sysusers.d/camerad.conf:/usr/lib/sysusers.d/camerad.conf"
    "systemd/tmpfiles.d/camerad.conf:/usr/lib/tmpfiles.d/camerad.conf"
)
UDEV_RULE="systemd/udev/60-camerad.rules:/usr/lib/udev/rules.d/60-camerad.rules"
PREVIEW_DROPIN="systemd/camerad-preview.conf:$UNIT_DIR/camerad.service.d/preview.conf"
METRICS_DROPIN="systemd/camerad-metrics.conf:$UNIT_DIR/camerad.service.d/metrics.conf"
COMPLETION_DIR=/usr/share/bash-completion/completions
DATA_DIRS=(tuning hw)

install_file() {  # $1 source (relative to the checkout), $2 destination under PREFIX
    local src="$HERE/$1" dest="$PREFIX$2"
    if [ -f "$dest" ] && cmp -s "$src" "$dest"; then say "up to date: $dest"; return; fi
    run install -D -m 0644 "$src" "$dest"
}

install_data() {
    local dir
    for dir in "${DATA_DIRS[@]}"; do
        if [ -d "$PREFIX/usr/share/camerad/$dir" ] && diff -rq "$HERE/$dir" "$PREFIX/usr/share/camerad/$dir" >/dev/null 2>&1; then
            say "up to date: $PREFIX/usr/share/camerad/$dir"; continue
        fi
        run mkdir -p "$PREFIX/usr/share/camerad"
        run rm -rf "$PREFIX/usr/share/camerad/$dir"
        run cp -r "$HERE/$dir" "$PREFIX/usr/share/camerad/$dir"
    done
}

service_venv() {  # camerad in its own venv that sees the system's picamera2/libcamera (--system-site-packages)
    local venv="$PREFIX$SERVICE_HOME/venv" stamp want deps=""
    stamp="$venv/.camerad-installed"
    want="$( (cat "$HERE/pyproject.toml"; find "$HERE/firmware" -type f \( -name '*.py' -o -name '*.c' -o -name '*.toml' -o -name '*.json' \) \
              | sort | xargs cat) | sha256sum | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then say "camerad in $venv is up to date"; return; fi
    [ -x "$venv/bin/python" ] || run "$PYTHON" -m venv --system-site-packages "$venv"
    have_compiler
    # Staged into a prefix, the image's packages bring the dependencies; on the camera pip adds what apt lacks.
    [ -n "$PREFIX" ] && deps="--no-deps"
    run "$venv/bin/python" -m pip install --quiet $deps "$HERE"
    [ "$DRY_RUN" = 1 ] || echo "$want" > "$stamp"
}

activate_service() {  # $1: with a udev rule (1) or not
    local root=()
    [ -n "$PREFIX" ] && root=(--root="$PREFIX")
    command -v systemd-sysusers >/dev/null 2>&1 || die "systemd-sysusers not found: camerad needs systemd"
    run systemd-sysusers "${root[@]}" "$PREFIX/usr/lib/sysusers.d/camerad.conf"
    if [ -n "$PREFIX" ] && [ "$(id -u)" -ne 0 ]; then
        say "not root: skipping systemd-tmpfiles --root (it must chown; the image makes /run/camerad at boot)"
    else
        run systemd-tmpfiles "${root[@]}" --create "$PREFIX/usr/lib/tmpfiles.d/camerad.conf"
    fi
    if [ -z "$PREFIX" ]; then
        if [ "$1" = 1 ]; then
            run udevadm control --reload-rules
            run udevadm trigger --subsystem-match=dma_heap --subsystem-match=media --subsystem-match=video4linux \
                --subsystem-match=gpio
        fi
        run systemctl daemon-reload
        run systemctl enable --now camerad.socket camerad.service
        say "camerad is running: systemctl status camerad; journalctl -u camerad -f -o cat"
        say "operators who use camctl or read captures: usermod -aG camera <user>"
    else
        run systemctl --root="$PREFIX" enable camerad.socket camerad.service
    fi
}

install_completions() {  # $1: python that can import firmware; $2: destination directory (bash completion); $3: --staged
    local out line
    if [ "$DRY_RUN" = 1 ]; then say "would write bash completion for camctl and camtune into $2"; return; fi
    # Says where it wrote them, and the one line for ~/.bashrc when bash-completion does not look in $2 (a venv).
    if out="$(PYTHONPATH="$HERE" "$1" -m firmware.camctl.completion install "$2" ${3:-} 2>&1)"; then
        while IFS= read -r line; do say "$line"; done <<< "$out"
    else
        say "could not generate bash completion with $1 (skipped): ${out##*$'\n'}"
    fi
}

install_service() {  # $1: with the udev rule (qcom) or not (pi)
    local entry
    service_venv
    for entry in "${SYSTEM_FILES[@]}"; do install_file "${entry%%:*}" "${entry#*:}"; done
    [ "$1" = 1 ] && install_file "${UDEV_RULE%%:*}" "${UDEV_RULE#*:}"
    [ "$PREVIEW" = 1 ] && install_file "${PREVIEW_DROPIN%%:*}" "${PREVIEW_DROPIN#*:}"
    [ "$METRICS" = 1 ] && install_file "${METRICS_DROPIN%%:*}" "${METRICS_DROPIN#*:}"
    install_completions "$PREFIX$SERVICE_HOME/venv/bin/python" "$PREFIX$COMPLETION_DIR" ${PREFIX:+--staged}
    install_data
    install_config
    activate_service "$1"
}

uninstall_service() {
    local entry root=()
    [ -n "$PREFIX" ] && root=(--root="$PREFIX")
    if command -v systemctl >/dev/null 2>&1; then
        if [ -z "$PREFIX" ]; then
            run systemctl disable --now camerad.service camerad.socket || true
        elif [ -e "$PREFIX$UNIT_DIR/camerad.service" ]; then
            run systemctl "${root[@]}" disable camerad.service camerad.socket || true
        fi
    fi
    for entry in "${SYSTEM_FILES[@]}" "$UDEV_RULE" "$PREVIEW_DROPIN" "$METRICS_DROPIN" "x:$COMPLETION_DIR/camctl" "x:$COMPLETION_DIR/camtune"; do
        [ -e "$PREFIX${entry#*:}" ] && run rm -f "$PREFIX${entry#*:}"
    done
    [ -e "$PREFIX$SERVICE_HOME" ] && run rm -rf "$PREFIX$SERVICE_HOME"
    [ -e "$PREFIX/usr/share/camerad" ] && run rm -rf "$PREFIX/usr/share/camerad"
    if [ -z "$PREFIX" ] && command -v systemctl >/dev/null 2>&1; then run systemctl daemon-reload; fi
    say "removed the camerad service; kept $PREFIX/etc/camerad (configuration), $PREFIX/var/lib/camerad (captures)"
    say "and the camera user and group (remove them by hand if you want them gone)"
}

test_picamera2() {  # the real picamera2 API for the backend's tests; its camera stack is faked there
    local have
    have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("picamera2"))' 2>/dev/null || true)"
    if [ "$have" = "$PICAMERA2_VERSION" ]; then
        say "picamera2 $PICAMERA2_VERSION (API for tests) already installed"; return
    fi
    say "installing picamera2 $PICAMERA2_VERSION without dependencies (its API, for the backend's tests)"
    run "$VENV/bin/python" -m pip install --quiet --no-deps "picamera2==$PICAMERA2_VERSION"
}

if [ "$UNINSTALL" = 1 ]; then
    case "$TARGET" in
        host) say "nothing is installed system-wide on a host; remove $VENV to uninstall" ;;
        *) uninstall_service ;;
    esac
    say "done"
    exit 0
fi

host_systemd() {  # systemd-analyze, -sysusers, -tmpfiles and systemctl for the unit and install tests
    if command -v systemd-analyze >/dev/null 2>&1; then
        say "systemd tools present ($(systemd-analyze --version | head -1))"; return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "no systemd-analyze and no apt here: the systemd unit tests will skip"; return
    fi
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    say "installing Debian's systemd package for systemd-analyze (the unit tests); nothing is started"
    run $sudo apt-get install -y --no-install-recommends systemd \
        || say "could not install systemd (no root?); the systemd unit tests will skip"
}

host_browser() {  # Debian's chromium and chromium-driver: the preview page's browser test drives them
    if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
        say "chromium and chromedriver present"; return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then say "no apt here: skipping chromium (the browser test will skip)"; return; fi
    if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
        say "not root and no passwordless sudo: skipping chromium (the browser test will skip)"; return
    fi
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    say "installing Debian's chromium and chromium-driver for the preview page's browser test"
    apt_install chromium chromium-driver || { run $sudo apt-get update -qq && apt_install chromium chromium-driver; } \
        || say "could not install chromium (offline?); the browser test will skip"
}

raw_readers() {  # exiftool, RawTherapee and darktable: the file tests validate and open every capture with them
    if command -v exiftool >/dev/null && command -v rawtherapee-cli >/dev/null && command -v darktable-cli >/dev/null; then
        say "exiftool, rawtherapee-cli and darktable-cli present"; return
    fi
    say "installing Debian's raw readers for the file tests (the raw developers camerad's DNGs must open in)"
    dev_packages libimage-exiftool-perl rawtherapee darktable
}

case "$TARGET" in
    host)
        make_venv "" "dev"
        test_picamera2
        stock_tuning
        dev_tools
        raw_readers
        dev_shell
        host_systemd
        host_browser
        install_completions "$VENV/bin/python" "$VENV/share/bash-completion/completions"
        ;;
    pi)
        if [ -z "$PREFIX" ]; then
            apt_install python3-picamera2 python3-libcamera python3-lgpio python3-gpiozero python3-venv \
                python3-numpy python3-opencv python3-yaml python3-pil python3-piexif bash-completion gcc python3-dev
            make_venv "--system-site-packages" ""
        else
            say "staging into $PREFIX: the image needs python3-picamera2 python3-libcamera python3-lgpio python3-gpiozero"
        fi
        install_service 0
        ;;
    qcom)
        if [ -z "$PREFIX" ]; then
            apt_install python3-libcamera python3-libgpiod python3-venv python3-numpy python3-yaml bash-completion \
                gcc python3-dev
            make_venv "--system-site-packages" ""
        else
            say "staging into $PREFIX: the image needs python3-libcamera python3-libgpiod"
        fi
        install_service 1
        ;;
esac
say "done"
