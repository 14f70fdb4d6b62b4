#!/bin/bash
# bash completion (conf.d/completion/vs.bash): verbs, guest names in both
# orders, build methods, plugin verbs and each verb's options, for vs and
# util-vserver's vserver; make install puts it where bash-completion
# looks, with links for the other names, and the zsh file.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

mkguest g1 --context 131 || exit 99
mkguest g2 --context 132 || exit 99
# "vs" as the completion calls it: this build, on the test's sysroot
mkdir -p "$T/bin"
printf '#!/bin/sh\nexec %s --sysroot %s --plugindir %s --datadir %s "$@"\n' \
	"$VS" "$R" "$MODS" "$srcdir/conf.d" >"$T/bin/vs"
chmod +x "$T/bin/vs"
# vserver: the binary under that name (its argv[0] decides)
ln -s "$top_builddir/.libs/vs" "$T/bin/vserver"
export VS_SYSROOT="$R" VS_PLUGINDIR="$MODS" VS_DATADIR="$srcdir/conf.d" \
	LD_LIBRARY_PATH="$top_builddir/.libs"
PATH=$T/bin:$PATH
. "$srcdir/conf.d/completion/vs.bash"

# comp WORD...: what completes the last word
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_vs
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

same "vs st<tab>: the verbs" "start stat status stop" "$(comp vs st)"
same "vs g<tab>: the guests (vs <guest> <verb>)" "g1 g2" "$(comp vs g)"
same "vs g1 st<tab>: verbs after a guest" "start stat status stop" "$(comp vs g1 st)"
same "vs start <tab>: guests after a verb" "g1 g2" "$(comp vs start '')"
same "vs g1 build -m sk<tab>: the build methods" "skeleton" "$(comp vs g1 build -m sk)"
same "vs g1 build -m <tab>: all of them (plugins)" "apt-rpm clone debootstrap oci rpm skeleton template yum" "$(comp vs g1 build -m '')"
same "vs g1 start --<tab>: its options" "--foreground --sync" "$(comp vs g1 start --)"
check "vs hashify --m<tab>: a plugin verb's options" sh -c "printf '%s' \"\$1\" | grep -qw -- --manually" _ "$(comp vs hashify --m)"
same "vs help cl<tab>: verbs" "clone" "$(comp vs help cl)"
same "vs --sys<tab>: vs's own options" "--sysroot" "$(comp vs --sys)"
same "vs --sysroot /x g<tab>: after vs's own options" "g1 g2" "$(comp vs --sysroot /x g)"
same "vs unify --link <tab>" "auto hardlink reflink" "$(comp vs unify --link '')"
same "vserver g<tab>: util-vserver's order" "g1 g2" "$(comp vserver g)"
same "vserver g1 con<tab>" "condrestart console" "$(comp vserver g1 con)"

# make install puts them where bash-completion and zsh look
DEST=${VS_INSTALLED:?run through make check}
f=$(find "$DEST" -path '*/bash-completion/completions/vs' | head -n 1)
check "installed: the bash completion" test -f "$f"
check "installed: vserver's completion is vs's" sh -c "[ \"\$(readlink '$(dirname "$f")/vserver')\" = vs ]"
check "installed: the zsh completion" test -n "$(find "$DEST" -path '*/zsh/vendor-completions/_vs')"
# zsh: _vs loads from fpath, and the bash function answers under zsh's
# emulation as bashcompinit runs it
run zsh -f -c "fpath=($srcdir/conf.d/completion \$fpath); autoload -U compinit && compinit -u;
	autoload -U +X _vs && whence -w _vs"
same "zsh: _vs is found in fpath and loads" "0|_vs: function" "$RC|$OUT"
run zsh -f -c "autoload -U +X bashcompinit && bashcompinit; source $srcdir/conf.d/completion/vs.bash;
	emulate sh -c 'setopt ksharrays; COMP_WORDS=(vs g1 st); COMP_CWORD=2; _vs; echo \"\${COMPREPLY[*]}\"'"
# (zsh's compgen leaves the matching to the completion system: the
# verbs come, the guests not)
check "zsh: vs g1 <tab> under bashcompinit gives the verbs ($OUT)" \
	sh -c "for v in start stat status stop clone; do printf ' %s \n' \" \$1 \" | grep -q \" \$v \" || exit 1; done
		! printf ' %s \n' \" \$1 \" | grep -q ' g2 '" _ "$OUT"

finish
