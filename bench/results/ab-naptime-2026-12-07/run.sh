#!/bin/bash
# alternating: autovacuum_naptime 1min (default) vs 10s, chat-only HTTP then graphql-ws at 1000 msg/s (the full run's order)
ARGS="--only chat --chat-via http,ws --chat-workloads ours --chat-rates 1000,2000 --no-profile --reuse-seed --reps 1"
P="psql -h 127.0.0.1 -U root -d postgres -qc"
for i in 1 2 3; do
  for arm in 1min 10s; do
    $P "ALTER SYSTEM SET autovacuum_naptime = '$arm'"; $P "SELECT pg_reload_conf()"
    (cd /work/main && node dist/bench/run.js $ARGS > /tmp/ab-nap/$arm-$i.log 2>&1)
    f=$(grep -o 'bench/results/[^ ]*\.json' /tmp/ab-nap/$arm-$i.log | tail -1)
    cp /work/main/$f /tmp/ab-nap/$arm-$i.json; rm -f /work/main/$f /work/main/${f%.json}.md
  done
done
$P "ALTER SYSTEM RESET autovacuum_naptime"; $P "SELECT pg_reload_conf()"
echo finished
