#!/bin/bash
# usage: run.sh N ; alternates base (/tmp/wt-base) and new (/work/main)
for i in $(seq 1 $1); do for v in base new; do
  d=/work/main; [ $v = base ] && d=/tmp/wt-base
  (cd $d && node dist/bench/run.js --only chat --chat-via ws --chat-workloads ours --chat-rates 1000,2000 --no-profile --reuse-seed --reps 1 > /tmp/ab-sync/$v-$i.log 2>&1)
  f=$(ls -t $d/bench/results/*.json | head -1); mv $f /tmp/ab-sync/$v-$i.json; rm -f ${f%.json}.md
  grep -E "^\| ours graphql-ws" /tmp/ab-sync/$v-$i.log | sed "s/^/$v-$i /"
done; done
