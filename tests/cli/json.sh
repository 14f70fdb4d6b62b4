#!/bin/bash
# --json wherever a program reads the output (build, status, ps,
# autostart, the unify and hashify summaries), each parsed as JSON and
# checked field by field; every util-vserver name answers -h, --help and
# --version; a plugin verb's help shows its real options; start-vservers
# -c chooses among another configuration directory's guests.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

# jq-free: FIELD lookups with Python's json (a path like 0.guest)
jget() { # JSON PATH
	python3 -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split(".") if sys.argv[2] else []:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" "$2"
}
is_json() { python3 -c 'import json, sys; json.loads(sys.argv[1])' "$1" 2>/dev/null; }

run vsx g1 build -m skeleton --context 121 --json -- sh -c 'mkdir -p "$VDIR/bin" "$VDIR/tmp" && cp /bin/busybox "$VDIR/bin/" && ln -s busybox "$VDIR/bin/sh" && mkdir -p "$VDIR/sbin" && ln -s ../bin/busybox "$VDIR/sbin/init"'
check "build --json is JSON ($OUT)" is_json "$OUT"
same "build --json: guest, method, context, root, config" "g1 skeleton 121 $(rootof g1) $R$CONFDIR/g1" \
	"$(jget "$OUT" guest) $(jget "$OUT" method) $(jget "$OUT" context) $(jget "$OUT" root) $(jget "$OUT" config)"
echo plain >"$R$CONFDIR/g1/apps/init/style"

run vsx g1 status --json
same "status --json of a stopped guest: exit 3" 3 "$RC"
same "status --json: not running" "g1 false" "$(jget "$OUT" guest) $(jget "$OUT" running)"
expect_ok "start g1" vsx g1 start
run vsx g1 status --json
same "status --json of a running one: exit 0, its context" "0 true 121" \
	"$RC $(jget "$OUT" running) $(jget "$OUT" context)"
check "status --json: its processes ($(jget "$OUT" processes))" sh -c "[ \"\$1\" -ge 1 ]" _ "$(jget "$OUT" processes)"
check "status --json: an uptime in seconds" sh -c "[ \"\$1\" -ge 0 ] && [ \"\$1\" -lt 60 ]" _ "$(jget "$OUT" uptime)"

