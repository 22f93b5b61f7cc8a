#!/bin/bash
# Alternated pairs: before (cf662ac: complete waits for next's write) and after (738acbb: early send callback), same bench code.
cd "$(dirname "$0")"
for round in 1 2 3; do
  for arm in before after; do
    dir=/tmp/wt-before; [ $arm = after ] && dir=/work/main
    (cd $dir && node dist/bench/run.js --only chat --chat-via ws --chat-workloads ours --chat-rates 1000,5000 --no-profile --reuse-seed --reps 1 > /tmp/ab-cork/$arm-$round.log 2>&1)
    f=$(ls -t $dir/bench/results/*.json | head -1); mv "$f" /tmp/ab-cork/$arm-$round.json; mv "${f%.json}.md" /tmp/ab-cork/$arm-$round.md
  done
done
