#!/bin/bash
# Every built module exports exactly one symbol: its descriptor.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

for m in $VS_MODULES; do
	stem=$(basename "$m" .so)
	syms=$(nm -D --defined-only "$m" | awk '{ print $3 }' | grep -v '^$')
	same "$stem exports only ${stem}_LTX_vs_plugin" "${stem}_LTX_vs_plugin" "$syms"
	check "$stem is bound at load time (BIND_NOW)" \
		sh -c "readelf -d '$m' | grep -q 'BIND_NOW\|FLAGS_1.*NOW'"
done
finish
