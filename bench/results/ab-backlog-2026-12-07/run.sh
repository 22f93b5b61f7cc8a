#!/bin/bash
# alternates base (/tmp/wt-base) and new (/work/main) storm-only runs; logs listen overflows per run
mkdir -p /tmp/ab-backlog
for i in $(seq 1 $1); do for v in base new; do
  d=/work/main; [ $v = base ] && d=/tmp/wt-base
  o0=$(nstat -az TcpExtListenOverflows | awk '/ListenOverflows/{print $2}')
  (cd $d && node dist/bench/run.js --only storms --no-profile --reuse-seed --reps 1 > /tmp/ab-backlog/$v-$i.log 2>&1)
  o1=$(nstat -az TcpExtListenOverflows | awk '/ListenOverflows/{print $2}')
  f=$(ls -t $d/bench/results/2026-12-07*.json | head -1); mv $f /tmp/ab-backlog/$v-$i.json; rm -f ${f%.json}.md
  echo "$v-$i overflows $((o1-o0))" | tee /tmp/ab-backlog/$v-$i.overflows
  grep -E "storm (ours|bare) " /tmp/ab-backlog/$v-$i.log | sed -E 's/^.*storm (ours|bare) ([0-9]+): .*"subscribed":([0-9]+),"seconds":([0-9.null]+).*"failed":([0-9]+).*/  \1 \2: \4 s, subscribed \3, failed \5/'
done; done
