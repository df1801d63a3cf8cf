// Command vitrine-bench compares vitrine with other compositors, side by
// side on the same machine and the same clients.
//
//	vitrine-bench compare [--seconds S] [--workloads LIST] [--vitrine PATH]
//	                      [--compositors LIST] [--json FILE]
//	vitrine-bench soak [--duration D] [--vitrine PATH] [--json FILE]
//
// Each workload runs under each compositor in turn (headless, CPU
// rendering, 1920x1080). The clients connect through a proxy in this
// process that counts wl_surface.commit requests and frame-callback done
// events the same way for every compositor; the compositor's CPU time,
// context switches and memory come from /proc. See README.md,
// "Benchmarks: vitrine-bench compare". soak runs vitrine under clients
// that come and go and fails on growth of its memory, fds or goroutines
// (README.md, "Soak: vitrine-bench soak").
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "compare":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return runCompare(ctx, args[1:], stdout, stderr)
	case "soak":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return runSoak(ctx, args[1:], stdout, stderr)
	case fullscreenClientCommand:
		return runFullscreenClient(args[1:], stdout, stderr)
	case floorLoopCommand:
		return runFloorLoop(args[1:], stdout, stderr)
	case floorEchoCommand:
		return runFloorEcho(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "vitrine-bench: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `usage: vitrine-bench compare [--seconds S] [--rounds N] [--workloads LIST] [--vitrine PATH] [--compositors LIST] [--json FILE]
       vitrine-bench soak [--duration D] [--vitrine PATH] [--json FILE]

workloads:   %s
compositors: %s
Run "vitrine-bench compare --help" for every flag.
`, workloadNames(), compositorNames())
}
