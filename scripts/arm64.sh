#!/usr/bin/env bash
# The arm64 build, proven here as far as this machine can (the issue
# "Prove the arm64 build"): login, which links everything the others do
# (argon2, aws-lc, the SDK, the JWT code), is built for aarch64 with
# cargo-lambda and zig, as `sam build` does; its ELF header must say
# aarch64; then it runs under qemu-user against moto and answers login
# events (scripts/arm64_run.py). Run by scripts/test.sh (moto started,
# AWS_* set); run alone, it needs the same.
#
# The aarch64 standard library: rustup's target where rustup can download it
# (GitHub's runners), else Debian's `rustc-web` with `libstd-rust-web-dev:arm64`
# (Debian only: adding the arm64 architecture to Ubuntu's default mirrors
# breaks `apt-get update`). Running it needs `qemu-user` and an aarch64 glibc
# (`libc6-arm64-cross`, no foreign architecture needed).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/tools.sh
source "$REPO/scripts/tools.sh"
cd "$REPO"
SECONDS=0

as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo "$@"; fi; }
packages=()
command -v qemu-aarch64 >/dev/null 2>&1 || packages+=(qemu-user)
[[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] || packages+=(libc6-arm64-cross)
rustc_arm=""
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
    [[ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ]] || packages+=(rustc-web libstd-rust-web-dev:arm64)
    rustc_arm=/usr/bin/rustc
    toolchain="Debian's rustc-web and libstd-rust-web-dev:arm64"
fi
if ((${#packages[@]})); then
    echo "arm64.sh: installing ${packages[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
if [[ -n "$rustc_arm" ]]; then
    toolchain="$toolchain ($("$rustc_arm" --version))"
fi
echo "arm64.sh: toolchain: $toolchain"

build_start=$SECONDS
if [[ -n "$rustc_arm" ]]; then
    RUSTC="$rustc_arm" cargo lambda build --release --arm64 --bin login --locked
else
    cargo lambda build --release --arm64 --bin login --locked
fi
echo "arm64.sh: cargo lambda build --release --arm64 --bin login: $((SECONDS - build_start)) s"

TARGET="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
python3 scripts/arm64_run.py "$TARGET/lambda/login/bootstrap" /usr/aarch64-linux-gnu
echo "arm64.sh: the arm64 login built and answered under qemu-aarch64 in $SECONDS s"
