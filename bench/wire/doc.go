// Package wire speaks Docker's Volume Plugin API over a unix socket the way
// Docker Engine 26.1.5 does (shared/PROTOCOL.md §1), and serves the
// protocol floor: the cheapest plugin that still answers every call
// correctly.
//
// The benchmarks drive volmount and the floor through the same Client, so
// that what they compare is the plugin's own work and nothing else.
package wire
