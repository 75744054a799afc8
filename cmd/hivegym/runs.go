package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/hivegym/hivegym/experiments/store"
	"github.com/hivegym/hivegym/internal/jsonfloat"
	"github.com/spf13/cobra"
)

// defaultStore is the store `hivegym runs` reads when --store is not given.
const defaultStore = "runs.db"

func newRunsCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs <command>",
		Short: "List, show, merge and export the runs of a run store",
		Long: `A run store is the SQLite file (runs.db) that 'hivegym sweep' writes: every run of a
sweep with its params, resolved config, status and error, training curves and final
metrics per agent and per group. --store takes the file or the directory that holds
runs.db. A run is named by its id or any unique prefix of it.`,
		Example: `  hivegym runs list --store runs/scenarios
  hivegym runs show 3f2a9c --store runs/scenarios
  hivegym runs merge --out runs/all.db runs/shard-*/runs.db
  hivegym runs export 3f2a9c --store runs/scenarios --out 3f2a9c.csv`,
	}
	cmd.AddCommand(newRunsListCmd(ios), newRunsShowCmd(ios), newRunsMergeCmd(ios), newRunsExportCmd(ios))
	return cmd
}

// storePath resolves --store: a directory means the runs.db inside it.
func storePath(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return filepath.Join(p, "runs.db")
	}
	return p
}

func openStore(p string) (*store.Store, error) {
	path := storePath(p)
	st, err := store.OpenExisting(path)
	if err != nil {
		return nil, storeError(path, err)
	}
	return st, nil
}

// runError makes an unknown or ambiguous run id bad input.
func runError(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAmbiguous) {
		return &usageError{msg: err.Error()}
	}
	return err
}

// --- list ---

type runsListOptions struct {
	IO    *IOStreams
	Store string
	Sweep string
	JSON  bool
}

func newRunsListCmd(ios *IOStreams) *cobra.Command {
	opts := &runsListOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "list [--store F] [--json]",
		Short: "List the runs of a store: id, sweep, index, status, seed, name, error",
		Example: `  hivegym runs list --store runs/scenarios
  hivegym runs list --store runs/scenarios/runs.db --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRunsList(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Store, "store", defaultStore, "run store: a runs.db file or the directory that holds it")
	f.StringVar(&opts.Sweep, "sweep", "", "list only the runs of this sweep")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document on stdout")
	return cmd
}

// runJSON is a run in `hivegym runs ... --json`.
type runJSON struct {
	ID     string          `json:"id"`
	Sweep  string          `json:"sweep"`
	Index  int             `json:"index"`
	Name   string          `json:"name"`
	Params json.RawMessage `json:"params"`
	Seed   uint64          `json:"seed"`
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Shard  string          `json:"shard"`
	// Owner is the process running a running run ("host/pid"); Stale says that process
	// is gone (killed): a resumed sweep runs it again.
	Owner string `json:"owner,omitempty"`
	Stale bool   `json:"stale,omitempty"`
}

func toRunJSON(r store.Run) runJSON {
	params := json.RawMessage(r.Params)
	if !json.Valid(params) {
		b, _ := json.Marshal(r.Params)
		params = b
	}
	return runJSON{ID: r.ID, Sweep: r.Sweep, Index: r.Index, Name: r.Name, Params: params,
		Seed: r.Seed, Status: string(r.Status), Error: r.Error, Shard: r.Shard}
}

func runRunsList(ctx context.Context, opts *runsListOptions) error {
	st, err := openStore(opts.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	all, err := st.List(ctx)
	if err != nil {
		return err
	}
	owners, err := st.Owners(ctx)
	if err != nil {
		return err
	}
	// stale: a running run whose process is gone.
	stale := func(r store.Run) bool {
		o, ok := owners[r.ID]
		return r.Status == store.StatusRunning && (!ok || !store.Alive(o))
	}
	var runs []store.Run
	for _, r := range all {
		if opts.Sweep == "" || r.Sweep == opts.Sweep {
			runs = append(runs, r)
		}
	}
	if opts.JSON {
		doc := struct {
			Store string    `json:"store"`
			Runs  []runJSON `json:"runs"`
		}{Store: st.Path(), Runs: []runJSON{}}
		for _, r := range runs {
			j := toRunJSON(r)
			if r.Status == store.StatusRunning {
				j.Owner, j.Stale = owners[r.ID], stale(r)
			}
			doc.Runs = append(doc.Runs, j)
		}
		return writeJSON(opts.IO.Out, doc)
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSWEEP\t#\tSTATUS\tSEED\tNAME\tERROR")
	counts := map[store.Status]int{}
	nStale := 0
	for _, r := range runs {
		counts[r.Status]++
		status, note := string(r.Status), oneLine(r.Error, 60)
		if stale(r) {
			nStale++
			status = "stale"
			note = "its process is gone"
			if o := owners[r.ID]; o != "" {
				note = "its process " + o + " is gone"
			}
			note += "; sweep --resume runs it again"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\n", r.ID, r.Sweep, r.Index, status, r.Seed, r.Name, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	staleNote := ""
	if nStale > 0 {
		staleNote = fmt.Sprintf(" (%d stale)", nStale)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%d runs: %d done, %d failed, %d running%s, %d pending\n", len(runs),
		counts[store.StatusDone], counts[store.StatusFailed], counts[store.StatusRunning], staleNote, counts[store.StatusPending])
	return err
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}

// --- show ---

type runsShowOptions struct {
	IO     *IOStreams
	Store  string
	ID     string
	Config bool
	JSON   bool
}

func newRunsShowCmd(ios *IOStreams) *cobra.Command {
	opts := &runsShowOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "show ID [--store F] [--json] [--config]",
		Short: "Show one run: params, status, error, final metrics and a summary of its curves",
		Example: `  hivegym runs show 3f2a9c --store runs/scenarios
  hivegym runs show 3f2a9c --store runs/scenarios --config > run.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runRunsShow(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Store, "store", defaultStore, "run store: a runs.db file or the directory that holds it")
	f.BoolVar(&opts.Config, "config", false, "print only the run's resolved config (YAML)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document on stdout: the run, its config, curves and metrics")
	return cmd
}

