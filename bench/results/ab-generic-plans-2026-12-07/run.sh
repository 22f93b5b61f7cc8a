#!/bin/bash
# alternating pairs: old = 7e2a43f (PostgreSQL chooses the plans), new = the batch thread connecting with plan_cache_mode=force_generic_plan
ARGS="--only chat --chat-via ws --chat-workloads ours --chat-rates 1000,2000,5000 --no-profile --reuse-seed --reps 1"
for i in 1 2 3 4; do
  for arm in old new; do
    if [ $arm = old ]; then d=/tmp/wt-old; else d=/work/main; fi
    (cd $d && node dist/bench/run.js $ARGS > /tmp/ab-generic/$arm-$i.log 2>&1)
    f=$(grep -o 'bench/results/[^ ]*\.json' /tmp/ab-generic/$arm-$i.log | tail -1)
    cp $d/$f /tmp/ab-generic/$arm-$i.json; cp $d/${f%.json}.md /tmp/ab-generic/$arm-$i.md; rm -f $d/$f $d/${f%.json}.md
  done
done
echo finished
