#!/usr/bin/env bash
# make check-fresh: the README's two commands on a freshly made Debian root, as a newcomer runs them.
#
# Builds a minimal Debian root (debootstrap, default trixie = Debian 13: Python 3.13, no Python
# 3.11, no BLAS), installs exactly the README's prerequisites, clones this repository's committed
# HEAD into it and runs `make run` and `make test` there, each output line stamped with the
# seconds since the start. Needs root, debootstrap and patchelf (apt-installed when missing), and
# Debian's archive and PyPI on the network.
#
# GitHub, where uv downloads Python builds from, is out of reach on the project's machines, so a
# loopback HTTP server stands in for it: it serves a Python 3.11 made from one this machine has
# (PYTHON311, default: python3.11 on PATH; a shared-library build with its headers), laid out as
# python-build-standalone's are, through uv's own setting UV_PYTHON_DOWNLOADS_JSON_URL. It serves
# MNIST's files too (MNIST_MIRROR), from ../shared/datasets/mnist. A user's machine needs neither.
#
# Settings: FRESH_ROOT (folder, default /var/tmp/tutorial-fresh; emptied first), SUITE (trixie),
# DEBIAN_MIRROR (http://deb.debian.org/debian), PORT (a free one), MNIST_FILES, PYTHON311, KEEP=1 keeps
# the root afterwards; OPENBLAS_CORETYPE, if set, is passed into the root (another OpenBLAS kernel).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
FRESH_ROOT=${FRESH_ROOT:-/var/tmp/tutorial-fresh}
SUITE=${SUITE:-trixie}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PYTHON311=${PYTHON311:-$(command -v python3.11 || true)}
PORT=${PORT:-$("${PYTHON311:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
MNIST_FILES=${MNIST_FILES:-$REPO/../shared/datasets/mnist}
PREREQUISITES="make g++ python3 python3-venv"  # README.md and docs/setup.md
SERVE=$FRESH_ROOT.serve
START=$(date +%s)

stamp() { while IFS= read -r line; do printf '[%5ds] %s\n' $(( $(date +%s) - START )) "$line"; done; }
phase() { echo "=== $*" | stamp; }
fail() { echo "check-fresh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap and chroot)"
[ -n "$PYTHON311" ] || fail "no Python 3.11 here to serve to uv: set PYTHON311=/path/to/python3.11"
[ -d "$MNIST_FILES" ] || fail "no MNIST files at $MNIST_FILES: set MNIST_FILES"
if ! command -v debootstrap >/dev/null || ! command -v patchelf >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap patchelf >/dev/null
fi

unmount() {
  for m in dev/pts dev proc; do
    if mountpoint -q "$FRESH_ROOT/$m"; then umount "$FRESH_ROOT/$m"; fi
  done
}
SERVER=
cleanup() {
  [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true
  unmount
  if [ "${KEEP:-0}" != 1 ]; then rm -rf --one-file-system "$FRESH_ROOT" "$SERVE"; fi
}
trap cleanup EXIT
unmount
rm -rf --one-file-system "$FRESH_ROOT" "$SERVE"

phase "debootstrap $SUITE (minbase) into $FRESH_ROOT"
debootstrap --variant=minbase "$SUITE" "$FRESH_ROOT" "$DEBIAN_MIRROR" > "$FRESH_ROOT.debootstrap.log" 2>&1 \
  || { tail -20 "$FRESH_ROOT.debootstrap.log"; fail "debootstrap failed"; }
rm -f "$FRESH_ROOT.debootstrap.log"
mount -t proc proc "$FRESH_ROOT/proc"
mount --bind /dev "$FRESH_ROOT/dev"
mount --bind /dev/pts "$FRESH_ROOT/dev/pts"
cp /etc/resolv.conf "$FRESH_ROOT/etc/resolv.conf"
# This sandbox intercepts HTTPS with its own CA; pip in the root is told of it (PIP_CERT below)
cp /etc/ssl/certs/ca-certificates.crt "$FRESH_ROOT/etc/host-ca.crt"

in_root() {
  env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive PIP_CERT=/etc/host-ca.crt \
    ${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE} \
    UV_PYTHON_DOWNLOADS_JSON_URL="http://127.0.0.1:$PORT/python-downloads.json" \
    MNIST_MIRROR="http://127.0.0.1:$PORT/mnist/" \
    chroot "$FRESH_ROOT" bash -c "$1"
}

phase "the README's prerequisites: apt-get install $PREREQUISITES"
in_root "apt-get update -qq && apt-get install -y -qq --no-install-recommends $PREREQUISITES >/dev/null" 2>&1 | stamp
in_root 'python3 --version; ls /usr/bin/python3.11 2>&1 || true; ls /usr/lib/x86_64-linux-gnu/libopenblas* 2>&1 || true' | stamp

phase "a Python 3.11 for uv, from $PYTHON311, on http://127.0.0.1:$PORT"
mkdir -p "$SERVE/mnist"
cp "$MNIST_FILES"/*-ubyte* "$SERVE/mnist/"
"$PYTHON311" - "$SERVE" "$PORT" <<'EOF' | stamp
# Lay this Python out as a python-build-standalone 'install_only' archive: python/bin, lib,
# include; its build prefix written as /install, which uv rewrites to where it installs it;
# the interpreter finds libpython through $ORIGIN/../lib.
import hashlib, json, os, platform, shutil, subprocess, sys, sysconfig, tarfile
serve, port = sys.argv[1], sys.argv[2]
prefix = sys.base_prefix
assert sysconfig.get_config_var("Py_ENABLE_SHARED"), "needs a shared-library build of Python"
stage = os.path.join(serve, "stage", "python")
skip = shutil.ignore_patterns("__pycache__", "test", "tests", "idle_test", "site-packages", "*.a")
for part in ("bin", "lib", "include"):
    shutil.copytree(os.path.join(prefix, part), os.path.join(stage, part), symlinks=True, ignore=skip)
os.makedirs(os.path.join(stage, "lib", "python3.11", "site-packages"))
for root, _, files in os.walk(stage):
    for name in files:
        path = os.path.join(root, name)
        if name.startswith("_sysconfigdata") or name.endswith((".pc", "-config")):
            if not os.path.islink(path):
                with open(path, encoding="utf-8", errors="surrogateescape") as f:
                    text = f.read()
                with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(text.replace(prefix, "/install"))
version = "%d.%d.%d" % sys.version_info[:3]
subprocess.run(["patchelf", "--set-rpath", "$ORIGIN/../lib", os.path.join(stage, "bin", "python3.11")], check=True)
archive = os.path.join(serve, f"cpython-{version}-linux-{platform.machine()}-gnu.tar.gz")
with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
    tar.add(stage, arcname="python")
shutil.rmtree(os.path.join(serve, "stage"))
sha256 = hashlib.sha256(open(archive, "rb").read()).hexdigest()
key = f"cpython-{version}-linux-{platform.machine()}-gnu"
entry = {"name": "cpython", "arch": {"family": platform.machine(), "variant": None}, "os": "linux",
         "libc": "gnu", "major": sys.version_info[0], "minor": sys.version_info[1],
         "patch": sys.version_info[2], "prerelease": "", "variant": None, "sha256": sha256,
         "url": f"http://127.0.0.1:{port}/{os.path.basename(archive)}"}
json.dump({key: entry}, open(os.path.join(serve, "python-downloads.json"), "w"), indent=1)
print(f"{key}: {os.path.getsize(archive) / 1e6:.0f} MB")
EOF
"$PYTHON311" -m http.server --bind 127.0.0.1 --directory "$SERVE" "$PORT" >/dev/null 2>&1 &
SERVER=$!
"$PYTHON311" - "$PORT" <<'EOF' || fail "the loopback server did not start on port $PORT"
import sys, time, urllib.request
for _ in range(50):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/python-downloads.json", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(1)
EOF

phase "clone $(git -C "$REPO" rev-parse --short HEAD) into the root"
git clone --quiet "$REPO" "$FRESH_ROOT/root/tutorial"

phase "make run"
in_root 'cd /root/tutorial && make run' 2>&1 | stamp
phase "make test"
in_root 'cd /root/tutorial && make test' 2>&1 | stamp
phase "passed: make run and make test on a fresh $SUITE root in $(( $(date +%s) - START )) s"
