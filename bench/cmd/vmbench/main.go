// Command vmbench measures a Docker volume plugin from outside, through its
// socket, the way the daemon talks to it, against the protocol floor: a
// plugin that answers every call without doing anything, run as a process
// of its own in the same run. See bench/doc.go for the whole suite.
//
// Usage:
//
//	vmbench run -plugin BIN -out ROWS [flags]   measure volmount (root only)
//	vmbench floor -socket PATH [-root DIR]      serve the protocol floor
//	vmbench gobench -out ROWS < go-test-output  rows from go test -bench
//	vmbench table ROWS...                       print the results table
//	vmbench drive -socket PATH -op get|list|cycle  load a running plugin, to profile it
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/volmount/volmount/bench/wire"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "run":
		err = runCmd(args)
	case "floor":
		err = floorCmd(args)
	case "gobench":
		err = gobenchCmd(args)
	case "table":
		err = tableCmd(args)
	case "drive":
		err = driveCmd(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: vmbench run|floor|gobench|table|drive [flags];",
		"see go doc ./bench/cmd/vmbench")
	os.Exit(2)
}

// floorCmd serves the protocol floor until SIGTERM or SIGINT.
func floorCmd(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	socket := fs.String("socket", "", "unix socket to listen on")
	root := fs.String("root", "/mnt/volumes", "directory the mountpoints it names would lie in")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the floor to this file")
	mkdirs := fs.Bool("mkdir", false, "make each volume's mountpoint under -root, "+
		"as a managed plugin must")
	fs.Parse(args)
	if *socket == "" {
		return fmt.Errorf("floor: -socket is required")
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	errs := make(chan error, 1)
	floor := wire.NewFloor(*root)
	floor.MakeDirs = *mkdirs
	go func() { errs <- floor.Serve(*socket) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case err := <-errs:
		return err
	case <-sig:
		os.Remove(*socket)
		return nil
	}
}

// tableCmd prints the rows of every file given, in order, as one table.
func tableCmd(args []string) error {
	var rows []Row
	for _, path := range args {
		r, err := readRows(path)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	printTable(os.Stdout, rows)
	return nil
}
