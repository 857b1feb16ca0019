# Sourced by tests/cli_multihost*.sh: "hosts" on one machine as network
# namespaces, so that MPI ranks placed on them talk over TCP only.
#
#   hosts_start T N   creates hosts ${HOSTS_PREFIX}0..N-1 on a bridge (in a
#                     namespace of its own), 10.77.0.2.. on interface vgg0,
#                     and in T: the hostfile `hosts`, the launch agent
#                     `agent` and a folder host.NAME per host
#   MPIRUN=(...)      mpirun as the README's several-machine recipe, run
#                     from host 0
#   hosts_cleanup     kills what runs in them and deletes them (trapped)
#
# The agent stands in for ssh: `agent HOST COMMAND` runs COMMAND in
# namespace HOST with that host name, its own TMPDIR, and T/host.HOST
# mounted on T/local, so that each host reads its own copy of the data
# from the same path. Skips (77) when namespaces cannot be made.

HOSTS_PREFIX=vgmh$$x$RANDOM
HOSTS_N=0
HOSTS_DIR=

hosts_cleanup() {
    local i ns
    for ((i = 0; i < HOSTS_N; i++)); do
        ns=${HOSTS_PREFIX}$i
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    done
    for ((i = 0; i < HOSTS_N; i++)); do
        ip netns del "${HOSTS_PREFIX}$i" 2>/dev/null || true
    done
    ip netns del "${HOSTS_PREFIX}s" 2>/dev/null || true
    HOSTS_N=0
}

hosts_skip() { echo "skip: $*"; exit 77; }

hosts_start() {
    HOSTS_DIR=$1
    local n=$2 i ns sw=${HOSTS_PREFIX}s
    command -v ip >/dev/null || hosts_skip "no ip command (iproute2)"
    command -v unshare >/dev/null || hosts_skip "no unshare (util-linux)"
    command -v mpirun >/dev/null || hosts_skip "no mpirun"
    ip netns add "$sw" 2>"$HOSTS_DIR/netns.err" ||
        hosts_skip "network namespaces not allowed here (ip netns add: $(head -1 "$HOSTS_DIR/netns.err")); needs root or CAP_NET_ADMIN"
    HOSTS_N=$n
    ip -n "$sw" link add br0 type bridge
    ip -n "$sw" link set br0 up
    : >"$HOSTS_DIR/hosts"
    for ((i = 0; i < n; i++)); do
        ns=${HOSTS_PREFIX}$i
        ip netns add "$ns"
        ip link add name vgg0 netns "$ns" type veth peer name "p$i" netns "$sw"
        ip -n "$sw" link set "p$i" master br0 up
        ip -n "$ns" addr add "10.77.0.$((i + 2))/24" dev vgg0
        ip -n "$ns" link set vgg0 up
        ip -n "$ns" link set lo up
        mkdir -p "$HOSTS_DIR/host.$ns" "$HOSTS_DIR/tmp.$ns"
        echo "$ns slots=1" >>"$HOSTS_DIR/hosts"
    done
    mkdir -p "$HOSTS_DIR/local"
    cat >"$HOSTS_DIR/agent" <<'AGENT'
#!/bin/sh
# plm_rsh_agent: "agent HOST COMMAND..." in place of "ssh HOST COMMAND..."
h=$1; shift
d=$(dirname "$0")
exec ip netns exec "$h" unshare --uts sh -c '
hostname "$1"; mount --bind "$2/host.$1" "$2/local" || exit 1
export TMPDIR="$2/tmp.$1"; exec sh -c "$3"' agent "$h" "$d" "$*"
AGENT
    chmod +x "$HOSTS_DIR/agent"
    export PMIX_MCA_gds=hash
    MPIRUN=(ip netns exec "${HOSTS_PREFIX}0" mpirun --allow-run-as-root
        --hostfile "$HOSTS_DIR/hosts" --mca plm_rsh_agent "$HOSTS_DIR/agent"
        --map-by node --bind-to none --mca btl tcp,self --mca btl_tcp_if_include vgg0
        --mca oob_tcp_if_include vgg0 --mca oob_tcp_keepalive_time 5
        --mca oob_tcp_keepalive_intvl 2 --mca oob_tcp_keepalive_probes 3)
}

# The namespace of host i, and the device that links it to the bridge.
host() { echo "${HOSTS_PREFIX}$1"; }