type curveJSON struct {
	Iteration int             `json:"iteration"`
	Group     string          `json:"group"`
	Metric    string          `json:"metric"`
	Value     jsonfloat.Float `json:"value"`
}

type metricJSON struct {
	Scope  string          `json:"scope"`
	Key    string          `json:"key"`
	Role   string          `json:"role"`
	Metric string          `json:"metric"`
	Value  jsonfloat.Float `json:"value"`
}

func runRunsShow(ctx context.Context, opts *runsShowOptions) error {
	st, err := openStore(opts.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.Get(ctx, opts.ID)
	if err != nil {
		return runError(err)
	}
	if opts.Config {
		_, err := fmt.Fprint(opts.IO.Out, r.Config)
		return err
	}
	cs, err := st.Curves(ctx, r.ID)
	if err != nil {
		return err
	}
	ms, err := st.Metrics(ctx, r.ID)
	if err != nil {
		return err
	}
	if opts.JSON {
		doc := struct {
			Run     runJSON      `json:"run"`
			Config  string       `json:"config"`
			Curves  []curveJSON  `json:"curves"`
			Metrics []metricJSON `json:"metrics"`
		}{Run: toRunJSON(r), Config: r.Config, Curves: []curveJSON{}, Metrics: []metricJSON{}}
		for _, p := range cs {
			doc.Curves = append(doc.Curves, curveJSON{p.Iteration, p.Group, p.Metric, jsonfloat.Float(p.Value)})
		}
		for _, m := range ms {
			doc.Metrics = append(doc.Metrics, metricJSON{string(m.Scope), m.Key, m.Role, m.Name, jsonfloat.Float(m.Value)})
		}
		return writeJSON(opts.IO.Out, doc)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "id:      %s\nsweep:   %s (run %d)\nname:    %s\nseed:    %d\nstatus:  %s\n", r.ID, r.Sweep, r.Index, r.Name, r.Seed, r.Status)
	if r.Error != "" {
		fmt.Fprintf(w, "error:   %s\n", r.Error)
	}
	if r.Shard != "" {
		fmt.Fprintf(w, "shard:   %s\n", r.Shard)
	}
	fmt.Fprintf(w, "params:  %s\n", r.Params)
	if len(ms) > 0 {
		fmt.Fprintf(w, "\nfinal metrics:\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  SCOPE\tKEY\tROLE\tMETRIC\tVALUE")
		for _, m := range ms {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", m.Scope, m.Key, m.Role, m.Name, fmtValue(m.Value))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(cs) > 0 {
		fmt.Fprintf(w, "\ncurves:\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  GROUP\tMETRIC\tPOINTS\tITERATIONS\tLAST VALUE")
		for i := 0; i < len(cs); {
			j := i
			for j < len(cs) && cs[j].Group == cs[i].Group && cs[j].Metric == cs[i].Metric {
				j++
			}
			g := cs[i].Group
			if g == "" {
				g = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d..%d\t%s\n", g, cs[i].Metric, j-i, cs[i].Iteration, cs[j-1].Iteration, fmtValue(cs[j-1].Value))
			i = j
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(w, "\n(resolved config: hivegym runs show %s --store %s --config)\n", r.ID, st.Path())
	return err
}

func fmtValue(x float64) string { return fmt.Sprintf("%.6g", x) }

// --- merge ---

type runsMergeOptions struct {
	IO   *IOStreams
	Out  string
	Srcs []string
	JSON bool
}

func newRunsMergeCmd(ios *IOStreams) *cobra.Command {
	opts := &runsMergeOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "merge --out F STORE...",
		Short: "Join run stores (the shards of a sweep) into one",
		Long: `Copy the runs of every STORE into the store --out (created if missing), in one
transaction. The same run in two stores must agree: identical definitions, and identical
results when both are finished; a finished run replaces a pending or interrupted one.
Otherwise the merge fails (exit 1) naming every conflicting run, and --out is left as it
was.`,
		Example: `  hivegym runs merge --out runs/scenarios.db runs/shard-0 runs/shard-1`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Srcs = args
			return runRunsMerge(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "the store to merge into (required)")
	f.BoolVar(&opts.JSON, "json", false, "print the counts as one JSON document on stdout")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runRunsMerge(ctx context.Context, opts *runsMergeOptions) error {
	var srcs []*store.Store
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	for _, p := range opts.Srcs {
		s, err := openStore(p)
		if err != nil {
			return err
		}
		srcs = append(srcs, s)
	}
	out := storePath(opts.Out)
	if dir := filepath.Dir(out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return outPathError(dir, err)
		}
	}
	fresh := !fileExists(out)
	dst, err := store.Open(out)
	if err != nil {
		return storeError(out, err)
	}
	defer dst.Close()
	stats, err := store.Merge(ctx, dst, srcs...)
	if err != nil {
		// The merge is one transaction, so an existing --out is as it was; one the
		// merge created is removed rather than left as an empty store.
		if fresh {
			dst.Close()
			removeStore(out)
		}
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			Store      string `json:"store"`
			Sources    int    `json:"sources"`
			Added      int    `json:"added"`
			Updated    int    `json:"updated"`
			Same       int    `json:"same"`
			Unfinished int    `json:"unfinished"`
		}{out, len(srcs), stats.Added, stats.Updated, stats.Same, stats.Unfinish})
	}
	stores := "stores"
	if len(srcs) == 1 {
		stores = "store"
	}
	_, err = fmt.Fprintf(opts.IO.Out, "merged %d %s into %s: %d runs added, %d finished runs updated, %d already there, %d unfinished left as they were\n",
		len(srcs), stores, out, stats.Added, stats.Updated, stats.Same, stats.Unfinish)
	return err
}

// --- export ---

type runsExportOptions struct {
	IO    *IOStreams
	Store string
	ID    string
	Out   string
}

func newRunsExportCmd(ios *IOStreams) *cobra.Command {
	opts := &runsExportOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "export ID [--store F] [--out F.csv]",
		Short: "Write a run's curves and final metrics as CSV",
		Long: `Write one run's curves and final metrics as a long-format CSV table with the header
kind,iteration,scope,key,role,metric,value: "curve" rows (iteration, group as scope/key,
metric, value) and then "metric" rows (scope agent or group, key, role, metric, value).
Numbers are in Go's shortest round-trip form; non-finite ones NaN, +Inf, -Inf.`,
		Example: `  hivegym runs export 3f2a9c --store runs/scenarios --out 3f2a9c.csv`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runRunsExport(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Store, "store", defaultStore, "run store: a runs.db file or the directory that holds it")
	f.StringVar(&opts.Out, "out", "", "CSV file to write (default: stdout)")
	return cmd
}

func runRunsExport(ctx context.Context, opts *runsExportOptions) error {
	st, err := openStore(opts.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.Get(ctx, opts.ID)
	if err != nil {
		return runError(err)
	}
	if opts.Out == "" {
		return st.ExportCSV(ctx, r.ID, opts.IO.Out)
	}
	f, err := os.Create(opts.Out)
	if err != nil {
		return outPathError(opts.Out, err)
	}
	bw := bufio.NewWriter(f)
	if err := st.ExportCSV(ctx, r.ID, bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", opts.Out)
	return err
}

// removeStore deletes a run store file with SQLite's side files.
func removeStore(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(p)
	}
}
