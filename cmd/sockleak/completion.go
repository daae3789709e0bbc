package main

import (
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sockleak/sockleak/client"
	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
	"github.com/sockleak/sockleak/report"
)

// Shell completion (cobra's completion command and its hidden __complete):
// the values of every flag that takes one of a few, explain's states, and
// the running processes for --pid. Flags that name no file (a count, an
// address, a pattern) complete to nothing rather than to file names.

// outputFormats are each command's -o values, with what each prints.
var outputFormats = map[string][]cobra.Completion{
	"inspect": {
		cobra.CompletionWithDesc("text", "findings, processes, top peers and the system, as tables (the default)"),
		cobra.CompletionWithDesc("json", "one JSON document (docs/schemas/inspect.schema.json)"),
	},
	"check": {
		cobra.CompletionWithDesc("text", "one line per violation, then a summary (the default)"),
		cobra.CompletionWithDesc("json", "the inspect document and the violations (docs/schemas/check.schema.json)"),
		cobra.CompletionWithDesc("nagios", "a Nagios plugin line with performance data; exit 0-3"),
		cobra.CompletionWithDesc("prometheus", "the Prometheus text exposition format"),
	},
	"run": {
		cobra.CompletionWithDesc("text", "the leaks, in words (the default)"),
		cobra.CompletionWithDesc("json", "one JSON document (docs/schemas/run.schema.json)"),
	},
	"trace": {
		cobra.CompletionWithDesc("text", "each opening stack with its sockets (the default)"),
		cobra.CompletionWithDesc("json", "one JSON document (docs/schemas/trace.schema.json)"),
	},
	"watch": {
		cobra.CompletionWithDesc("live", "a view redrawn each interval (the default on a terminal)"),
		cobra.CompletionWithDesc("text", "a line per sample and alert (the default otherwise)"),
		cobra.CompletionWithDesc("json", "a JSON line per sample and alert (docs/schemas/watch-line.schema.json)"),
	},
}

// pathFlags name a file or directory: the shell completes them as usual.
var pathFlags = map[string]bool{"proc-root": true, "textfile": true, "report-file": true, "web.config.file": true}

// registerCompletions registers the completions of every command of root.
// It runs once the commands are built, so it finds a flag wherever it is
// registered (the scan flags are each scanning command's own).
func registerCompletions(root *cobra.Command) {
	states := stateCompletions()
	metrics := slices.Concat(states, []cobra.Completion{cobra.CompletionWithDesc("fd-usage", "open fds, in percent of the soft limit")})
	fixed := map[string]cobra.CompletionFunc{
		"state":      listValues(states, true),
		"leak-state": listValues(states, true),
		"max-state":  keyValues(states),
		"warn":       keyValues(metrics),
		"crit":       keyValues(metrics),
		"warning":    keyValues(metrics),
		"critical":   keyValues(metrics),
		"backend":    listValues(backendCompletions(), false),
		"behaviour":  listValues(behaviourCompletions(), false),
		"close": listValues([]cobra.Completion{
			cobra.CompletionWithDesc("graceful", "FIN with shutdown, then close (the default)"),
			cobra.CompletionWithDesc("abort", "SO_LINGER 0: RST, no TIME_WAIT"),
		}, false),
		"pid": completePIDs,
	}
	for _, c := range root.Commands() {
		if out, ok := outputFormats[c.Name()]; ok {
			_ = c.RegisterFlagCompletionFunc("output", listValues(out, false))
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if _, ok := c.GetFlagCompletionFunc(f.Name); ok || pathFlags[f.Name] {
				return
			}
			fn, ok := fixed[f.Name]
			if !ok {
				fn = cobra.NoFileCompletions
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, fn)
		})
		if c.Name() == "explain" {
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return listValues(states, false)(nil, nil, toComplete)
			}
		}
	}
}

// stateCompletions are the TCP states in the kernel's order, with what
// each means.
func stateCompletions() []cobra.Completion {
	out := make([]cobra.Completion, 0, len(inspect.States))
	for _, st := range inspect.States {
		meaning := ""
		for _, e := range report.Explanations {
			if e.State == st {
				meaning = e.Meaning
			}
		}
		out = append(out, cobra.CompletionWithDesc(st.String(), meaning))
	}
	return out
}

func backendCompletions() []cobra.Completion {
	desc := map[inspect.Backend]string{
		inspect.BackendAuto: "netlink, else /proc/net/tcp (the default)",
		"netlink":           "sock_diag, as ss does",
		"proc":              "PROC_ROOT/net/tcp{,6}",
	}
	var out []cobra.Completion
	for _, b := range inspect.Backends() {
		out = append(out, cobra.CompletionWithDesc(string(b), desc[b]))
	}
	return out
}

func behaviourCompletions() []cobra.Completion {
	var out []cobra.Completion
	for _, b := range client.Behaviours {
		out = append(out, string(b))
	}
	return out
}

// listValues completes one of values. With list, the flag takes several,
// comma-separated (--state close-wait,fin-wait-2): the last one is
// completed after the others. A value typed in lower case is completed in
// lower case, with hyphens (close-wait), as ParseState reads it too.
func listValues(values []cobra.Completion, list bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		done, partial := "", toComplete
		if list {
			if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
				done, partial = toComplete[:i+1], toComplete[i+1:]
			}
		}
		lower := partial != "" && partial != strings.ToUpper(partial)
		var out []cobra.Completion
		for _, v := range values {
			name, desc, _ := strings.Cut(v, "\t")
			if lower {
				name = strings.ReplaceAll(strings.ToLower(name), "_", "-")
			}
			if !strings.HasPrefix(strings.ToLower(name), strings.ToLower(partial)) {
				continue
			}
			out = append(out, cobra.CompletionWithDesc(done+name, desc))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// keyValues completes the METRIC of a METRIC=RANGE flag (-w, -c,
// --max-state), leaving the cursor after the "=" for the range; after a
// comma (-w close-wait=5,fd-usage=80), the next METRIC.
func keyValues(keys []cobra.Completion) cobra.CompletionFunc {
	lowered := make([]cobra.Completion, len(keys))
	for i, k := range keys {
		name, desc, _ := strings.Cut(k, "\t")
		lowered[i] = cobra.CompletionWithDesc(strings.ReplaceAll(strings.ToLower(name), "_", "-")+"=", desc)
	}
	return func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		last := toComplete[strings.LastIndexByte(toComplete, ',')+1:]
		if strings.Contains(last, "=") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out, _ := listValues(lowered, true)(c, args, toComplete[:len(toComplete)-len(last)]+strings.ToLower(last))
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// completePIDs completes --pid with the processes of --proc-root (or
// /proc), each with its name, escaped: a process names itself.
func completePIDs(c *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	root := inspect.DefaultRoot
	if f := c.Flags().Lookup("proc-root"); f != nil && f.Value.String() != "" {
		root = f.Value.String()
	}
	done, partial := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done, partial = toComplete[:i+1], toComplete[i+1:]
	}
	fsys, err := inspect.NewFS(root)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	procs, err := fsys.ProcessNames()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, p := range procs {
		pid := strconv.Itoa(p.PID)
		if strings.HasPrefix(pid, partial) {
			out = append(out, cobra.CompletionWithDesc(done+pid, wording.Escape(p.Name)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
