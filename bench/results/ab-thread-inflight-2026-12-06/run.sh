#!/bin/bash
cd /tmp/wt-trace
for i in 1 2 3; do
  for arm in f1 f2h4 f2h2; do
    case $arm in f1) export SEND_THREAD_IN_FLIGHT=1 SEND_THREAD_HOLD_MS=4;; f2h4) export SEND_THREAD_IN_FLIGHT=2 SEND_THREAD_HOLD_MS=4;; f2h2) export SEND_THREAD_IN_FLIGHT=2 SEND_THREAD_HOLD_MS=2;; esac
    rm -f /tmp/ab-inflight/trace-r$i-$arm.txt
    SEND_TRACE_FILE=/tmp/ab-inflight/trace-r$i-$arm.txt node dist/bench/run.js --only chat --chat-via ws --chat-workloads ours --chat-rates 1000,5000 --no-profile --reuse-seed --reps 1 > /tmp/ab-inflight/r$i-$arm.txt 2>&1
    f=$(grep -o 'bench/results/[^ ]*\.json' /tmp/ab-inflight/r$i-$arm.txt | head -1)
    cp $f /tmp/ab-inflight/r$i-$arm.json; cp ${f%.json}.md /tmp/ab-inflight/r$i-$arm.md; rm -f $f ${f%.json}.md
  done
done
echo done > /tmp/ab-inflight/DONE
