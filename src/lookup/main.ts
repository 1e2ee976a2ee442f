/** The Splunk lookup script entry point (placeholder: the lookup issue replaces this file). */
process.stderr.write('feedtrace_lookup: not built yet\n');
process.exitCode = 1;
