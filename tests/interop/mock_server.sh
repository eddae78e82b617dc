#!/usr/bin/env bash
# `kwire mock` as a server, started the way scripts start it: in the
# background with no terminal, standard input on /dev/null or /dev/zero or a
# pipe; a ready file; SIGTERM; addresses by name, IPv6, a second loopback
# address and an advertised host. kcat (librdkafka) is the client.
# Usage: mock_server.sh KWIRE
set -euo pipefail
kwire=${1:?usage: mock_server.sh KWIRE}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Starts `kwire mock ARGS...` in the background with standard input from
# $stdin, waits for its ready file and sets $pid and $bootstrap.
start() {
  local ready=$work/ready.$RANDOM
  "$kwire" mock --quiet --ready-file "$ready" "$@" <"$stdin" >"$work/out" 2>"$work/err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 200); do
    [ -s "$ready" ] && break
    kill -0 "$pid" 2>/dev/null || fail "kwire mock $* exited early: $(cat "$work/err")"
    sleep 0.05
  done
  [ -s "$ready" ] || fail "kwire mock $* wrote no ready file"
  bootstrap=$(head -n 1 "$ready")
  [ "$bootstrap" = "$(head -n 1 "$work/out")" ] || fail "ready file and standard output differ"
}

# CPU time (user + system, in clock ticks) the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Ends the mock with SIGTERM; it must exit 0.
stop() {
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  [ "$status" -eq 0 ] || fail "kwire mock exited $status after SIGTERM"
}

# 1. Standard input on /dev/null (a script, nohup): it serves until SIGTERM.
stdin=/dev/null
start --brokers 1
sleep 1
kill -0 "$pid" 2>/dev/null || fail "with standard input on /dev/null the mock exited"
kcat -L -b "$bootstrap" -m 5 | grep -q "broker 1 at $bootstrap" || fail "kcat -L through $bootstrap"
stop
echo "ok: stdin /dev/null serves until SIGTERM, which exits 0"

# 2. Standard input on /dev/zero: not read at all, so no core burnt.
stdin=/dev/zero
start --brokers 1
before=$(cpu_ticks "$pid")
sleep 1
used=$(($(cpu_ticks "$pid") - before))
[ "$used" -lt 30 ] || fail "with standard input on /dev/zero the mock used $used ticks in a second"
stop
echo "ok: stdin /dev/zero costs $used ticks a second"

# 3. A pipe: the mock exits 0 when the harness holding the pipe goes away.
mkfifo "$work/pipe"
sleep 1 >"$work/pipe" &
pids+=($!)
stdin=$work/pipe
start --brokers 1
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || fail "the end of a piped standard input gave exit status $status"
echo "ok: the end of a piped standard input stops the mock"

# 4. A second loopback address is what clients are told.
stdin=/dev/null
start --brokers 2 --host 127.0.0.2
case $bootstrap in 127.0.0.2:*,127.0.0.2:*) ;; *) fail "bootstrap $bootstrap" ;; esac
kcat -L -b "$bootstrap" -m 5 | grep -q "broker 2 at 127.0.0.2:" || fail "Metadata does not advertise 127.0.0.2"
stop
echo "ok: --host 127.0.0.2 advertises 127.0.0.2"

# 5. Every address, advertised as another: clients go where they are told.
start --brokers 1 --host 0.0.0.0 --advertised-host 127.0.0.3
case $bootstrap in 127.0.0.3:*) ;; *) fail "bootstrap $bootstrap" ;; esac
printf 'a\nb\nc\n' | kcat -P -b "$bootstrap" -t adv -m 5
[ "$(kcat -C -b "$bootstrap" -t adv -o beginning -e -q -m 5 | wc -l)" -eq 3 ] ||
  fail "records through the advertised host"
stop
echo "ok: --advertised-host 127.0.0.3 serves produce and fetch"

# 6. A host name, and IPv6 in brackets.
start --brokers 1 --host localhost
case $bootstrap in localhost:*) ;; *) fail "bootstrap $bootstrap" ;; esac
kcat -L -b "$bootstrap" -m 5 | grep -q "broker 1 at localhost:" || fail "Metadata does not say localhost"
stop
echo "ok: --host localhost"
if [ -e /proc/net/if_inet6 ] && grep -q ' lo$' /proc/net/if_inet6; then
  start --brokers 1 --host ::1
  case $bootstrap in "[::1]:"*) ;; *) fail "bootstrap $bootstrap is not [::1]:PORT" ;; esac
  printf 'x\ny\n' | kcat -P -b "$bootstrap" -t six -m 5
  [ "$(kcat -C -b "$bootstrap" -t six -o beginning -e -q -m 5 | wc -l)" -eq 2 ] ||
    fail "records over IPv6"
  stop
  echo "ok: --host ::1 prints [::1]:PORT and serves kcat"
else
  echo "skipped: no IPv6 loopback here"
fi

# 7. A ready file in a directory that does not exist: a clear error, exit 1.
status=0
"$kwire" mock --quiet --ready-file "$work/none/ready" </dev/null >/dev/null 2>"$work/err" || status=$?
[ "$status" -eq 1 ] || fail "an unwritable ready file gave exit status $status"
grep -q -- "--ready-file $work/none/ready" "$work/err" || fail "the error does not name the ready file"
echo "ok: an unwritable ready file is refused"
