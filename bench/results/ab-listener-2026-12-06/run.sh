#!/bin/bash
# Alternated A/B: base (0e26c02) vs new (HEAD), chat over graphql-ws at 1000 and 5000 msg/s.
for i in 1 2 3; do
  for arm in base new; do
    if [ $arm = base ]; then dir=/tmp/wt-base; else dir=/work/main; fi
    (cd $dir && node dist/bench/run.js --only chat --chat-via ws --chat-workloads ours,bare --chat-rates 1000,5000 --no-profile --reuse-seed --reps 1 > /tmp/ab-listener/r$i-$arm.txt 2>&1)
    f=$(grep -o 'bench/results/[^ ]*\.json' /tmp/ab-listener/r$i-$arm.txt | head -1)
    cp $dir/$f /tmp/ab-listener/r$i-$arm.json; cp $dir/${f%.json}.md /tmp/ab-listener/r$i-$arm.md; rm -f $dir/$f $dir/${f%.json}.md
  done
done
echo done > /tmp/ab-listener/DONE
