/** `npm run bench` entry (placeholder). */
process.stdout.write('no benchmarks yet\n');
