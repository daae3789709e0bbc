#!/usr/bin/env bash
# compare.sh LEVEL: time sockleak against ss, netstat, lsof and gopsutil on
# a loopback landscape of LEVEL TCP sockets built by bench/loadgen, and check
# sockleak's counts against loadgen's ground truth.
#
#   bench/compare.sh 10000            # RUNS=5 timed runs of every tool
#   RUNS=9 WARMUP=1 bench/compare.sh 100000
#   RENEW_TIME_WAIT=0 bench/compare.sh 100000   # let TIME_WAIT sockets expire
#   MODE=backends bench/compare.sh 100000        # sockleak's backends and the ss anchors only
#
# Runs are interleaved (run 1 of every tool, then run 2 of every tool, ...).
# Wall time is measured around each command with microsecond resolution;
# CPU time (user+sys, 10 ms resolution) and peak RSS come from GNU time.
# Raw measurements and the table go to bench/out/LEVEL/. Needs root to see
# every process's sockets (as the tools compared do) and Linux.
set -euo pipefail

usage() {
	echo "usage: [RUNS=5] [WARMUP=1] [MODE=all|backends] $0 LEVEL   (LEVEL: number of sockets, e.g. 1000, 10000, 100000)" >&2
	exit 2
}
[[ $# -eq 1 && $1 =~ ^[1-9][0-9]*$ ]] || usage
level=$1
runs=${RUNS:-5}
warmup=${WARMUP:-1}
renew=${RENEW_TIME_WAIT:-1}
mode=${MODE:-all}
[[ $runs =~ ^[1-9][0-9]*$ && $warmup =~ ^[0-9]+$ && $renew =~ ^[01]$ && $mode =~ ^(all|backends)$ ]] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out/$level
rm -rf "$out" # no stale results if this run fails early
mkdir -p "$out"

log() { printf '%s\n' "$*" >&2; }

# --- tools: install what is missing (CI machines are clean) ---------------
missing=()
if ! /usr/bin/time -f %e -o /dev/null true 2>/dev/null; then missing+=(time); fi
command -v ss >/dev/null || missing+=(iproute2)
command -v netstat >/dev/null || missing+=(net-tools)
command -v lsof >/dev/null || missing+=(lsof)
if ((${#missing[@]} > 0)); then
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || {
	log "go is needed to build sockleak and the benchmark programs"
	exit 1
}

tmp=$(mktemp -d)
lg_pid=
cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [[ -n $lg_pid ]]; then
		# Closing loadgen's stdin makes it reset its connections and stop
		# its workers; SIGTERM if it does not go in time.
		exec 3>&- || true
		local i
		for ((i = 0; i < 300; i++)); do
			kill -0 "$lg_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM "$lg_pid" 2>/dev/null || true
		wait "$lg_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ------------------------------------------------------------------
log "building sockleak, loadgen, gopsutil-conns, checktruth in $tmp"
(
	cd "$root"
	go build -o "$tmp/sockleak" ./cmd/sockleak
	go build -o "$tmp/loadgen" ./bench/loadgen
	go build -o "$tmp/gopsutil-conns" ./bench/gopsutil-conns
	go build -o "$tmp/checktruth" ./bench/checktruth
)

# --- the landscape ----------------------------------------------------------
mkfifo "$tmp/hold"
# TIME_WAIT sockets last 60 s and at 100k sockets the rounds of every tool
# outlast them (bench/README.md): loadgen replaces each one as it expires, so
# that every round sees the same landscape (RENEW_TIME_WAIT=0: let them expire).
lg_args=(-n "$level" -truth "$out/truth.json")
if ((renew)); then lg_args+=(-renew-time-wait); fi
"$tmp/loadgen" "${lg_args[@]}" <"$tmp/hold" >/dev/null 2>"$out/loadgen.log" &
lg_pid=$!
exec 3>"$tmp/hold" # loadgen holds everything until this closes
log "loadgen (pid $lg_pid) is building $level sockets"
for ((i = 0; ; i++)); do
	if grep -qx ready "$out/loadgen.log"; then break; fi
	if ! kill -0 "$lg_pid" 2>/dev/null || ((i > 3000)); then
		log "loadgen did not get ready:"
		cat "$out/loadgen.log" >&2
		exit 1
	fi
	sleep 0.1
done
grep -v '^ready$' "$out/loadgen.log" >&2 || true

# --- tools to time ------------------------------------------------------------
tools=(sl_table sl_json sl_check sl_netlink sl_bpf sl_check_netlink sl_check_bpf ss_tanp ss_tan netstat_tanp lsof gopsutil)
if [[ $mode == backends ]]; then
	# The backends side by side (bpf against netlink, inspect and check),
	# with auto and the ss anchors.
	tools=(sl_table sl_check sl_netlink sl_bpf sl_check_netlink sl_check_bpf ss_tanp ss_tan)
fi
# bpf needs root, kernel BTF and an allowed bpf syscall: without them its
# rows are left out, with the reason.
if ! bpf_err=$("$tmp/sockleak" inspect --backend bpf --port 1 2>&1 >/dev/null); then
	log "note: no bpf rows: ${bpf_err}"
	tools=("${tools[@]/sl_bpf/}")
	tools=("${tools[@]/sl_check_bpf/}")
fi
have_check=1
if ! "$tmp/sockleak" check --help >/dev/null 2>&1; then
	have_check=0
	log "note: this sockleak has no 'check' command yet: skipping it"
	tools=("${tools[@]/sl_check/}")
fi

# tool_cmd KEY sets cmd (the command) and label (its name in the table).
tool_cmd() {
	case $1 in
	sl_table) label="sockleak inspect" cmd=("$tmp/sockleak" inspect) ;;
	sl_json) label="sockleak inspect -o json" cmd=("$tmp/sockleak" inspect -o json) ;;
	sl_check) label="sockleak check --max-close-wait 0" cmd=("$tmp/sockleak" check --max-close-wait 0) ;;
	sl_netlink) label="sockleak inspect --backend netlink" cmd=("$tmp/sockleak" inspect --backend netlink) ;;
	sl_bpf) label="sockleak inspect --backend bpf" cmd=("$tmp/sockleak" inspect --backend bpf) ;;
	sl_check_netlink) label="sockleak check --backend netlink" cmd=("$tmp/sockleak" check --backend netlink --max-close-wait 0) ;;
	sl_check_bpf) label="sockleak check --backend bpf" cmd=("$tmp/sockleak" check --backend bpf --max-close-wait 0) ;;
	ss_tanp) label="ss -tanp" cmd=(ss -tanp) ;;
	ss_tan) label="ss -tan" cmd=(ss -tan) ;;
	netstat_tanp) label="netstat -tanp" cmd=(netstat -tanp) ;;
	lsof) label="lsof -nP -iTCP" cmd=(lsof -nP -iTCP) ;;
	gopsutil) label="gopsutil net.Connections" cmd=("$tmp/gopsutil-conns") ;;
	*) return 1 ;;
	esac
}

