# bash completion for vs and util-vserver's names of it (vserver,
# vserver-stat, vps, vkill, ...): verbs, guest names in both orders,
# build methods, plugin verbs, and each verb's options as `vs help <verb>`
# lists them.  The lists come from vs itself, so plugins' verbs and
# methods appear once installed.

_vs_verbs() {
	"${1:-vs}" help 2>/dev/null | awk '/^verbs:/ { f = 1; next } f && /^  [a-z]/ { print $1 }'
}

_vs_guests() {
	"${1:-vs}" list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_vs_methods() {
	"${1:-vs}" plugins 2>/dev/null | awk '$1 == "build" { gsub("_", "-", $2); print $2 }'
}

_vs_options() { # VS VERB: the options its help names
	"$1" help "$2" 2>/dev/null | grep -oE -- '(^|[ [|])--?[a-zA-Z][a-zA-Z0-9-]*' |
		sed 's/^[ [|]//' | sort -u
}

_vs() {
	local cur prev vs=${COMP_WORDS[0]} words=() i verb= guest= verbs
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	case ${vs##*/} in
	vs) ;;
	vserver) vs=vs ;;
	*) # the other names take their verb's options
		COMPREPLY=($(compgen -W "--help --version $(_vs_guests vs)" -- "$cur"))
		return ;;
	esac
	command -v "$vs" >/dev/null 2>&1 || vs=vs
	verbs=$(_vs_verbs "$vs")
	# the words before the cursor, vs's own options aside
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--sysroot | --config | --plugindir | --datadir) i=$((i + 1)) ;;
		-*) ;;
		*) words+=("${COMP_WORDS[i]}") ;;
		esac
	done
	case $prev in
	--sysroot | --plugindir | --datadir | --rootdir | --confdir | --pkgbase)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--config | -t | --lockfile)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-m | --method)
		COMPREPLY=($(compgen -W "$(_vs_methods "$vs")" -- "$cur"))
		return ;;
	--initstyle)
		COMPREPLY=($(compgen -W "sysv plain minit gentoo openrc arch systemd runit" -- "$cur"))
		return ;;
	--link)
		COMPREPLY=($(compgen -W "auto reflink hardlink" -- "$cur"))
		return ;;
	esac
	if [ ${#words[@]} -eq 0 ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--sysroot --config --plugindir --datadir --verbose --version --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$verbs $(_vs_guests "$vs")" -- "$cur"))
		fi
		return
	fi
	# vs <verb> [guest] ... or vs <guest> <verb> ...
	local w
	for w in $verbs; do
		[ "${words[0]}" = "$w" ] && verb=$w
	done
	if [ "$verb" = help ]; then
		COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		return
	fi
	if [ -z "$verb" ]; then
		guest=${words[0]}
		if [ ${#words[@]} -eq 1 ]; then
			COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
			return
		fi
		verb=${words[1]}
	elif [ ${#words[@]} -eq 1 ] && [[ $cur != -* ]]; then
		COMPREPLY=($(compgen -W "$(_vs_guests "$vs")" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_vs_options "$vs" "$verb")" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

complete -F _vs vs vserver vserver-stat vps vpstree vtop vkill vwait vlimit \
	vsched vuname vnamespace vserver-info vmount vdlimit vdu
