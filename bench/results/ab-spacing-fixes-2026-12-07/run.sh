#!/bin/bash
# Alternated: 85909e2 (old: the queue's estimate without the spacing) and 5ce3c71 (new), 5000 msg/s offered.
cd "$(dirname "$0")"
for round in 1 2 3; do
  for arm in old new; do
    dir=/tmp/wt-old; [ $arm = new ] && dir=/work/main
    (cd $dir && node dist/bench/run.js --only chat --chat-via ws --chat-workloads ours --chat-rates 1000,5000 --no-profile --reuse-seed --reps 1 > /tmp/ab-fix/$arm-$round.log 2>&1)
    f=$(ls -t $dir/bench/results/*.json | head -1); mv "$f" /tmp/ab-fix/$arm-$round.json; mv "${f%.json}.md" /tmp/ab-fix/$arm-$round.md
  done
done