# --- correctness: sockleak's counts against the ground truth ------------------
"$tmp/sockleak" inspect -o json >"$out/sockleak-inspect.json"
verdict=FAIL
if "$tmp/checktruth" "$out/truth.json" "$out/sockleak-inspect.json" >"$out/check.txt"; then
	verdict=PASS
fi
if [[ " ${tools[*]} " == *" sl_bpf "* ]]; then
	"$tmp/sockleak" inspect --backend bpf -o json >"$out/sockleak-inspect-bpf.json"
	if ! "$tmp/checktruth" "$out/truth.json" "$out/sockleak-inspect-bpf.json" >"$out/check-bpf.txt"; then
		verdict=FAIL
	fi
fi

# --- timing -------------------------------------------------------------------
tw() { awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "tw") print $(i + 1) }' /proc/net/sockstat; }
tw_start=$(tw)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
raw=$out/raw.tsv
printf 'run\ttool\twall_s\tgnu_elapsed_s\tuser_s\tsys_s\tcpu_s\tmaxrss_kib\texit\n' >"$raw"

# measure RUN KEY: run one tool once, output to /dev/null, append to raw.
measure() {
	local run=$1 key=$2 t0 t1 status=0 e u s m x
	tool_cmd "$key"
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%e %U %S %M %x' -o "$tmp/time" "${cmd[@]}" >/dev/null 2>"$tmp/stderr" || status=$?
	t1=$EPOCHREALTIME
	read -r e u s m x < <(tail -n 1 "$tmp/time")
	# sockleak check exits 1 when a threshold is crossed: that is its job.
	if ((status != 0)) && ! [[ $key == sl_check* && $status == 1 ]]; then
		log "warning: $label exited $status: $(head -c 300 "$tmp/stderr")"
	fi
	((run > 0)) || return 0
	awk -v r="$run" -v k="$key" -v t0="$t0" -v t1="$t1" -v e="$e" -v u="$u" -v s="$s" -v m="$m" -v x="$x" \
		'BEGIN { printf "%d\t%s\t%.6f\t%s\t%s\t%s\t%.2f\t%s\t%s\n", r, k, t1 - t0, e, u, s, u + s, m, x }' >>"$raw"
}

