#!/bin/bash
cd /work/main
for i in 1 2 3; do
  for arm in def s32 s64; do
    case $arm in def) export BENCH_NODE_FLAGS="";; s32) export BENCH_NODE_FLAGS="--max-semi-space-size=32";; s64) export BENCH_NODE_FLAGS="--max-semi-space-size=64";; esac
    node dist/bench/run.js --only chat --chat-via ws --chat-workloads ours --chat-rates 1000,5000 --no-profile --reuse-seed --reps 1 > /tmp/ab-semi/r$i-$arm.txt 2>&1
    f=$(grep -o 'bench/results/[^ ]*\.json' /tmp/ab-semi/r$i-$arm.txt | head -1)
    cp $f /tmp/ab-semi/r$i-$arm.json; cp ${f%.json}.md /tmp/ab-semi/r$i-$arm.md; rm -f $f ${f%.json}.md
  done
done
echo done > /tmp/ab-semi/DONE
