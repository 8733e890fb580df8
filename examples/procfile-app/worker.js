// A background worker: no port, not routed; it just does work on a timer.
const interval = Number(process.env.WORK_INTERVAL_MS ?? 2000);
let job = 0;
console.log(`worker started (every ${interval} ms)`);
setInterval(() => console.log(`processed job ${++job}`), interval);
