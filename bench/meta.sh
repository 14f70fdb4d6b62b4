# What a sharing benchmark checks after every tool, sourced by
# bench/hashify.sh and bench/unify.sh (set -eu there):
#   meta DIR        every path below DIR, one line per fact: type, mode,
#                   owner, group, size (not a directory's: ext4 grows a
#                   directory for a temporary name and never shrinks it),
#                   mtime to the nanosecond, link target; a file's
#                   content digest; every extended
#                   attribute but vs's own digest cache (trusted.vs.*,
#                   counted by vs_attrs); no inode or link count: sharing
#                   is what the tools are there for
#   changed A B     how many paths differ between two meta listings
#   vs_attrs DIR    how many files carry vs's digest-cache attribute
#   install_vs DIR  make install into DIR; sets VS (the installed binary
#                   with every shipped plugin) and vsx (it, on a sysroot)
#   need TOOL...    the deps and the build, and the peers' Debian packages
meta() {
	(cd "$1" && find . ! -type d -printf '%p|%y|%m|%U|%G|%s|%T@|%l\n' &&
		find . -type d -printf '%p|%y|%m|%U|%G|-|%T@|\n' &&
		find . -type f -print0 | xargs -0 -r -P8 -n64 md5sum | sed -E 's/^([0-9a-f]+)  (.*)$/\2|md5 \1/' &&
		find . -print0 | xargs -0 -r -n64 getfattr -h -d -m - -e hex 2>/dev/null |
		awk '/^# file: / { f = substr($0, 9); next }
			NF && !/^trusted\.vs\./ { print f "|" $0 }' | sed 's|^|./|; s|^\./\./|./|') |
		LC_ALL=C sort
}
changed() { LC_ALL=C comm -3 "$1" "$2" | sed 's/^\t//' | cut -d'|' -f1 | LC_ALL=C sort -u | wc -l; }
vs_attrs() { getfattr -R -h -m '^trusted\.vs\.' "$1" 2>/dev/null | grep -c '^# file: ' || :; }
install_vs() {
	make -s install DESTDIR="$1" >/dev/null
	P=$1/usr/local
	export LD_LIBRARY_PATH=$P/lib
	VS=$P/bin/vs
	vsx() { s=$1; shift; "$VS" --sysroot "$s" --plugindir "$P/lib/vs/plugins" --datadir "$P/share/vs" "$@"; }
}
need() {
	sh scripts/deps.sh
	sh scripts/build.sh
	for p in "$@"; do
		command -v "$p" >/dev/null || [ -x "/usr/bin/$p" ] ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
	done
}
