#!/bin/bash
# Alternated pairs: the bench as it was (old: 445fb8c) and with the chat tables' vacuum (new: 0145d81), same server code.
cd "$(dirname "$0")"
for round in 1 2; do
  for arm in old new; do
    (cd /tmp/wt-$arm && node dist/bench/run.js --only requests,messages,chat --chat-via ws --chat-workloads ours --chat-rates 1000 --no-profile --reuse-seed --reps 1 > /tmp/ab-vac/$arm-$round.log 2>&1)
    f=$(ls -t /tmp/wt-$arm/bench/results/*.json | head -1); mv "$f" /tmp/ab-vac/$arm-$round.json; mv "${f%.json}.md" /tmp/ab-vac/$arm-$round.md
  done
done
