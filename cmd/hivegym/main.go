// Command hivegym is the command line of the hivegym simulator: it trains and evaluates
// policies, runs simulations and sweeps, and reports metrics. Run `hivegym --help`.
//
// The commands live in this package, one file per command, each with an options struct
// and a run function that the tests call directly (the layout of cli/cli). main only
// calls Main and exits with its code.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
