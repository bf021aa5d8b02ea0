package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the factoryctl version",
		Example: "  factoryctl version",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionString(debug.ReadBuildInfo()))
			return err
		},
	}
}

// versionString describes the build: module version (or "(devel)"), VCS
// revision when stamped, and Go version.
func versionString(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "factoryctl (unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	out := "factoryctl " + v
	if rev != "" {
		out += " (" + rev + dirty + ")"
	}
	return out + " " + bi.GoVersion
}
