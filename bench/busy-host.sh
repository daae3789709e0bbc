#!/usr/bin/env bash
# busy-host.sh: the acceptance runs of issue 11 ("a diagnosis that holds on
# busy production hosts"), on this machine, against real programs. Run as
# root from anywhere in the repository:
#
#   bench/busy-host.sh
#   CHECKS=100 DURATION=60 CONCURRENCY=50 CHECK_GAP=0.1 bench/busy-host.sh
#
# What it does, in order:
#   1. installs Debian's nginx and apache2-utils (ab) if they are missing
#      (apt-get update first; nothing when both are there), and builds
#      sockleak and testdata/leaky;
#   2. a real leak: testdata/leaky against a slow `sockleak peer` leaves
#      sockets in CLOSE_WAIT; once they are older than check's default
#      --min-age (3 s), the first `sockleak check --pid` must fail (exit 1);
#   3. a healthy busy host: nginx on a loopback port (config in a temporary
#      directory, no keep-alive), `ab -c CONCURRENCY -t DURATION` against it,
#      and meanwhile CHECKS runs of `sockleak check --port PORT` with the
#      default thresholds and min-age (none may fail) and an
#      `inspect --port PORT -o json` every tenth run (no close_wait or
#      fin_wait2 finding allowed);
#   4. watch next to a leak aged 60 s or more (step 2's, left running):
#      `sockleak watch --count 1 -o json` must report its oldest CLOSE_WAIT
#      at 55 s or more on its first sample;
#   5. a hung server: a listener (backlog 16) stopped with SIGSTOP, clients
#      that connect, wait 1 s for an answer and give up: `inspect --pid`
#      must show the accept_queue finding naming the port, the queued count
#      and the backlog, and say the process is stopped; `check --pid` and
#      `check --name` must exit 1.
# It stops every process it started (by PID), prints a summary, and exits 0
# when every step passed, 1 otherwise. Logs stay in $WORK (printed).
set -uo pipefail

checks=${CHECKS:-100}
duration=${DURATION:-60}
concurrency=${CONCURRENCY:-50}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/busy-host.XXXXXX)
started=() # PIDs this script started, stopped at exit
results=() # one line per step: PASS or FAIL and what was measured
failed=0

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
result() { # result PASS|FAIL TEXT
	results+=("$1  $2")
	[[ $1 == PASS ]] || failed=1
	log "$1 $2"
}

# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
cleanup() {
	local pid
	for pid in "${started[@]}"; do
		kill -CONT "$pid" 2>/dev/null # a stopped process cannot act on SIGTERM
		kill "$pid" 2>/dev/null
	done
	for pid in "${started[@]}"; do
		wait "$pid" 2>/dev/null
	done
	exec 7>&- 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback port below the ephemeral range that no
# socket on the host uses as either end: --port matches the local or the
# remote port, and an ephemeral port of another process's connection
# (another leaking program on this host) would be matched too.
free_port() {
	local low port
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	while :; do
		port=$((10000 + RANDOM % (low - 10000)))
		if [[ -z $(ss -tanH "( sport = :$port or dport = :$port )") ]] &&
			python3 -c "import socket; socket.socket().bind(('127.0.0.1', $port))" 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

# wait_for FILE TEXT SECONDS: until FILE contains TEXT.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- 1. what it needs -------------------------------------------------------
if [[ $(id -u) != 0 ]]; then
	echo "busy-host.sh: run as root (it installs packages and reads every process's descriptors)" >&2
	exit 2
fi
if ! command -v nginx >/dev/null || ! command -v ab >/dev/null; then
	log "installing nginx and apache2-utils"
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx apache2-utils; } >"$work/apt.log" 2>&1; then
		echo "busy-host.sh: apt-get failed; see $work/apt.log" >&2
		exit 2
	fi
fi
for tool in nginx ab jq python3 ss; do
	command -v "$tool" >/dev/null || { echo "busy-host.sh: $tool is missing" >&2; exit 2; }
done
log "building sockleak and testdata/leaky into $work"
(cd "$root" && go build -o "$work/sockleak" ./cmd/sockleak && go build -o "$work/leaky" ./testdata/leaky) || exit 2
sockleak=$work/sockleak

# --- 2. a real leak fails the first check once older than the default age --
peer_port=$(free_port)
"$sockleak" peer --listen "127.0.0.1:$peer_port" --behaviour slow --delay 300ms >"$work/peer.log" 2>&1 &
started+=($!)
wait_for "$work/peer.log" "listening on" 10 || { echo "busy-host.sh: the slow peer did not start" >&2; exit 2; }
mkfifo "$work/leaky.in"
exec 7<>"$work/leaky.in" # leaky holds its sockets until its stdin closes: this script keeps it open
"$work/leaky" -addr "127.0.0.1:$peer_port" -n 20 -timeout 50ms <&7 >"$work/leaky.log" 2>&1 &
leaky=$!
started+=("$leaky")
wait_for "$work/leaky.log" ready 20 || { echo "busy-host.sh: leaky did not get ready" >&2; exit 2; }
leak_start=$(date +%s)
sleep 4 # older than the default --min-age (3 s), by the kernel's clock
"$sockleak" check --pid "$leaky" >"$work/leak-check.txt" 2>&1
code=$?
cw=$(ss -tan state close-wait "( dport = :$peer_port )" | tail -n +2 | wc -l)
if [[ $code == 1 ]]; then
	result PASS "a real leak ($cw CLOSE_WAIT, 4 s old): the first check --pid exits 1: $(head -1 "$work/leak-check.txt")"
else
	result FAIL "a real leak ($cw CLOSE_WAIT, 4 s old): the first check --pid exits $code, want 1 (see $work/leak-check.txt)"
fi

# --- 3. a healthy busy host: nginx under ab, no false alarm ----------------
port=$(free_port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_timeout 0;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
	server {
		listen 127.0.0.1:$port;
		location / { return 200 "ok\n"; }
	}
}
EOF
nginx -p "$work/nginx" -e "$work/nginx/logs/error.log" -c "$work/nginx/nginx.conf" >"$work/nginx/stdout.log" 2>&1 &
nginx_pid=$!
started+=("$nginx_pid")
for ((i = 0; i < 50; i++)); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
log "nginx (pid $nginx_pid) on 127.0.0.1:$port; ab -c $concurrency -t $duration, $checks checks"
# -n after -t: -t alone caps the run at 50000 requests.
ab -c "$concurrency" -t "$duration" -n 100000000 -r "http://127.0.0.1:$port/" >"$work/ab.log" 2>&1 &
ab_pid=$!
started+=("$ab_pid")
sleep 2 # the load is up
check_fails=0 during=0 inspects=0 leak_findings=0
for ((i = 1; i <= checks; i++)); do
	kill -0 "$ab_pid" 2>/dev/null && during=$((during + 1))
	"$sockleak" check --port "$port" >"$work/check-$i.txt" 2>&1
	code=$?
	if [[ $code != 0 ]]; then
		check_fails=$((check_fails + 1))
		log "check $i exited $code: $(head -1 "$work/check-$i.txt")"
	else
		rm -f "$work/check-$i.txt"
	fi
	if ((i % 10 == 0)); then
		"$sockleak" inspect --port "$port" -o json >"$work/inspect-$i.json" 2>"$work/inspect-$i.err"
		inspects=$((inspects + 1))
		n=$(jq '[.findings[] | select(.kind == "close_wait" or .kind == "fin_wait2")] | length' "$work/inspect-$i.json" 2>/dev/null || echo 1)
		leak_findings=$((leak_findings + n))
		((n > 0)) && log "inspect $i: $n close_wait/fin_wait2 findings: $(jq -r '[.findings[] | select(.kind == "close_wait" or .kind == "fin_wait2") | .message] | join(" / ")' "$work/inspect-$i.json")"
	fi
	sleep "${CHECK_GAP:-0.1}" # a check takes a few tenths of a second here: 100 of them span the load
done
wait "$ab_pid"
requests=$(awk '/^Complete requests:/ {print $3}' "$work/ab.log")
rps=$(awk '/^Requests per second:/ {print $4}' "$work/ab.log")
summary="$checks default checks --port $port ($during during ab's load: $requests requests, $rps/s): $check_fails failed"
if [[ $check_fails == 0 ]]; then result PASS "$summary"; else result FAIL "$summary (want 0; outputs in $work/check-*.txt)"; fi
summary="$inspects inspect --port $port runs: $leak_findings close_wait or fin_wait2 findings"
if [[ $leak_findings == 0 ]]; then result PASS "$summary"; else result FAIL "$summary (want 0)"; fi
kill "$nginx_pid" 2>/dev/null

# --- 4. watch next to a leak aged 60 s or more ------------------------------
while (($(date +%s) - leak_start < 61)); do sleep 1; done
age=$(($(date +%s) - leak_start))
"$sockleak" watch --pid "$leaky" --count 1 -o json >"$work/watch.jsonl" 2>"$work/watch.err"
oldest=$(jq -r --argjson pid "$leaky" 'select(.type == "sample") | .processes[] | select(.pid == $pid) | .close_wait_oldest_seconds' "$work/watch.jsonl" 2>/dev/null | head -1)
if [[ -n $oldest ]] && python3 -c "import sys; sys.exit(0 if float('$oldest') >= 55 else 1)"; then
	result PASS "watch next to a leak ${age}s old: oldest ${oldest}s on the first sample"
else
	result FAIL "watch next to a leak ${age}s old: oldest '${oldest}' on the first sample, want >= 55 (see $work/watch.jsonl)"
fi

# --- 5. a hung server: stopped, its accept queue filling ---------------------
hung_port=$(free_port)
cat >"$work/hung-server.py" <<EOF
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", $hung_port))
s.listen(16)
print("listening", flush=True)
time.sleep(3600)  # never accepts
EOF
python3 "$work/hung-server.py" >"$work/hung.log" 2>&1 &
hung=$!
started+=("$hung")
wait_for "$work/hung.log" listening 10 || { echo "busy-host.sh: the hung server did not start" >&2; exit 2; }
kill -STOP "$hung"
clients=()
for ((i = 0; i < 24; i++)); do
	# Connect, send a request, wait 1 s for an answer, give up (close).
	timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$hung_port && echo hello >&3 && cat <&3" >/dev/null 2>&1 &
	clients+=($!)
done
wait "${clients[@]}" 2>/dev/null
sleep 0.5
read -r queued backlog < <(ss -ltnH "sport = :$hung_port" | awk '{print $2, $3}')
log "hung server pid $hung (stopped) on 127.0.0.1:$hung_port: ss says queue $queued of $backlog"
"$sockleak" inspect --pid "$hung" -o json >"$work/hung-inspect.json" 2>"$work/hung-inspect.err"
"$sockleak" inspect --pid "$hung" >"$work/hung-inspect.txt" 2>&1
msg=$(jq -r '[.findings[] | select(.kind == "accept_queue") | .message] | join(" / ")' "$work/hung-inspect.json" 2>/dev/null)
missing=()
[[ -n $msg ]] || missing+=("the finding")
for want in "$hung_port" "$queued" "$backlog" stopped; do
	[[ $msg == *"$want"* ]] || missing+=("'$want'")
done
if [[ ${#missing[@]} == 0 ]]; then
	result PASS "inspect --pid of the stopped server: $msg"
else
	result FAIL "inspect --pid of the stopped server: ${missing[*]} missing from the accept_queue finding: '$msg' (see $work/hung-inspect.txt)"
fi
"$sockleak" check --pid "$hung" >"$work/hung-check-pid.txt" 2>&1
code_pid=$?
"$sockleak" check --name hung-server >"$work/hung-check-name.txt" 2>&1
code_name=$?
if [[ $code_pid == 1 && $code_name == 1 ]]; then
	result PASS "check --pid and check --name of the stopped server exit 1: $(head -1 "$work/hung-check-pid.txt")"
else
	result FAIL "check --pid exits $code_pid, check --name exits $code_name; want 1 and 1 (see $work/hung-check-*.txt)"
fi

# --- summary -----------------------------------------------------------------
echo
echo "busy-host.sh: $(uname -r), $(nproc) cores, nginx $(nginx -v 2>&1 | sed 's/.*\///'); logs in $work"
printf '%s\n' "${results[@]}"
exit "$failed"
