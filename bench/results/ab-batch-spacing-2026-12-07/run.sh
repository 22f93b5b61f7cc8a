#!/bin/bash
# Alternated: the batch thread's spacing factor (SEND_BATCH_SPACING) 0 (off: as before), 1.5 (the default), 3; cap 20 ms.
cd "$(dirname "$0")"
for round in 1 2 3; do
  for f in 0 1.5 3; do
    (cd /work/main && SEND_BATCH_SPACING=$f node dist/bench/run.js --only chat --chat-via ws --chat-workloads ours --chat-rates 1000,5000 --no-profile --reuse-seed --reps 1 > /tmp/ab-sf/f$f-$round.log 2>&1)
    x=$(ls -t /work/main/bench/results/*.json | head -1); mv "$x" /tmp/ab-sf/f$f-$round.json; mv "${x%.json}.md" /tmp/ab-sf/f$f-$round.md
  done
done
