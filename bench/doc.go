// Package bench holds volmount's benchmarks (issue 3): what volmount costs
// a user per container start and per `docker volume ls`, measured against
// the references a user would compare with, in the same run, as ratios.
//
// `make bench` runs them all and prints one table:
//
//   - bench/container-start.sh: `docker run --rm` with a volmount volume
//     against a local volume, in the private test engine;
//   - the Go benchmarks here: the plugin round trip (the volmount binary
//     against the protocol floor, both out of process) and the in-process
//     cycle (driver/ against Docker's own volume/local);
//   - cmd/vmbench: the round trip, scale (100 to 10,000 volumes),
//     concurrency and a stuck backend, through the plugin socket.
//
// Every comparison is paired: volmount and its reference run alternately,
// and the reported ratio is the median of the per-pair ratios, so that a
// burst of load from another process slows both sides of a pair.
// bench/RESULTS.md records the results and what they mean.
package bench
