#!/bin/bash
# alternating: the bench with autovacuum as the machine has it (off) vs on (SERVER_SETTINGS), writes before the chat as in a full run
ARGS="--only requests,messages,chat --chat-via http,ws --chat-workloads ours --chat-rates 1000 --no-profile --reuse-seed --reps 1"
for i in 1 2; do
  for arm in off on; do
    if [ $arm = off ]; then d=<checkout of d966276>; else d=<checkout with SERVER_SETTINGS.autovacuum = on>; fi
    (cd $d && node dist/bench/run.js $ARGS > /tmp/ab-av/$arm-$i.log 2>&1)
    f=$(grep -o 'bench/results/[^ ]*\.json' /tmp/ab-av/$arm-$i.log | tail -1)
    cp $d/$f /tmp/ab-av/$arm-$i.json; rm -f $d/$f $d/${f%.json}.md
  done
done
echo finished
