#!/usr/bin/env bash
# torch-setup.sh — prepares the libtorch network backend (agents/torchnn, build tag `torch`; issue 8).
#
#   bash scripts/torch-setup.sh        (make torch-setup)
#
# 1. Installs Debian's CPU-only libtorch (`libtorch-dev`), and OpenBLAS when libblas.so.3 is the reference
#    BLAS, with apt if they are missing (as root, or via sudo).
# 2. Copies the gotch module (the version go.mod requires) from the Go module cache into the git-ignored
#    build/gotch/. The module cache itself is never modified.
# 3. Writes a CPU-only build/gotch/libtch/lib.go (gotch's own hard-codes CUDA link flags).
# 4. Finds, by compiling, the generated libtch wrappers that do not compile against the installed libtorch
#    and replaces exactly those wrapper bodies with one that raises an error through gotch's PROTECT
#    mechanism (scripts/torch-stub.awk); it repeats until libtch compiles. No hand-kept list, so the step
#    survives another libtorch.
# 5. Writes the git-ignored go.work that replaces gotch by build/gotch, compiles gotch once so the Go
#    build cache holds the slow C++ object for the following `go test -tags torch`, and links and runs a
#    one-tensor program (catches undefined symbols and loader problems).
#
# Idempotent: a stamp (gotch version, libtorch version, library directory, hash of these scripts), written
# last, skips steps 2-4 and the link check when nothing changed; the `go build` of step 5 then only hits
# the Go build cache (about a second).
# Environment: GO (default go); TORCH_SETUP_FORCE=1 rebuilds build/gotch even if the stamp matches;
# TORCH_SETUP_OPENBLAS=0 leaves the system's BLAS alone.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
GO=${GO:-go}
GOTCH=github.com/sugarme/gotch
BUILD="$ROOT/build"
DEST="$BUILD/gotch"
STAMP="$DEST/.hivegym-torch-stamp"
STUB_AWK="$ROOT/scripts/torch-stub.awk"
ERRLOG="$BUILD/torch-setup-errors.log" # compiler output of the last failing round
TAG=hivegym-stub
TORCH_INC=/usr/include
TORCH_API_INC=/usr/include/torch/csrc/api/include

log() { echo "torch-setup: $*" >&2; }
die() {
	echo "torch-setup: error: $*" >&2
	exit 1
}

# ---- 1. libtorch-dev (and a C++ compiler) --------------------------------------------------------------
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

apt_install() {
	local sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install $*"
		sudo="sudo"
	fi
	# apt-get update only when the package lists do not know the packages (fresh container) or when the
	# install fails (stale lists).
	local candidate
	candidate=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
		log "apt-get update"
		$sudo apt-get update -qq
	fi
	log "apt-get install -y $*"
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null; then
		log "install failed; apt-get update and retry"
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
	fi
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian/Ubuntu (libtorch-dev)"
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || true)
LIBDIR=/usr/lib/${MULTIARCH:-x86_64-linux-gnu}
missing=()
installed libtorch-dev || missing+=(libtorch-dev)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
# Debian's libtorch calls the generic libblas.so.3, which is the slow reference BLAS unless an optimized
# one is installed: OpenBLAS makes the torch backend's matrix products about 8x faster. The OpenMP build
# follows libtorch's thread count (torchnn.SetNumThreads). TORCH_SETUP_OPENBLAS=0 skips this.
if [ "${TORCH_SETUP_OPENBLAS:-1}" != 0 ]; then
	case "$(readlink -f "$LIBDIR/libblas.so.3" 2>/dev/null || true)" in
	"" | */blas/libblas.so.3*) missing+=(libopenblas0-openmp) ;;
	esac
