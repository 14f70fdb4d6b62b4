#!/bin/bash
# The layers of libvs (core/lib/*/README.md): calls go downward only,
# base <- config <- runtime, base <- plugins, and no file of a layer
# calls a file that calls it back.  Read from the built objects' symbols.
set -u
: "${srcdir:?run through make check}" "${top_builddir:?}"
command -v nm >/dev/null || { echo "SKIP: nm is not installed (binutils)"; exit 77; }
# may layer $1 call layer $2?
allowed() {
	case $1:$2 in
	engines:* | config:base | runtime:config | runtime:base | plugins:base) return 0 ;;
	*) [ "$1" = "$2" ] ;;
	esac
}
T=$(mktemp -d /tmp/vs-layers.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
for src in "$srcdir"/core/lib/*/*.c "$srcdir"/core/lib/*.c; do
	rel=${src#"$srcdir"/core/lib/}
	case $rel in */*) layer=${rel%%/*} ;; *) layer=engines ;; esac
	name=$(basename "$src" .c)
	dir=$top_builddir/core/lib/${rel%"$name.c"}
	obj=${dir%/}/.libs/libvs_la-$name.o
	[ -f "$obj" ] || { echo "not ok - no object for $rel ($obj)"; exit 1; }
	nm -g --defined-only "$obj" | awk -v f="$layer/$name" '{ print $3, f }' >>"$T/defs"
	nm -u "$obj" | awk -v f="$layer/$name" '{ print f, $2 }' >>"$T/uses"
	n=$((n + 1))
done
sort -k1,1 "$T/defs" >"$T/defs.s"
# caller callee-file
sort -k2,2 "$T/uses" | join -1 2 -2 1 - "$T/defs.s" | awk '$2 != $3 { print $2, $3, $1 }' | sort -u >"$T/edges"
fails=0 up=0
while read -r from to sym; do
	if ! allowed "${from%%/*}" "${to%%/*}"; then
		echo "not ok - $from calls $to ($sym): not a call downward"
		up=1
	fi
done <"$T/edges"
[ "$up" = 0 ] && echo "ok - $n files: calls between layers go downward only"
fails=$up
# circles between files of the layers (build.c, flat, moves out next)
awk '{ print $1, $2 }' "$T/edges" | sort -u | grep -v '^engines/' >"$T/pairs"
if tsort "$T/pairs" >/dev/null 2>"$T/tsort"; then
	echo "ok - no circle between the files of base, config, runtime, plugins"
else
	echo "not ok - a circle between files:"
	sed 's/^/#   /' "$T/tsort"
	fails=$((fails + 1))
fi
echo "$(( 2 - fails )) passed, $fails failed"
[ "$fails" = 0 ]
