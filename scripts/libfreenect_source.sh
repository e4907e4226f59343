#!/usr/bin/env bash
# Fetch the source of Debian's libfreenect (the version of the installed libfreenect0.5) and
# unpack it into a gitignored cache, so the tests can compile libfreenect's own
# src/registration.c as the oracle for depthview's registration. Nothing of it enters the
# repository. Safe to run again: it does nothing once the source is unpacked.
#
#   scripts/libfreenect_source.sh [DEST]     (default DEST: .cache/libfreenect-src)
#
# As root it adds a deb-src entry for the installed suite when apt has none; otherwise it
# prints the commands to run and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=${1:-.cache/libfreenect-src}
WANT=src/registration.c
if [ -f "$DEST/$WANT" ]; then
    echo "$DEST"
    exit 0
fi
say() { echo "libfreenect_source: $*" >&2; }

if ! command -v apt-get >/dev/null; then
    say "not Debian/Ubuntu: unpack libfreenect's source (github.com/OpenKinect/libfreenect," \
        "tag v0.5.3) into $DEST yourself so that $DEST/$WANT exists"
    exit 1
fi

# The source version of the installed library, so the oracle is the code the system runs.
version=$(dpkg-query -W -f='${source:Version}' libfreenect0.5 2>/dev/null || true)
spec=libfreenect${version:+=$version}
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
SOURCES_FILE=/etc/apt/sources.list.d/depthview-deb-src.sources

has_deb_src() { apt-get source --print-uris "$spec" >/dev/null 2>&1; }
deb_src_entry() {
    printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: $suite" \
        "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
}

if ! has_deb_src; then
    if [ "$(id -u)" != 0 ]; then
        say "apt has no deb-src entry for libfreenect. As root, write $SOURCES_FILE with:"
        deb_src_entry | sed 's/^/    /' >&2
        say "then run apt-get update, and $0 again."
        exit 1
    fi
    say "adding a deb-src entry for $suite ($SOURCES_FILE)"
    deb_src_entry >"$SOURCES_FILE"
    apt-get update -qq
    if ! has_deb_src; then  # the installed version may be gone from the archive: take any
        spec=libfreenect
    fi
fi

download=$(dirname "$DEST")/libfreenect-download
mkdir -p "$download"
if ! compgen -G "$download/libfreenect_*.orig.tar.*" >/dev/null; then
    say "downloading the source of $spec"
    # apt-get checks each file against the signed index. The Debian patch tarball may be
    # missing from the mirror (apt then fails); only the upstream .orig tarball is needed,
    # so apt's messages are shown only when that did not arrive.
    apt_log=$(cd "$download" && apt-get source --download-only -qq "$spec" 2>&1) || true
fi
orig=$(compgen -G "$download/libfreenect_*.orig.tar.*" | head -n1 || true)
if [ -z "$orig" ]; then
    say "apt-get source --download-only $spec gave no .orig tarball in $download:"
    echo "${apt_log:-}" >&2
    exit 1
fi
tmp=$(mktemp -d "$(dirname "$DEST")/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xf "$orig" -C "$tmp" --strip-components=1
if [ ! -f "$tmp/$WANT" ]; then
    say "$orig holds no $WANT"
    exit 1
fi
rm -rf "$DEST"
mv "$tmp" "$DEST"
trap - EXIT
echo "$DEST"