for ((r = 1 - warmup; r <= runs; r++)); do
	if ((r < 1)); then log "warm-up round"; else log "round $r/$runs"; fi
	for key in "${tools[@]}"; do
		[[ -n $key ]] || continue
		measure "$r" "$key"
	done
done
tw_end=$(tw)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table --------------------------------------------------------------------
# stats KEY COLUMN: "median min max" of a raw column for one tool.
stats() {
	awk -F'\t' -v k="$1" -v c="$2" 'NR > 1 && $2 == k { print $c }' "$raw" | sort -g |
		awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}
read -r ss_med _ < <(stats ss_tanp 3)
read -r ss_cpu _ < <(stats ss_tanp 7)
table=$out/table.txt
{
	printf 'bench/compare.sh %s  %s\n' "$level" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf 'host: %s, Linux %s, %s cores, %s MiB RAM; sockleak %s\n' "$(uname -n)" "$(uname -r)" "$(nproc)" \
		"$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" \
		"$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
	if ((renew)); then tw_note="loadgen renews them as they expire"; else tw_note="they expire after 60 s"; fi
	printf 'landscape: %s (TIME_WAIT host-wide %s at the first run, %s after the last: %s)\n' \
		"$(grep '^loadgen:' "$out/loadgen.log" | tail -n 1 | sed 's/^loadgen: //')" "$tw_start" "$tw_end" "$tw_note"
	printf 'host-wide TCP sockets: %s\n' "$(awk '$1 == "TCP:" { print }' /proc/net/sockstat)"
	printf 'load average %s before the first run, %s after the last (other work on the host skews wall times)\n' "$load_start" "$load_end"
	printf '%s runs each, interleaved, after %s warm-up round(s); output to /dev/null\n\n' "$runs" "$warmup"
	printf '%-34s %10s %21s %10s %10s %11s %9s\n' TOOL "WALL med" "WALL min-max" "CPU med" "RSS med" "vs ss -tanp" "CPU vs ss"
	for key in "${tools[@]}"; do
		[[ -n $key ]] || continue
		tool_cmd "$key"
		read -r wmed wmin wmax < <(stats "$key" 3)
		read -r cmed _ < <(stats "$key" 7)
		read -r rmed _ < <(stats "$key" 8)
		awk -v l="$label" -v wmed="$wmed" -v wmin="$wmin" -v wmax="$wmax" -v cmed="$cmed" -v rmed="$rmed" -v ss="$ss_med" -v sscpu="$ss_cpu" \
			'BEGIN {
				mm = sprintf("%.3f-%.3fs", wmin, wmax)
				cr = sscpu > 0 ? sprintf("%.3fx", cmed / sscpu) : "-"
				printf "%-34s %9.3fs %21s %9.2fs %7.1fMiB %10.3fx %9s\n", l, wmed, mm, cmed, rmed / 1024, wmed / ss, cr
			}'
	done
	echo
	# bpf against netlink, from the same rounds: wall and CPU medians.
	ratio() {
		local a b wa wb ca cb
		a=$1 b=$2
		[[ " ${tools[*]} " == *" $a "* && " ${tools[*]} " == *" $b "* ]] || return 0
		read -r wa _ < <(stats "$a" 3)
		read -r wb _ < <(stats "$b" 3)
		read -r ca _ < <(stats "$a" 7)
		read -r cb _ < <(stats "$b" 7)
		tool_cmd "$a"
		awk -v l="$label" -v wa="$wa" -v wb="$wb" -v ca="$ca" -v cb="$cb" -v b="$b" \
			'BEGIN { printf "%-34s %.3fx wall, %s CPU, of %s\n", l, wa / wb, (cb > 0 ? sprintf("%.3fx", ca / cb) : "-"), b }'
	}
	ratio sl_bpf sl_netlink
	ratio sl_check_bpf sl_check_netlink
	ratio sl_bpf ss_tan
	echo
	if ((have_check == 0)); then echo "sockleak check: not in this build, skipped"; fi
	cat "$out/check.txt"
	if [[ -f $out/check-bpf.txt ]]; then
		echo "with --backend bpf:"
		cat "$out/check-bpf.txt"
	fi
	printf 'ground truth check (sockleak inspect -o json vs loadgen, and with --backend bpf): %s\n' "$verdict"
} >"$table"
cat "$table"
log "raw measurements: $raw; table: $table"
[[ $verdict == PASS ]]
