#!/bin/bash
# The layers of libvs (core/lib/*/README.md): calls go downward only,
# base <- config <- runtime, base <- plugins, and no file of a layer
# calls a file that calls it back (the unify engines neither); libvs links
# only what every verb needs.  Read from the built objects' symbols.
set -u
: "${srcdir:?run through make check}" "${top_builddir:?}"
command -v nm >/dev/null || { echo "SKIP: nm is not installed (binutils)"; exit 77; }
# may layer $1 call layer $2?
allowed() {
	case $1:$2 in
	config:base | runtime:config | runtime:base | plugins:base) return 0 ;;
	*) [ "$1" = "$2" ] ;;
	esac
}
T=$(mktemp -d /tmp/vs-layers.XXXXXX)
trap 'rm -rf "$T"' EXIT
# symbols SET OBJ NAME: what NAME (the object OBJ) defines and uses
symbols() {
	nm -g --defined-only "$2" | awk -v f="$3" '{ print $3, f }' >>"$T/$1.defs"
	nm -u "$2" | awk -v f="$3" '{ print f, $2 }' >>"$T/$1.uses"
}
# edges SET: "caller callee symbol", one per call between files
edges() {
	sort -k1,1 "$T/$1.defs" >"$T/$1.defs.s"
	sort -k2,2 "$T/$1.uses" | join -1 2 -2 1 - "$T/$1.defs.s" |
		awk '$2 != $3 { print $2, $3, $1 }' | sort -u
}
# no_circle SET WHAT: no file of SET calls one that calls it back
no_circle() {
	edges "$1" | awk '{ print $1, $2 }' | sort -u >"$T/$1.pairs"
	if tsort "$T/$1.pairs" >/dev/null 2>"$T/$1.tsort"; then
		echo "ok - no circle between the files of $2"
	else
		echo "not ok - a circle between the files of $2:"
		sed 's/^/#   /' "$T/$1.tsort"
		return 1
	fi
}
n=0
for src in "$srcdir"/core/lib/*/*.c; do
	rel=${src#"$srcdir"/core/lib/}
	layer=${rel%%/*}
	name=$(basename "$src" .c)
	dir=$top_builddir/core/lib/${rel%"$name.c"}
	obj=${dir%/}/.libs/libvs_la-$name.o
	[ -f "$obj" ] || { echo "not ok - no object for $rel ($obj)"; exit 1; }
	symbols libvs "$obj" "$layer/$name"
	n=$((n + 1))
done
edges libvs >"$T/edges"
fails=0 up=0
while read -r from to sym; do
	if ! allowed "${from%%/*}" "${to%%/*}"; then
		echo "not ok - $from calls $to ($sym): not a call downward"
		up=1
	fi
done <"$T/edges"
[ "$up" = 0 ] && echo "ok - $n files: calls between layers go downward only"
fails=$up
no_circle libvs "base, config, runtime, plugins" || fails=$((fails + 1))
# the unify and hashify engines
for obj in "$top_builddir"/plugins/unify/common/.libs/libvsunify_la-*.o; do
	[ -f "$obj" ] || { echo "not ok - no engine objects"; exit 1; }
	name=${obj##*/libvsunify_la-}
	symbols engines "$obj" "${name%.o}"
done
no_circle engines "the engines (plugins/unify/common)" || fails=$((fails + 1))

# libvs and vs link none of the libraries only some runs need: those
# belong to the plugins and the runtime helpers (loaded when needed)
command -v readelf >/dev/null || { echo "SKIP: readelf is not installed (binutils)"; exit 77; }
lean=0
for f in "$top_builddir/.libs/libvs.so.0" "$top_builddir/.libs/vs"; do
	[ -f "$f" ] || { echo "not ok - no $f"; lean=1; continue; }
	if readelf -d "$f" | grep NEEDED | grep -Eo 'lib(mnl|seccomp|crypto|ssl|archive|xml2|systemd)[^]]*'; then
		echo "not ok - $(basename "$f") links a library only some runs need (above)"
		lean=1
	fi
done
for h in netlink:libmnl seccomp:libseccomp; do
	so=$top_builddir/.libs/vs-runtime/${h%%:*}.so
	if [ ! -f "$so" ] || ! readelf -d "$so" | grep NEEDED | grep -q "${h#*:}"; then
		echo "not ok - the ${h%%:*} helper ($so) links ${h#*:}"
		lean=1
	elif nm -D -u "$so" | grep -q ' vs_'; then
		echo "not ok - the ${h%%:*} helper calls libvs"
		lean=1
	fi
done
[ "$lean" = 0 ] && echo "ok - libvs and vs link neither libmnl, libseccomp, libcrypto nor libarchive; the helpers do, and call nothing of libvs"
fails=$((fails + lean))
echo "$(( 4 - fails )) passed, $fails failed"
[ "$fails" = 0 ]
