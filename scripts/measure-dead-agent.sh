#!/bin/bash
# Measures how long the server takes to declare a SIGKILLed agent lost (default lease 30 s).
# Usage: cargo build --workspace --bins && scripts/measure-dead-agent.sh
set -e
B=${CUTOVER_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/debug}
D=$(mktemp -d)
$B/cutover-server --listen 127.0.0.1:0 --data-dir $D/server 2>$D/server.log &
SP=$!
while [ ! -s $D/server/listen-addr ]; do sleep 0.05; done
EP=http://$(cat $D/server/listen-addr)
mkdir -p $D/root $D/fs $D/app
$B/cutover-agent --server $EP --name dead-1 --tags env=x --root $D/root --destination-root $D/fs \
    --enrollment-token-file $D/server/enrollment-token 2>$D/agent.log &
AP=$!
cat > $D/app/appspec.yml <<'Y'
version: 0.0
os: linux
hooks:
  AfterInstall:
    - location: hang.sh
      timeout: 600
Y
printf "#!/bin/sh\necho \$\$ > $D/hook.pid\ntouch $D/started\nexec sleep 600\n" > $D/app/hang.sh; chmod +x $D/app/hang.sh
export CUTOVER_ENDPOINT=$EP
export AWS_SHARED_CREDENTIALS_FILE=$D/server/admin-credentials
$B/cutover create-application --application-name a >/dev/null
$B/cutover create-deployment-group --application-name a --deployment-group-name g --on-premises-tag-filters Key=env,Value=x,Type=KEY_AND_VALUE >/dev/null
$B/cutover push --application-name a --source $D/app --json > $D/rev.json
rm -f $D/started
ID=$($B/cutover deploy --application-name a --deployment-group-name g --revision @$D/rev.json)
while [ ! -f $D/started ]; do sleep 0.01; done
kill -9 $AP; T0=$(date +%s.%N)
while ! $B/cutover deployments get $ID --json | grep -q '"status": "Failed"'; do sleep 0.1; done
T1=$(date +%s.%N)
echo "dead agent detected after $(echo "$T1 - $T0" | bc) s"
$B/cutover deployments get $ID --json | grep -o '"message": "The agent[^"]*"' | head -1
kill "$(cat $D/hook.pid)" 2>/dev/null || true  # the orphaned hook (its agent is gone)
kill $SP