fi
if [ ${#missing[@]} -gt 0 ]; then
	apt_install "${missing[@]}"
fi
TORCH_VER=$(dpkg-query -W -f='${Version}' libtorch-dev)
[ -e "$LIBDIR/libtorch_cpu.so" ] || die "libtorch_cpu.so not found in $LIBDIR"
[ -d "$TORCH_API_INC" ] || die "libtorch C++ API headers not found in $TORCH_API_INC"

# ---- 2-4. build/gotch ------------------------------------------------------------------------------------
GOTCH_VER=$(GOWORK=off "$GO" list -m -f '{{.Version}}' "$GOTCH" 2>/dev/null) ||
	die "go.mod does not require $GOTCH (run: go get $GOTCH@v0.7.0)"
SCRIPT_HASH=$(cat "${BASH_SOURCE[0]}" "$STUB_AWK" | sha256sum | cut -c1-16)
WANT_STAMP="gotch=$GOTCH_VER libtorch=$TORCH_VER libdir=$LIBDIR scripts=$SCRIPT_HASH"

write_lib_go() {
	cat >"$1/libtch/lib.go" <<EOT
package libtch

// Written by hivegym scripts/torch-setup.sh: CPU-only flags for Debian's libtorch $TORCH_VER
// (libtorch-dev). gotch's own lib.go hard-codes CUDA link flags.
// -g0 -O1 (last on the command line, so they override the CGO_CXXFLAGS default "-g -O2") keep the
// compile of the 13,000-line generated wrapper file short; the wrappers only forward to libtorch.

// #cgo LDFLAGS: -lstdc++ -ltorch -lc10 -ltorch_cpu -L$LIBDIR
// #cgo CFLAGS: -I\${SRCDIR} -O2 -g0 -Wall -Wno-unused-variable -Wno-deprecated-declarations -Wno-sign-compare -Wno-unused-function
// #cgo CXXFLAGS: -std=c++17 -I\${SRCDIR} -I$TORCH_INC -I$TORCH_API_INC -g0 -O1 -w
import "C"
EOT
}

# syntax_errors DIR: prints "file line" for every compiler error located in libtch's own C++ sources
# (the generated wrappers and the hand-written API), including "required from here" locations.
syntax_errors() {
	local out
	out=$(cd "$1/libtch" && g++ -fsyntax-only -std=c++17 -w -fmax-errors=0 -fno-diagnostics-color \
		-fno-diagnostics-show-caret -I. -I"$TORCH_INC" -I"$TORCH_API_INC" -x c++ torch_api.cpp 2>&1) && return 0
	printf '%s\n' "$out" >"$ERRLOG"
	printf '%s\n' "$out" |
		sed -n -E 's/^(torch_api[A-Za-z0-9_.]*):([0-9]+):[0-9]+:( error:| +required from here).*/\1 \2/p' |
		sort -u
	# A failing compile with no location in libtch's files (e.g. a missing header) is reported as such.
	if ! printf '%s\n' "$out" | grep -q -E '^torch_api[A-Za-z0-9_.]*:[0-9]+:[0-9]+:( error:| +required from here)'; then
		echo "UNLOCATED 0"
	fi
}

# build_gotch makes build/gotch in a temporary directory beside it and moves it into place only
# when libtch compiles, so an interrupted or failed run leaves no half-made copy behind.
TMP_GOTCH=""
cleanup_tmp() { [ -z "$TMP_GOTCH" ] || rm -rf "$TMP_GOTCH"; }
trap cleanup_tmp EXIT

build_gotch() {
	local moddir tmp
	moddir=$(GOWORK=off "$GO" mod download -json "$GOTCH@$GOTCH_VER" |
		sed -n -E 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
	[ -n "$moddir" ] && [ -d "$moddir" ] || die "go mod download $GOTCH@$GOTCH_VER gave no module directory"
	mkdir -p "$BUILD"
	tmp="$BUILD/gotch.tmp.$$"
	TMP_GOTCH="$tmp"
	rm -rf "$tmp" "$ERRLOG"
	log "copying $moddir -> build/gotch"
	cp -R "$moddir" "$tmp"
	chmod -R u+w "$tmp"
	write_lib_go "$tmp"

	local round=0 errs files f lines stubbed total=0
	: >"$tmp/.hivegym-stubbed.txt"
	while :; do
		round=$((round + 1))
		log "compiling libtch against libtorch $TORCH_VER to find incompatible wrappers (round $round)"
		errs=$(syntax_errors "$tmp")
		[ -z "$errs" ] && break
		[ "$round" -le 10 ] || die "libtch still fails to compile after 10 rounds; compiler output: $ERRLOG"
		if printf '%s\n' "$errs" | grep -q '^UNLOCATED '; then
			sed -n '1,40p' "$ERRLOG" >&2
			die "libtch fails to compile for a reason outside its wrappers (above)"
		fi
		files=$(printf '%s\n' "$errs" | cut -d' ' -f1 | sort -u)
		for f in $files; do
			lines=$(printf '%s\n' "$errs" | awk -v f="$f" '$1 == f {print $2}' | paste -sd, -)
			stubbed="$tmp/.hivegym-stubbed.round"
			awk -v lines="$lines" -v tag="$TAG" -v names="$stubbed" -f "$STUB_AWK" "$tmp/libtch/$f" >"$tmp/libtch/$f.new" ||
				die "could not stub $f (compiler output: $ERRLOG)"
			mv "$tmp/libtch/$f.new" "$tmp/libtch/$f"
			cat "$stubbed" >>"$tmp/.hivegym-stubbed.txt"
			rm -f "$stubbed"
		done
		total=$(wc -l <"$tmp/.hivegym-stubbed.txt")
		log "stubbed $total wrapper(s) so far"
	done
	log "libtch compiles; $total wrapper(s) stubbed (list: build/gotch/.hivegym-stubbed.txt)"
	rm -f "$ERRLOG"
	rm -rf "$DEST"
	mv "$tmp" "$DEST"
	TMP_GOTCH=""
}

# ---- 5. go.work, a first build into the Go build cache, a link check ----------------------------------
write_go_work() {
	local want="go 1.26.0

use .

replace $GOTCH $GOTCH_VER => ./build/gotch
"
	if [ ! -f go.work ] || [ "$(cat go.work)" != "$(printf '%s' "$want")" ]; then
		log "writing go.work (replace $GOTCH $GOTCH_VER => ./build/gotch)"
		printf '%s' "$want" >go.work
	fi
}

# link_check builds and runs a program that makes and frees a tensor: it catches what compiling
# libtch alone cannot (undefined symbols at link time, shared libraries the loader cannot find).
link_check() {
	mkdir -p "$DEST/hivegym-linkcheck"
	cat >"$DEST/hivegym-linkcheck/main.go" <<'EOT'
// Command hivegym-linkcheck is written by hivegym's scripts/torch-setup.sh: it links gotch
// against libtorch and makes one tensor.
package main

import (
	"fmt"
	"os"

	"github.com/sugarme/gotch/ts"
)

func main() {
	x, err := ts.OfSlice([]float32{1, 2, 3})
	if err != nil {
		fmt.Fprintln(os.Stderr, "hivegym-linkcheck:", err)
		os.Exit(1)
	}
	if err := x.Drop(); err != nil {
		fmt.Fprintln(os.Stderr, "hivegym-linkcheck:", err)
		os.Exit(1)
	}
}
EOT
	log "linking and running a one-tensor program"
	"$GO" run "$GOTCH/hivegym-linkcheck" || die "gotch does not link or run against libtorch $TORCH_VER (above)"
}

if [ "${TORCH_SETUP_FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT_STAMP" ]; then
	log "build/gotch is up to date ($WANT_STAMP)"
	write_go_work
	# A no-op when the Go build cache holds the objects; rebuilds them if the cache was cleaned.
	"$GO" build "$GOTCH/ts"
else
	build_gotch
	write_go_work
	log "go build $GOTCH/ts (compiles the libtorch wrappers: a minute or more)"
	"$GO" build "$GOTCH/ts"
	link_check
	echo "$WANT_STAMP" >"$STAMP"
fi
log "ready: go test -tags torch ./agents/torchnn/"
