#!/usr/bin/env bash
# The swarm across many machines: every agent in a network namespace of its own, the remote
# served by `git daemon` in another, every connection and every chunk between them delayed by a
# relay (this kernel has no netem). The namespaces are removed however the run ends.
#
# Usage (as root): benches/swarm-netns.sh [AGENTS] [COMMITS] [--rtt MS] [--jitter MS] [--modes LIST]
#   default 16 agents x 10 commits, 150 ms round trip, 30 ms jitter, every mode.
# Needs iproute2 (Debian package iproute2).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v ip >/dev/null || { echo "swarm-netns.sh: needs ip (apt-get install iproute2)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "swarm-netns.sh: run as root (it creates network namespaces)" >&2; exit 2; }

agents=16
for a in "$@"; do
    case "$a" in [0-9]*) agents="$a"; break ;; esac
done
[ "$agents" -le 250 ] || { echo "swarm-netns.sh: at most 250 agents" >&2; exit 2; }

# Built before any namespace exists, so a build failure leaves nothing behind.
# SWARM_BENCH=<executable> runs an already built benchmark instead (a debug build, say).
if [ -z "${SWARM_BENCH:-}" ]; then
    cargo bench --bench swarm --no-run
fi

prefix="ms$$"
server="$prefix-srv"
cleanup() {
    for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix-" || true); do
        pids="$(ip netns pids "$ns" || true)"
        [ -z "$pids" ] || kill $pids 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

ip netns add "$server"
ip -n "$server" link set lo up
ip -n "$server" link add br0 type bridge
ip -n "$server" addr add 10.77.0.1/16 dev br0
ip -n "$server" link set br0 up
for ((i = 0; i < agents; i++)); do
    ns="$(printf '%s-a%02d' "$prefix" "$i")"
    ip netns add "$ns"
    ip link add "v$i" netns "$server" type veth peer name eth0 netns "$ns"
    ip -n "$server" link set "v$i" master br0 up
    ip -n "$ns" addr add "10.77.$((1 + i / 250)).$((1 + i % 250))/16" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
done

if [ -n "${SWARM_BENCH:-}" ]; then
    "$SWARM_BENCH" --netns "$prefix" "$@"
else
    cargo bench --bench swarm -- --netns "$prefix" "$@"
fi
