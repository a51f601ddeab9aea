#!/usr/bin/env bash
# The arm64 build, proven here as far as this machine can (the issue
# "Prove the arm64 build"): login, which links everything the others do
# (argon2, aws-lc, the SDK, the JWT code), is built for aarch64 with
# cargo-lambda and zig, as `sam build` does; its ELF header must say
# aarch64; then it runs under qemu-user against moto and answers login
# events (scripts/arm64_run.py).
#
#   bash scripts/arm64.sh build   # the toolchain, then the build
#   bash scripts/arm64.sh run     # qemu-user, then the events (moto and AWS_* set)
#   bash scripts/arm64.sh         # both
#
# scripts/test.sh starts `build` in the background once its own cargo steps
# are done (a target directory of its own, target/arm64, so that it does not
# wait for theirs, and is reused by the next run), and `run` at the end.
#
# The aarch64 standard library: rustup's target where rustup can download it
# (GitHub's runners), else Debian's `rustc-web` with `libstd-rust-web-dev:arm64`
# (Debian only: adding the arm64 architecture to Ubuntu's default mirrors
# breaks `apt-get update`). Running it needs `qemu-user` and an aarch64 glibc
# (`libc6-arm64-cross`: no foreign architecture needed).
#
# qemu runs it with the sysroot's glibc whole (LD_LIBRARY_PATH, in
# arm64_run.py): where libc6:arm64 is installed too (the Debian fallback),
# the host's ld.so.cache names its libraries, and the cross loader with
# another build's libc hangs at the first thread.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"
cd "$REPO"
what="${1:-all}"
export CARGO_TARGET_DIR="$REPO/target/arm64"
RUSTC_FILE="$CARGO_TARGET_DIR/rustc-used"

as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    echo "arm64.sh: installing $*"
    as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install \
        -y -qq --no-install-recommends "$@" >/dev/null
}

build() {
    SECONDS=0
    mkdir -p "$CARGO_TARGET_DIR"
    local rustc_arm="" toolchain
    if rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
        toolchain="rustup's aarch64-unknown-linux-gnu target ($(rustc --version))"
    else
        if ! grep -qx 'ID=debian' /etc/os-release; then
            echo "arm64.sh: rustup cannot download the aarch64 target, and this is not Debian" >&2
            exit 1
        fi
        if ! dpkg --print-foreign-architectures | grep -qx arm64; then
            as_root dpkg --add-architecture arm64
        fi
        [[ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ]] || apt_install rustc-web libstd-rust-web-dev:arm64
        rustc_arm=/usr/bin/rustc
        toolchain="Debian's rustc-web and libstd-rust-web-dev:arm64 ($("$rustc_arm" --version))"
    fi
    echo "arm64.sh: toolchain: $toolchain"
    echo "$toolchain" >"$RUSTC_FILE"
    if [[ -n "$rustc_arm" ]]; then export RUSTC="$rustc_arm"; fi
    cargo lambda build --release --arm64 --bin login --locked
    echo "arm64.sh: cargo lambda build --release --arm64 --bin login: ${SECONDS} s"
}

run() {
    SECONDS=0
    local packages=()
    command -v qemu-aarch64 >/dev/null 2>&1 || packages+=(qemu-user)
    [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] || packages+=(libc6-arm64-cross)
    if ((${#packages[@]})); then apt_install "${packages[@]}"; fi
    echo "arm64.sh: built with $(cat "$RUSTC_FILE" 2>/dev/null || echo '?'); $(qemu-aarch64 --version | head -1)"
    python3 scripts/arm64_run.py "$CARGO_TARGET_DIR/lambda/login/bootstrap" /usr/aarch64-linux-gnu
    echo "arm64.sh: the arm64 login answered under qemu-aarch64 (${SECONDS} s)"
}

case "$what" in
    build) build ;;
    run) run ;;
    all) build; run ;;
    *) echo "usage: arm64.sh [build|run]" >&2; exit 2 ;;
esac
