/**
 * Preloaded into a service by the bench (`NODE_OPTIONS=--require ...`) when it profiles: Node 20
 * refuses `--cpu-prof` in NODE_OPTIONS, and a profile of the whole process life would be mostly
 * start-up. Here SIGWINCH starts the V8 sampling profiler and the next SIGWINCH stops it and writes
 * `<TALLY_CPU_PROFILE_DIR>/<app>-<pid>-<n>.cpuprofile`, so the profile covers exactly the window the
 * bench measures. Open it in Chrome DevTools or summarise it with cpu-profile.ts.
 *
 * SIGWINCH because Nest's shutdown hooks claim SIGUSR2 (and SIGUSR1 opens the inspector), and
 * because its default action is to do nothing: a process without this preload ignores it.
 */
// Plain JavaScript, so that profiling does not load a TypeScript compiler into the service it measures.
const { writeFileSync } = require('node:fs');
const { Session } = require('node:inspector');
const path = require('node:path');

const dir = process.env.TALLY_CPU_PROFILE_DIR;
if (dir) {
  const app = /apps\/([^/]+)\//.exec(process.argv[1] ?? '')?.[1] ?? 'node';
  const session = new Session();
  session.connect();
  let profiling = false;
  let written = 0;
  process.on('SIGWINCH', () => {
    if (!profiling) {
      profiling = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')),
      );
      return;
    }
    profiling = false;
    session.post('Profiler.stop', (error, result) => {
      if (error) {
        process.stderr.write(`cpu profile: ${error.message}\n`);
        return;
      }
      const file = path.join(dir, `${app}-${process.pid}-${++written}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
      process.stderr.write(`cpu profile written: ${file}\n`);
    });
  });
}
