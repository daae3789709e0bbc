#!/usr/bin/env bash
# watch-soak.sh [DURATION]: run sockleak watch for DURATION (default 10m)
# against churning loopback sockets and report its heap and RSS over time,
# to show that its memory stays flat however long it runs.
#
#   bench/watch-soak.sh 10m
#   INTERVAL=100ms CLIENTS=20 LEAK=50 bench/watch-soak.sh 30m
#   WATCH_ARGS="--port 47991" bench/watch-soak.sh 20m   # only the churn's sockets:
#                                                        # other load on the host aside
#
# The churn: every CHURN seconds (default 0.5) a new testdata/leaky client
# (a new pid) leaks LEAK (default 30) sockets into CLOSE_WAIT towards a slow
# `sockleak peer`, holds them 1-6 s and exits, with at most CLIENTS (default
# 10) alive at once: processes, sockets, peers' FIN_WAIT2 orphans and
# TIME_WAIT come and go all the time, so watch keeps meeting new pids and
# inodes and must forget the old ones.
#
# Every REPORT seconds (default 10) it prints one row: elapsed time, watch's
# RSS and peak RSS (/proc/PID/status), its live heap after the latest GC and
# the GC's goal (GODEBUG=gctrace=1 on its stderr), its open fds and threads,
# the samples taken and the sockets of the latest one. Raw logs go to
# bench/out/watch-soak/. Needs Linux; run as root to see every process.
set -euo pipefail

duration=${1:-10m}
interval=${INTERVAL:-200ms}
clients=${CLIENTS:-10}
leak=${LEAK:-30}
churn=${CHURN:-0.5}
every=${REPORT:-10}
port=${PORT:-47991}

to_seconds() {
	case $1 in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
secs=$(to_seconds "$duration")
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [DURATION, e.g. 90s, 10m, 1h]" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out/watch-soak
rm -rf "$out"
mkdir -p "$out"
bin=$(mktemp -d)

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$bin"
}
trap cleanup EXIT

echo "building sockleak and testdata/leaky..." >&2
(cd "$root" && go build -o "$bin/sockleak" ./cmd/sockleak)
(cd "$root/testdata/leaky" && go build -o "$bin/leaky" .)

"$bin/sockleak" peer --listen "127.0.0.1:$port" --behaviour slow --delay 100ms >"$out/peer.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$out/peer.log" && break; sleep 0.1; done
grep -q listening "$out/peer.log" || { echo "the peer did not start:" >&2; cat "$out/peer.log" >&2; exit 1; }

# shellcheck disable=SC2086 # WATCH_ARGS is a list of flags
GODEBUG=gctrace=1 "$bin/sockleak" watch --interval "$interval" --window 1m --max-close-wait 20 --max-close-wait-age 3s \
	--listen 127.0.0.1:0 -o text ${WATCH_ARGS:-} >"$out/watch.log" 2>"$out/gctrace.log" &
wpid=$!
pids+=("$wpid")

# The churn, in the background: short-lived leaking clients.
(
	while :; do
		if (($(jobs -rp | wc -l) < clients)); then
			hold=$((RANDOM % 6 + 1))
			(sleep "$hold" | "$bin/leaky" -addr "127.0.0.1:$port" -n "$leak" -timeout 5ms >/dev/null 2>&1 || true) &
		fi
		sleep "$churn"
	done
) &
pids+=($!)

printf '%8s %10s %10s %9s %9s %5s %8s %8s %8s\n' elapsed rss_kb hwm_kb heap_mb goal_mb fds threads samples sockets | tee "$out/report.txt"
start=$(date +%s)
rows=0
first_rss=0
while :; do
	sleep "$every"
	now=$(date +%s)
	elapsed=$((now - start))
	[[ -d /proc/$wpid ]] || { echo "sockleak watch died:" >&2; tail "$out/watch.log" "$out/gctrace.log" >&2; exit 1; }
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$wpid/status")
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$wpid/status")
	threads=$(awk '/^Threads:/ {print $2}' "/proc/$wpid/status")
	fds=$(find "/proc/$wpid/fd" -mindepth 1 -maxdepth 1 | wc -l)
	# gctrace: "gc N @Ts P%: ... A->B->C MB, G MB goal, ...": C is the live heap.
	read -r heap goal < <(grep -oE '[0-9]+->[0-9]+->[0-9]+ MB, [0-9]+ MB goal' "$out/gctrace.log" | tail -1 |
		sed -E 's/[0-9]+->[0-9]+->([0-9]+) MB, ([0-9]+) MB goal/\1 \2/' || true)
	samples=$(grep -c ' sample ' "$out/watch.log" || true)
	sockets=$(grep ' sample ' "$out/watch.log" | tail -1 | sed -nE 's/.*\): ([0-9]+) sockets.*/\1/p')
	printf '%8s %10s %10s %9s %9s %5s %8s %8s %8s\n' "${elapsed}s" "$rss" "$hwm" "${heap:--}" "${goal:--}" "$fds" "$threads" "$samples" "${sockets:--}" | tee -a "$out/report.txt"
	rows=$((rows + 1))
	((first_rss == 0)) && first_rss=$rss
	((elapsed >= secs)) && break
done

kill -TERM "$wpid"
status=0
wait "$wpid" || status=$?
alerts=$(grep -cE ' (FIRING|RESOLVED) ' "$out/watch.log" || true)
errors=$(grep -c ' failed: ' "$out/watch.log" || true)
{
	echo
	echo "watch ran ${elapsed}s, $samples samples, $alerts alert transitions, $errors failed samples; exit status $status after SIGTERM"
	echo "RSS: $first_rss kB at the first report, $rss kB at the last (peak $hwm kB); live heap after the last GC: ${heap:-?} MB"
} | tee -a "$out/report.txt"
[[ $status -eq 0 ]]
