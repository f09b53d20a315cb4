#!/bin/sh
# `make deb`: builds the Debian packages from debian/ in a copy of the tree under build/deb
# (dpkg-buildpackage writes its results next to the source: there, not beside the checkout),
# then runs lintian on them. The .deb files end in build/deb/.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
out="$top/build/deb"
version=$(dpkg-parsechangelog -SVersion)
src="$out/verdon-$version"

rm -rf "$out"
mkdir -p "$src"
# What the checkout holds (tracked files and new ones not ignored), without build products.
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c \
		'[ -e "$1" ] || [ -L "$1" ] && cp -P --parents "$1" "$2"' _ {} "$src"
else
	tar --exclude=./build --exclude=node_modules -cf - . | tar -xf - -C "$src"
fi
(cd "$src" && dpkg-buildpackage -us -uc -b -j2)
echo "deb: lintian"
lintian --fail-on error "$out"/*.changes
ls "$out"/*.deb