run vsx ps --json
check "ps --json is JSON" is_json "$OUT"
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/g1")
row=$(python3 -c 'import json, sys
for p in json.loads(sys.argv[1]):
    if p["pid"] == int(sys.argv[2]):
        print(p["context"], p["guest"], p["ppid"] > 0, p["uid"], bool(p["command"]))' "$OUT" "$init")
same "ps --json: the guest's init with its context, guest, parent, user, command" "121 g1 True 0 True" "$row"
host=$(python3 -c 'import json, sys
print(json.dumps([p["guest"] for p in json.loads(sys.argv[1]) if p["pid"] == 1]))' "$OUT")
same "ps --json: the host's processes have guest null" "[null]" "$host"
expect_ok "stop g1" vsx g1 stop

# ---- autostart --json ----------------------------------------------------------
mkguest g2 --context 122 || exit 99
mkguest g3 --context 123 || exit 99
echo g2 >"$R$CONFDIR/g3/apps/init/depends"
echo false >"$R$CONFDIR/g2/apps/init/cmd.start" # fails at once
run vsx autostart --start --json -- g2 g3
check "autostart --json is JSON ($OUT)" is_json "$OUT"
same "autostart --json: each guest with its action and result" \
	'[{"guest": "g2", "action": "start", "result": "failed"}, {"guest": "g3", "action": "start", "result": "blocked"}]' \
	"$(python3 -c 'import json, sys; print(json.dumps(sorted(json.loads(sys.argv[1]), key=lambda r: r["guest"])))' "$OUT")"
rm "$R$CONFDIR/g2/apps/init/cmd.start"
run vsx autostart --start --json -- g3
same "autostart --json: started" '[{"guest": "g2", "action": "start", "result": "ok"}, {"guest": "g3", "action": "start", "result": "ok"}]' \
	"$(python3 -c 'import json, sys; print(json.dumps(sorted(json.loads(sys.argv[1]), key=lambda r: r["guest"])))' "$OUT")"
run vsx autostart --stop --json -- g2 g3
same "autostart --stop --json" "stop ok stop ok" \
	"$(jget "$OUT" 0.action) $(jget "$OUT" 0.result) $(jget "$OUT" 1.action) $(jget "$OUT" 1.result)"

# ---- start-vservers -c DIR ----------------------------------------------------------
mkdir -p "$R/other-conf"
cp -a "$R$CONFDIR/g2" "$R/other-conf/o1"
echo o1 >"$R/other-conf/o1/name"
rm -f "$R/other-conf/o1/context" "$R/other-conf/o1/apps/init/depends"
ln -sfn "$VROOTDIR/g2" "$R/other-conf/o1/vdir"
run vsx autostart --start --json -c /other-conf --all
same "autostart -c DIR: the guests of that directory only" "o1 ok" "$(jget "$OUT" 0.guest) $(jget "$OUT" 0.result)"
vsx autostart --stop -c /other-conf --all >/dev/null 2>&1
expect_error "autostart -c with a relative path" 2 "autostart: -c 'other-conf' is not an absolute path of a directory" \
	vsx autostart --start -c other-conf --all

# ---- the unify and hashify summaries ------------------------------------------------
mkdir -p "$R/u/a/etc" "$R/u/b/etc"
head -c 5000 /dev/urandom >"$R/u/a/etc/f"
cp -p "$R/u/a/etc/f" "$R/u/b/etc/f"
run vsx unify --manually --json /u/b '' /u/a ''
check "unify --json is JSON ($OUT)" is_json "$OUT"
same "unify --json: verb, examined, linked, bytes saved, errors" "unify 1 1 5000 0" \
	"$(jget "$OUT" verb) $(jget "$OUT" examined) $(jget "$OUT" linked) $(jget "$OUT" bytes_saved) $(jget "$OUT" errors)"
run vsx unify --manually --json /u/b '' /u/a ''
same "unify --json: skipped, by reason" '{"already unified": 1}' "$(jget "$OUT" skipped)"
mkdir -p "$R/u/c/etc" "$R/u/hash" "$R/u/store"
ln -s /u/store "$R/u/hash/0"
head -c 5000 /dev/urandom >"$R/u/c/etc/g"
run vsx hashify --manually --json --destination /u/hash /u/c ''
check "hashify --json is JSON ($OUT)" is_json "$OUT"
same "hashify --json: verb, examined, new store entries, errors" "hashify 1 1 0" \
	"$(jget "$OUT" verb) $(jget "$OUT" examined) $(jget "$OUT" new_entries) $(jget "$OUT" errors)"

# ---- help: the names, the plugin verbs --------------------------------------------
mkdir -p "$T/bin"
for nm in showattr setattr start-vservers stop-vservers vserver-stat vps vpstree vtop vkill \
	vwait vlimit vsched vuname vnamespace vserver-info vmount vdlimit vdu vunify vhashify vshelper vserver; do
	ln -s "$top_builddir/.libs/vs" "$T/bin/$nm"
	for o in -h --help --version; do
		run env VS_PLUGINDIR="$MODS" LD_LIBRARY_PATH="$top_builddir/.libs" "$T/bin/$nm" "$o"
		check "$nm $o: exit 0 and some words ($(printf '%s' "$OUT" | head -n 1))" \
			sh -c "[ '$RC' = 0 ] && [ -n \"\$1\" ] && [ -z \"\$2\" ]" _ "$OUT" "$ERR"
	done
done
run vsx hashify -h
check "hashify -h shows its real options" sh -c "printf '%s' \"\$1\" | grep -q -- '--destination <hashdir>'" _ "$OUT"
run vsx unify -h
check "unify -h shows its real options" sh -c "printf '%s' \"\$1\" | grep -q -- '--manually'" _ "$OUT"

finish
