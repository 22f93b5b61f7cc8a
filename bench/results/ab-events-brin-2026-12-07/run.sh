#!/bin/bash
# alternating pairs: events_created_idx as btree (migrations) vs brin, on the bench's seed template
ARGS="--only chat --chat-via ws --chat-workloads ours --chat-rates 1000,2000,5000 --no-profile --reuse-seed --reps 1"
P="psql -h 127.0.0.1 -U root -d mr_bench_seed_s1 -qc"
for i in 1 2 3 4; do
  for arm in btree brin; do
    $P "DROP INDEX events_created_idx"; $P "CREATE INDEX events_created_idx ON events USING $arm (created_at)"
    (cd /work/main && node dist/bench/run.js $ARGS > /tmp/ab-brin/$arm-$i.log 2>&1)
    f=$(grep -o 'bench/results/[^ ]*\.json' /tmp/ab-brin/$arm-$i.log | tail -1)
    cp /work/main/$f /tmp/ab-brin/$arm-$i.json; rm -f /work/main/$f /work/main/${f%.json}.md
  done
done
$P "DROP INDEX events_created_idx"; $P "CREATE INDEX events_created_idx ON events USING btree (created_at)"
echo finished
