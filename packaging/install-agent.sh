#!/bin/sh
# Installs cutover-agent on this host, writes its configuration and starts it, in one command:
#
#   sudo ./install-agent.sh --server http://deploy.internal:8700 --tags env=prod,role=web
#
# Options (all optional but --server):
#   --server URL                   the Cutover server
#   --name NAME                    instance name to register [default: this host's name]
#   --tags k=v[,k=v...]            instance tags
#   --enrollment-token-file FILE   passed to the agent as CUTOVER_AGENT_ENROLLMENT_TOKEN_FILE (agent enrolment)
#   --metrics-listen ADDR          serve Prometheus metrics on ADDR
#   --binary PATH                  the cutover-agent binary [default: next to this script, else on PATH]
#   --prefix DIR                   install below DIR instead of / (for packaging and tests)
#   --root DIR                     the agent's state directory [default: PREFIX/var/lib/cutover-agent]
#   --start systemd|background|none
#                                  how to start it [default: systemd when systemd runs this host and PREFIX is /,
#                                  else background]; `background` runs it detached with its log in
#                                  PREFIX/var/log/cutover-agent.log and its pid in PREFIX/run/cutover-agent.pid
#
# Files: PREFIX/usr/local/bin/cutover-agent, PREFIX/etc/cutover/agent.env (mode 0600),
# PREFIX/etc/systemd/system/cutover-agent.service (systemd only). Running it again updates the binary and the
# configuration and restarts the agent; the agent's state (its root) is kept.
set -eu

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

die() {
    echo "install-agent.sh: $*" >&2
    exit 1
}

server="" name="" tags="" token_file="" metrics_listen="" binary="" prefix="/" root="" start=""
while [ $# -gt 0 ]; do
    case "$1" in
        --server) server=${2:?}; shift 2 ;;
        --name) name=${2:?}; shift 2 ;;
        --tags) tags=${2:?}; shift 2 ;;
        --enrollment-token-file) token_file=${2:?}; shift 2 ;;
        --metrics-listen) metrics_listen=${2:?}; shift 2 ;;
        --binary) binary=${2:?}; shift 2 ;;
        --prefix) prefix=${2:?}; shift 2 ;;
        --root) root=${2:?}; shift 2 ;;
        --start) start=${2:?}; shift 2 ;;
        -h|--help) usage ;;
        *) echo "install-agent.sh: unknown option $1" >&2; usage ;;
    esac
done

[ -n "$server" ] || die "--server URL is required"
[ -n "$name" ] || name=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)
prefix=${prefix%/}
[ -n "$root" ] || root="$prefix/var/lib/cutover-agent"
if [ -z "$binary" ]; then
    here=$(dirname "$0")
    if [ -x "$here/cutover-agent" ]; then
        binary="$here/cutover-agent"
    else
        binary=$(command -v cutover-agent || true)
    fi
fi
[ -n "$binary" ] && [ -x "$binary" ] || die "no cutover-agent binary: pass --binary PATH"
if [ -n "$token_file" ]; then
    [ -r "$token_file" ] || die "cannot read the enrollment token file $token_file"
fi
if [ -z "$start" ]; then
    if [ -z "$prefix" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        start=systemd
    else
        start=background
    fi
fi
case "$start" in systemd|background|none) ;; *) die "--start must be systemd, background or none" ;; esac

# Values go into an environment file read by systemd and by sh: keep them to what both read the same way.
for value in "$server" "$name" "$tags" "$token_file" "$metrics_listen" "$root"; do
    case "$value" in
        *[\"\'\$\`\\]*|*"
"*) die "unsupported character (quote, \$, backquote, backslash or newline) in: $value" ;;
    esac
done

bin_dir="$prefix/usr/local/bin"
etc_dir="$prefix/etc/cutover"
installed="$bin_dir/cutover-agent"
env_file="$etc_dir/agent.env"
mkdir -p "$bin_dir" "$etc_dir" "$root"

# Stop a running agent first (its running events finish; systemd waits for it).
pid_file="$prefix/run/cutover-agent.pid"
if [ "$start" = systemd ]; then
    systemctl stop cutover-agent 2>/dev/null || true
elif [ -f "$pid_file" ]; then
    old=$(cat "$pid_file")
    if kill -0 "$old" 2>/dev/null; then
        kill -TERM "$old"
        while kill -0 "$old" 2>/dev/null; do sleep 0.2; done
    fi
    rm -f "$pid_file"
fi

# The binary: copied to a temporary name and renamed, so a running copy is never overwritten in place.
cp "$binary" "$installed.new"
chmod 0755 "$installed.new"
mv -f "$installed.new" "$installed"

umask 077
{
    echo "# Written by install-agent.sh; every flag of cutover-agent as CUTOVER_AGENT_<FLAG>."
    echo "CUTOVER_AGENT_SERVER=\"$server\""
    echo "CUTOVER_AGENT_NAME=\"$name\""
    echo "CUTOVER_AGENT_TAGS=\"$tags\""
    echo "CUTOVER_AGENT_ROOT=\"$root\""
    [ -z "$metrics_listen" ] || echo "CUTOVER_AGENT_METRICS_LISTEN=\"$metrics_listen\""
    # Agent enrolment: the agent reads the token from this file when it registers.
    [ -z "$token_file" ] || echo "CUTOVER_AGENT_ENROLLMENT_TOKEN_FILE=\"$token_file\""
} > "$env_file.new"
mv -f "$env_file.new" "$env_file"
umask 022

case "$start" in
    systemd)
        unit_dir="$prefix/etc/systemd/system"
        mkdir -p "$unit_dir"
        here=$(dirname "$0")
        if [ -f "$here/systemd/cutover-agent.service" ]; then
            cp "$here/systemd/cutover-agent.service" "$unit_dir/cutover-agent.service"
        else
            die "systemd/cutover-agent.service was not found next to this script"
        fi
        systemctl daemon-reload
        systemctl enable --now cutover-agent
        echo "cutover-agent installed and started (systemctl status cutover-agent)"
        ;;
    background)
        mkdir -p "$prefix/var/log" "$prefix/run"
        log="$prefix/var/log/cutover-agent.log"
        # The same configuration systemd would give it: the environment file's variables.
        (
            set -a
            . "$env_file"
            set +a
            exec nohup "$installed" </dev/null >>"$log" 2>&1
        ) &
        echo $! > "$pid_file"
        echo "cutover-agent installed and started in the background (pid $(cat "$pid_file"), log $log)"
        ;;
    none)
        echo "cutover-agent installed; configuration in $env_file"
        ;;
esac
