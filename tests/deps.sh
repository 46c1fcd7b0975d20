#!/bin/sh
# Make sure the Debian 12 packages that the build and the tests need are
# installed: install the missing ones when run as root, else print the
# apt-get line to run and fail.
set -u

missing=
need() { # need PACKAGE TEST...
	pkg=$1
	shift
	"$@" >/dev/null 2>&1 || missing="$missing $pkg"
}
# shellcheck disable=SC2317 # called through need
have() { command -v "$1"; }
# shellcheck disable=SC2317
header() { printf '#include <%s>\n' "$1" | cc -E -x c - >/dev/null; }

need make have make
need gcc have cc
need libc6-dev header stdio.h
need libcurl4-openssl-dev header curl/curl.h
need libjq-dev header jv.h
need libonig-dev header oniguruma.h
need jq have jq
need curl have curl
need bats have bats
need bats-assert test -d /usr/lib/bats/bats-assert
need bats-support test -d /usr/lib/bats/bats-support
need mandoc have mandoc
need shellcheck have shellcheck
need util-linux have flock
need bsdutils have script
need bubblewrap have bwrap
need parallel have parallel
need valgrind have valgrind
need clang have clang
need libclang-rt-14-dev sh -c 'ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a || ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a' 
need python3-jsonschema /usr/bin/python3 -c 'import jsonschema'
need python3-yaml /usr/bin/python3 -c 'import yaml'
need openssl have openssl
need nginx test -x /usr/sbin/nginx
need tinyproxy test -x /usr/bin/tinyproxy
need nodejs have node
need npm have npm
need iproute2 have ip

[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if apt-get update -qq >&2 &&
		apt-get install -y -qq --no-install-recommends $missing >&2; then
		exit 0
	fi
	echo "deps: apt-get failed" >&2
	exit 1
fi
echo "deps: missing packages; run:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
