// Allocation sampling for the whole life of the process, collected objects included; written at exit.
const inspector = require('node:inspector');
const fs = require('node:fs');
if (require('node:worker_threads').isMainThread) {
  const session = new inspector.Session();
  session.connect();
  session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, (err) => { if (err) fs.writeFileSync('/tmp/allocprobe.err', String(err.message)); });
  process.on('exit', () => {
    session.post('HeapProfiler.stopSampling', (err, r) => {
      if (err) return fs.writeFileSync('/tmp/allocprobe.err', String(err.message));
      fs.writeFileSync(`/tmp/alloc-${process.pid}.heapprofile`, JSON.stringify(r.profile));
    });
  });
}
