"use strict";
// Runs one of the prebuilt executables of this platform's package (`mainstay-hooks-<os>-<cpu>`,
// the optional dependency npm installed for this machine alone), passing arguments, standard
// streams and the exit status through.
const { spawnSync } = require("child_process");
const path = require("path");

module.exports = function launch(name) {
  const platform = `mainstay-hooks-${process.platform}-${process.arch}`;
  let dir;
  try {
    dir = path.dirname(require.resolve(`${platform}/package.json`));
  } catch (_) {
    fail(
      `${platform} is not installed: either npm skipped optional dependencies ` +
        "(install without --omit=optional / --no-optional), or no prebuilt executables exist " +
        "for this platform (build from source: cargo install mainstay)"
    );
  }
  const exe = path.join(dir, "bin", name);
  const run = spawnSync(exe, process.argv.slice(2), { stdio: "inherit" });
  if (run.error) {
    fail(`cannot run ${exe}: ${run.error.message}`);
  }
  if (run.signal) {
    // Die of the same signal, so that the caller sees what the executable saw.
    process.kill(process.pid, run.signal);
  }
  process.exit(run.status);
};

function fail(message) {
  process.stderr.write(`mainstay-hooks: ${message}\n`);
  process.exit(2);
}
