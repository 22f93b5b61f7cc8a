#!/bin/bash
# Alternated pairs on main's code (738acbb): the server and bench reach PostgreSQL over TCP 127.0.0.1 (tcp) or its Unix socket (unix).
cd "$(dirname "$0")"
for round in 1 2; do
  for arm in tcp unix; do
    url=postgres://root@127.0.0.1:5432/postgres; [ $arm = unix ] && url='postgres://root@localhost/postgres?host=/var/run/postgresql'
    (cd /work/main && BENCH_ADMIN_DATABASE_URL=$url node dist/bench/run.js --only chat --chat-via ws --chat-workloads ours --chat-rates 1000,5000 --no-profile --reuse-seed --reps 1 > /tmp/ab-sock/$arm-$round.log 2>&1)
    f=$(ls -t /work/main/bench/results/*.json | head -1); mv "$f" /tmp/ab-sock/$arm-$round.json; mv "${f%.json}.md" /tmp/ab-sock/$arm-$round.md
  done
done
